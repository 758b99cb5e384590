"""The domain: funds, donors, donations and grants as event-sourced aggregates."""
