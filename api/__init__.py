"""The composition root: the command line (`api.cli`) and, later, the HTTP API wire the ledger,
its storage and the read models together. Nothing in `ledger/` imports from here."""
