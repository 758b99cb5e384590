"""Where an aggregate's event sits in the log: its notification id, the position that a
write reports and that readers wait for."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import Recorder
from eventsourcing.popo import POPOApplicationRecorder

from ledger.store.postgres import ChainedPostgresApplicationRecorder
from ledger.store.sqlite import ChainedSQLiteApplicationRecorder


def event_position(recorder: Recorder, originator_id: UUID, version: int) -> int | None:
    """The log position of the event `version` of `originator_id`, or None if not stored."""
    if isinstance(recorder, ChainedSQLiteApplicationRecorder | ChainedPostgresApplicationRecorder):
        return recorder.select_position(originator_id, version)
    assert isinstance(recorder, POPOApplicationRecorder), type(recorder)
    # The in-memory recorder (unit tests) has no query for this; its index is the answer.
    index = recorder._stored_events_index.get(str(originator_id), {}).get(version)
    return None if index is None else index + 1
