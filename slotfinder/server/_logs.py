"""Structured logs: one JSON object per line, and per request a line with its ID, route, status and timings.

A request's line holds the request ID (the client's ``X-Request-ID`` when it is a safe token, else a new
one; sent back in the response header), the method, the route template (never a path outside the routes,
never a query string: the GET handshake carries the token there), the status, the milliseconds taken, and
what the handlers noted with :func:`note` (a search's stage timings, ``method`` and ``complete``; an
event's outcome). Nothing is ever taken from a message: no identifier, name, date, token or body value.
Other records (uvicorn's, warnings) are JSON lines too; an exception is logged by its type alone, never
its text or traceback (both may quote a value).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from slotfinder._result import SlotResult

__all__ = ["REQUEST_ID_HEADER", "AccessLog", "JsonFormatter", "RequestContext", "current", "note", "note_search"]

LOG = logging.getLogger("slotfinder.server")
REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # an ID we may log and echo: no spaces, no quotes
_OTHER_PATH = "(other path)"


class RequestContext:
    """What one request's handlers share with its log line: its ID, when it started, and the noted fields."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.started = time.monotonic()
        self.fields: dict[str, Any] = {}

    def elapsed(self) -> float:
        """Seconds since the request arrived (the queue and the reading included)."""
        return time.monotonic() - self.started


# Set by AccessLog for each request; AnyIO copies it into the worker thread that does the work.
_CURRENT: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("slotfinder_request", default=None)


def current() -> RequestContext | None:
    """The request being answered, if any (None outside a request: a direct call, a test)."""
    return _CURRENT.get()


def note(**fields: Any) -> None:
    """Add fields to the current request's log line (values the server computed, never a message value)."""
    context = current()
    if context is not None:
        context.fields.update(fields)


def note_search(result: SlotResult) -> None:
    """Log a search's method, completeness, number of slots and stage timings (milliseconds) with the request."""
    stages = {name: round(ms, 1) for name, ms in result.timings.items()}
    note(search={"method": result.method, "complete": result.complete, "slots": len(result.slots), "stage_ms": stages})


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            given = value.decode("latin-1")
            return given if _SAFE_ID.fullmatch(given) else uuid.uuid4().hex
    return uuid.uuid4().hex


class AccessLog:
    """ASGI middleware: a request ID for each request (``X-Request-ID`` in the answer) and one JSON log line."""

    def __init__(self, app: ASGIApp, routes: frozenset[str]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = RequestContext(_request_id(scope))
        token = _CURRENT.set(context)
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [*message.get("headers", ()), (b"x-request-id", context.request_id.encode("ascii"))]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            _CURRENT.reset(token)
            line = {
                "request_id": context.request_id,
                "method": scope["method"],
                "route": scope["path"] if scope["path"] in self.routes else _OTHER_PATH,
                "status": status,
                "ms": round(context.elapsed() * 1000, 1),
                **context.fields,
            }
            LOG.info("request", extra={"fields": line})


class JsonFormatter(logging.Formatter):
    """Every record as one JSON line: time, level, logger, message (or a request's fields), and the request ID
    of the request being answered. An exception is named by its type only."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
        line: dict[str, Any] = {"time": stamp, "level": record.levelname.lower(), "logger": record.name}
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        else:
            line["message"] = record.getMessage()
            context = current()
            if context is not None:
                line["request_id"] = context.request_id
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
        return json.dumps(line, sort_keys=False)
