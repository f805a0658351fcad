"""The Redox destination past the input limits (docs/limits.md): a message past a limit is 413, a malformed
one 400, each with JSON paths and the limit broken and never a value; an event past a limit is still
logged as rejected before the answer.
"""

from __future__ import annotations

from slotfinder.store import CalendarStore
from tests.server.running import Server
from tests.support import example, seed

SECRET = "SSN-404-55-1212"


def _deep(levels: int) -> object:
    node: object = SECRET
    for _ in range(levels):
        node = {"a": node}
    return node


def test_a_query_past_a_limit_is_413_and_a_malformed_one_400(server: Server) -> None:
    """Too many providers or nesting too deep: 413 naming the path and the limit; no offset: 400."""
    crowded = seed()
    crowded["Visit"]["AttendingProviders"] = [{"ID": SECRET}] * 10_001
    deep = seed()
    deep["Patient"]["Demographics"] = _deep(40)
    malformed = seed()
    malformed["StartDateTime"] = "2025-10-22T08:00:00"
    for message, status, rule in (
        (crowded, 413, "(limit max_array_items)"),
        (deep, 413, "(limit max_depth)"),
        (malformed, 400, "UTC offset"),
    ):
        answer = server.post(message)
        assert answer.status_code == status, answer.text
        assert rule in answer.text and SECRET not in answer.text and "Traceback" not in answer.text


def test_an_event_past_a_limit_is_logged_as_rejected_then_413(server: Server) -> None:
    """A PushSlots of too many slots is refused before any slot is read, recorded as rejected, answered 413."""
    push = example("pushslots.json")
    push["Slots"] = push["Slots"][:1] * 10_001
    answer = server.post(push)
    assert answer.status_code == 413, answer.text
    body = answer.json()
    assert body["outcome"] == "rejected"
    assert body["errors"] == [{"path": "$.Slots", "rule": "more than 10000 items (limit max_array_items)"}]
    with CalendarStore(server.db) as store:
        assert store.entry(body["log"]) is not None and store.log()[-1].outcome == "rejected"


def test_json_nested_past_the_parser_is_413(server: Server) -> None:
    """A body nested deeper than the JSON parser goes: 413 with the depth limit, not a 500."""
    answer = server.post(b"[" * 100_000 + b"]" * 100_000)
    assert answer.status_code == 413 and "max_depth" in answer.text
