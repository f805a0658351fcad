"""The Redox destination's answers, apart from HTTP: a parsed message in, a status and a body out.

* ``Scheduling`` events the store applies (New, Reschedule, Modification, Cancel, NoShow, PushSlots) go
  to :meth:`CalendarStore.ingest`, which commits the message and its effect in one transaction before
  this returns: 200 means committed. A redelivered message changes nothing (the store's fold is
  idempotent). An event the store rejects (a missing VisitNumber, a date without offset...) is logged
  and recorded as rejected with its problems, then answered with the configured status: 200 by default
  (Redox goes on with the feed; the rejection is in the store's anomalies for triage), or 422 (Redox
  pauses the feed and retries the message until someone steps in).
* Anything else is read as an ``AvailableSlots`` query and answered with exactly the bytes
  ``slotfinder find --db`` prints for the same store and message; a message that is neither (another
  data model or event type, a query with bad fields) is answered 400 with the JSON paths of its problems.
* Both read the store through the worker's clinic cache (``ClinicCache``): the clinic record is parsed, and
  the calendars prepared, once per clinic version, and a query searches ``CalendarStore.prepared()``, the
  store's snapshot prepared (the same calendars, so the same answer).

Bodies carry JSON paths and rules, never a value of the message. Which event types the store applies
comes from the Redox edge (``EVENT_TYPES``) and the envelope is read with its wire model, so no Redox
field name is spelt here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import cattrs
from attrs import frozen

from slotfinder._errors import InvalidClinic, InvalidMessage, InvalidRequest, Problem
from slotfinder._limits import LimitExceeded, RequestTooLarge
from slotfinder.redox._api import find_slots_redox
from slotfinder.redox._events import EVENT_TYPES, parse_event, unhandled
from slotfinder.redox._parse import parse_request
from slotfinder.redox._wire import WireMeta, converter
from slotfinder.server._capacity import search_settings
from slotfinder.server._config import ServerConfig
from slotfinder.server._logs import note, note_search
from slotfinder.server._maintenance import request_store
from slotfinder.store._sqlite import ClinicCache

__all__ = ["JSON", "Reply", "answer_message", "problems_reply"]

JSON = "application/json"
_DATA_MODEL = "Scheduling"
NO_CLINIC = 503  # the store has no clinic yet: Redox retries later, once `slotfinder import` has run
TOO_LARGE = 413  # a message past a limit (docs/limits.md): malformed input is 400


@frozen
class Reply:
    """An HTTP answer: status, body bytes, media type and extra headers."""

    status: int
    body: bytes
    media_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()


def json_reply(status: int, data: Any, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    """A JSON answer (sorted keys: the same data gives the same bytes)."""
    return Reply(status, (json.dumps(data, sort_keys=True) + "\n").encode("utf-8"), JSON, headers)


def problems_reply(status: int, problems: Iterable[Problem], **extra: Any) -> Reply:
    """An error answer: ``{"errors": [{"path": ..., "rule": ...}, ...]}``, plus ``extra`` fields."""
    errors = [{"path": p.path, "rule": p.rule} for p in problems]
    headers = (("Retry-After", "5"),) if status == NO_CLINIC else ()
    return json_reply(status, {"errors": errors, **extra}, headers)


def _meta(message: Mapping[str, Any]) -> WireMeta | None:
    """The message's envelope as the Redox edge reads it, or None when it cannot be read."""
    try:
        return converter.structure(message.get("Meta"), WireMeta)
    except (cattrs.BaseValidationError, TypeError, ValueError, KeyError):
        return None


def is_event(message: Any) -> bool:
    """Whether ``message`` is a Scheduling event the store applies (by its data model and event type)."""
    if not isinstance(message, Mapping):
        return False
    meta = _meta(message)
    return meta is not None and meta.data_model == _DATA_MODEL and meta.event_type in EVENT_TYPES


def answer_message(text: str, message: Any, config: ServerConfig, cache: ClinicCache | None = None) -> Reply:
    """The answer to an authenticated message (``text`` as received, ``message`` its parsed JSON).

    Opens the store for this call only (one SQLite connection per call and thread) and closes it; ``cache``
    is the worker's clinic cache (None: the clinic is read afresh).
    """
    if is_event(message):
        return _apply(text, message, config, cache)
    problem = unhandled(message)
    if problem is not None:  # a Scheduling message this destination neither answers nor applies
        return problems_reply(400, [problem])
    return _find(message, config, cache)


def _apply(text: str, message: Any, config: ServerConfig, cache: ClinicCache | None) -> Reply:
    problems: tuple[Problem, ...] = ()
    too_large = False
    try:
        parse_event(message)
    except InvalidMessage as error:
        problems, too_large = error.problems, isinstance(error, LimitExceeded)
    with request_store(config.db, cache) as store:
        done = store.ingest(text)  # committed (applied, or logged as rejected) when it returns
    note(outcome="applied" if done.applied else "rejected", anomalies=len(done.anomalies))
    if done.applied:
        return json_reply(200, {"outcome": "applied", "log": done.seq, "anomalies": len(done.anomalies)})
    if not problems:  # the message reads well, yet the store refused it: no clinic loaded
        return problems_reply(NO_CLINIC, [Problem("$", "no clinic loaded in the store")], log=done.seq)
    status = TOO_LARGE if too_large else config.rejected_event_status  # logged as rejected either way
    return problems_reply(status, problems, outcome="rejected", log=done.seq)


def _find(message: Any, config: ServerConfig, cache: ClinicCache | None) -> Reply:
    try:
        parse_request(message)  # refuse a bad query before the store is read
        with request_store(config.db, cache) as store:
            prepared = store.prepared()
        # find_slots_redox hands its clinic to find_slots, which takes a prepared clinic as it is
        result = find_slots_redox(message, prepared, search_settings(config), None)
    except RequestTooLarge as error:
        return problems_reply(TOO_LARGE, error.problems)
    except InvalidRequest as error:
        return problems_reply(400, error.problems)
    except InvalidClinic as error:
        return problems_reply(NO_CLINIC, error.problems)
    note_search(result)
    return Reply(200, result.to_json().encode("utf-8"))
