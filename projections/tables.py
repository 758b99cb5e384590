"""The one `MetaData` every read model declares its tables on, and the tracking table.

`projection_tracking` holds, per projector, the log position of the last event it applied.
A projector's table updates and its tracking row are written in one transaction, so the row
says exactly which events the tables hold.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

projection_tracking = sa.Table(
    "projection_tracking",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)
