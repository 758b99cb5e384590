"""The auditor's toolkit (issue 6): the journal exported to hledger, beancount and CSV, the
event log exported with its chain hashes and verified offline, `verify --all`, and the
history behind a figure or a record.

Everything here reads the event log (and, for `verify --all`, the read models); nothing here
writes to the ledger or to the live read models.
"""
