"""The offline verifier: `fund-ledger export events FILE` writes the log with its chain hashes;
`fund-ledger verify --file FILE --head HASH` checks such a file with no database at all.

It accepts a true export (against its own head, or the head of an earlier export: a grown
ledger keeps its history), and rejects a file with an event altered, removed, inserted or
reordered, one rewritten consistently (hashes recomputed) or cut short, and one exported from
a database altered behind the application's back.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.audit.events_file import verify_events_file
from ledger.store.chain import GENESIS_HASH
from tests.e2e.test_export_tools import audited_ledger, cli
from tests.integration.test_chain_verify import RawLedger

NO_DATABASE = "sqlite:////nonexistent/directory/ledger.sqlite"


def export(url: str, path: Path) -> tuple[list[dict[str, Any]], str]:
    result = cli(url, "export", "events", str(path), "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    head = json.loads(result.stdout)["head_hash"]
    return lines, head


def write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def verify_file(path: Path, head: str) -> Any:
    """Through the CLI, on a database URL that does not exist: no database is opened."""
    return cli(NO_DATABASE, "verify", "--file", str(path), "--head", head)


def documented_hash(previous: str, line: dict[str, Any]) -> str:
    """`chain_hash` reimplemented from its docstring alone, as an auditor would."""
    topic = line["topic"].encode()
    state = base64.b64decode(line["state"])
    return hashlib.sha256(
        bytes.fromhex(previous)
        + line["position"].to_bytes(8, "big", signed=True)
        + UUID(line["originator_id"]).bytes
        + line["originator_version"].to_bytes(8, "big", signed=True)
        + len(topic).to_bytes(4, "big")
        + topic
        + len(state).to_bytes(8, "big")
        + state
    ).hexdigest()


def rehashed(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines with every hash recomputed: a consistent forgery."""
    previous, result = GENESIS_HASH, []
    for line in lines:
        previous = documented_hash(previous, line)
        result.append({**line, "hash": previous})
    return result


@pytest.fixture
def exported(sqlite_url: str, tmp_path: Path) -> tuple[list[dict[str, Any]], str]:
    """An export from SQLite: the file's checks do not depend on the database it came from."""
    with audited_ledger(sqlite_url, steps=20):
        return export(sqlite_url, tmp_path / "events.jsonl")


def test_a_true_export_verifies_without_a_database(database_url: str, tmp_path: Path) -> None:
    with audited_ledger(database_url, steps=20):
        lines, head = export(database_url, tmp_path / "events.jsonl")
    result = verify_file(tmp_path / "events.jsonl", head)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"file verified: {len(lines)} events, head {head}")
    assert not Path("/nonexistent/directory").exists()


def test_the_exported_hashes_follow_the_documented_layout(
    exported: tuple[list[dict[str, Any]], str],
) -> None:
    lines, head = exported
    assert rehashed(lines) == lines
    assert lines[-1]["hash"] == head
    assert list(lines[0]) == ["position", "originator_id", "originator_version", "topic",
                              "state", "hash"]  # fmt: skip


def test_a_grown_ledger_still_reaches_the_head_of_an_earlier_export(
    database_url: str, tmp_path: Path
) -> None:
    with audited_ledger(database_url, steps=10) as (_ledger, _engine, history):
        _lines, earlier_head = export(database_url, tmp_path / "earlier.jsonl")
        for _ in range(10):
            history.step()
        lines, head = export(database_url, tmp_path / "later.jsonl")
    assert head != earlier_head
    result = verify_file(tmp_path / "later.jsonl", earlier_head)
    assert result.exit_code == 0, result.output
    earlier_position = next(line["position"] for line in lines if line["hash"] == earlier_head)
    assert result.stdout.rstrip().endswith(f"the given head is at position {earlier_position}")


def altered_state(line: dict[str, Any]) -> dict[str, Any]:
    state = base64.b64decode(line["state"]).replace(b"1", b"2", 1) + b" "
    return {**line, "state": base64.b64encode(state).decode()}


