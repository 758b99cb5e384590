"""Write-throughput benchmark: the ledger's write path beside the bare eventsourcing library.

Run `python -m bench` (see `--help`). In each round, on PostgreSQL and SQLite, it measures,
each on a fresh database (a new PostgreSQL schema, a new SQLite file) after a warm-up:

- `ledger execute`: donations recorded one command at a time (`FundLedger.execute`);
- `ledger execute_batch`: donations recorded in batches (`FundLedger.execute_batch`);
- `bare save x1`: the bare library saving one one-event aggregate per `save` call, with the
  same persistence settings as the ledger but the library's stock recorders;
- `bare save xN`: the same with N aggregates per `save` call;
- `raw executemany`: rows of the same size inserted into a plain table (the events table's
  columns, no index, no lock), N rows per commit (psycopg on PostgreSQL, the stdlib `sqlite3`
  on SQLite): the floor under everything.

Before timing, each run warms up on its own database (100 commands one at a time, or two
batches), so the timed part finds the fund and every donor in the aggregate cache.

The bare aggregate's event carries a padding field so that its stored state has the same
number of bytes as a stored `Donation.Recorded`; raw rows have that size too.

The machine's speed drifts by 20-40% over minutes, so the measurements alternate within each
round (the order reversed every other round) and every ratio is the median of the ratios
measured side by side in one round, never a ratio of medians taken minutes apart.

Profiling: `python -m bench --profile` runs each ledger and bare measurement once under
cProfile and prints where the time per donation (or per event) goes, by call site;
`--profile-dir DIR` also keeps the `.prof` files for `python -m pstats` or snakeviz.
"""