def tampered_files(lines: list[dict[str, Any]]) -> dict[str, tuple[list[dict[str, Any]], str]]:
    """Each kind of tampering, and the fault kind that must name it."""
    middle = len(lines) // 2
    copy = {**lines[middle], "position": lines[middle]["position"] + 1}
    return {
        "altered": ([*lines[:middle], altered_state(lines[middle]), *lines[middle + 1 :]],
                    "altered"),
        "removed": ([*lines[:middle], *lines[middle + 1 :]], "altered"),
        "inserted": ([*lines[: middle + 1], copy, *lines[middle + 1 :]], "altered"),
        "reordered": ([*lines[:middle], lines[middle + 1], lines[middle], *lines[middle + 2 :]],
                      "altered"),
        "duplicated": ([*lines[: middle + 1], lines[middle], *lines[middle + 1 :]],
                       "out-of-order"),
        "swapped contents": (
            [*lines[:middle],
             {**lines[middle + 1], "position": lines[middle]["position"]},
             {**lines[middle], "position": lines[middle + 1]["position"]},
             *lines[middle + 2 :]],
            "altered",
        ),
        "rewritten consistently": (rehashed([*lines[:middle], altered_state(lines[middle]),
                                             *lines[middle + 1 :]]), "head-mismatch"),
        "cut short": (lines[:-1], "head-mismatch"),
    }  # fmt: skip


@pytest.mark.parametrize(
    "tampering",
    ["altered", "removed", "inserted", "reordered", "duplicated", "swapped contents",
     "rewritten consistently", "cut short"],
)  # fmt: skip
def test_a_tampered_file_is_rejected_naming_the_fault(
    exported: tuple[list[dict[str, Any]], str], tmp_path: Path, tampering: str
) -> None:
    lines, head = exported
    tampered, kind = tampered_files(lines)[tampering]
    result = verify_file(write(tmp_path / "tampered.jsonl", tampered), head)
    assert result.exit_code == 1
    assert f"({kind})" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_head_that_is_no_hash_of_the_file_is_rejected(
    exported: tuple[list[dict[str, Any]], str], tmp_path: Path
) -> None:
    result = verify_file(tmp_path / "events.jsonl", "ab" * 32)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {tmp_path / 'events.jsonl'}: head (head-mismatch)")


def test_an_export_of_a_tampered_database_is_rejected(database_url: str, tmp_path: Path) -> None:
    with audited_ledger(database_url, steps=10):
        _lines, head = export(database_url, tmp_path / "before.jsonl")
        raw = RawLedger(database_url)
        position = raw.execute("SELECT MIN({position}) FROM stored_events")[0][0] + 3
        state = bytes(raw.execute("SELECT state FROM stored_events WHERE {position} = %s",
                                  (position,))[0][0])  # fmt: skip
        raw.execute("UPDATE stored_events SET state = %s WHERE {position} = %s",
                    (state + b" ", position))  # fmt: skip
        raw.connection.close()
        export(database_url, tmp_path / "after.jsonl")
    result = verify_file(tmp_path / "after.jsonl", head)
    assert result.exit_code == 1
    assert "line 4 (altered)" in result.stderr


def test_malformed_files_and_arguments_are_refused(
    exported: tuple[list[dict[str, Any]], str], tmp_path: Path
) -> None:
    _lines, head = exported
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text('{"position": 1}\n', encoding="utf-8")
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    cases = {
        "malformed": verify_file(garbage, head),
        "not UTF-8": verify_file(binary, head),
        "no such file": verify_file(tmp_path / "missing.jsonl", head),
        "64 hexadecimal": verify_file(tmp_path / "events.jsonl", "not-a-hash"),
        "go together": cli(NO_DATABASE, "verify", "--file", str(garbage)),
        "do not apply": cli(NO_DATABASE, "verify", "--all", "--file", str(garbage), "--head", head),
    }
    for expected, result in cases.items():
        assert result.exit_code == 1, expected
        assert expected in result.stderr, (expected, result.stderr)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_single_changed_byte_of_any_state_is_caught(data: st.DataObject) -> None:
    lines = rehashed([
        {"position": n, "originator_id": str(UUID(int=n % 3 + 1)), "originator_version": n,
         "topic": "ledger.donation:Donation.Recorded",
         "state": base64.b64encode(f'{{"amount_yen": {n * 1000}}}'.encode()).decode(),
         "hash": ""}
        for n in range(1, 9)
    ])  # fmt: skip
    head = lines[-1]["hash"]
    index = data.draw(st.integers(0, len(lines) - 1))
    state = bytearray(base64.b64decode(lines[index]["state"]))
    offset = data.draw(st.integers(0, len(state) - 1))
    state[offset] ^= data.draw(st.integers(1, 255))
    lines[index] = {**lines[index], "state": base64.b64encode(bytes(state)).decode()}
    report = verify_events_file([json.dumps(line) for line in lines], head)
    assert report.fault is not None
    assert report.fault.kind == "altered"
    assert report.event_count == index
