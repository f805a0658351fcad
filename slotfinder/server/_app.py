"""The ASGI application (Starlette) and how ``slotfinder serve`` runs it (uvicorn).

Routes: ``POST /redox`` and ``GET /redox`` (the Redox destination and its verification handshakes),
``GET /fhir/metadata``, ``GET|POST /fhir/Appointment/$find`` and ``POST /fhir/Appointment/$hold|$book``
(FHIR R4, IHE ITI-115/116/117), ``GET /healthz``
(the process answers), ``GET /readyz`` (the store opens and holds a clinic).

Concurrency: handlers are ``async`` only for reading the request; the work (SQLite, the search) runs in
AnyIO's worker threads, and each call opens its own :class:`CalendarStore` (its own SQLite connection)
in the thread that uses it and closes it: no connection is shared between threads. Several uvicorn
worker processes (``--workers``) each do the same; SQLite's WAL journal and busy timeout order the
writers, and readers never block them. What a worker keeps between requests is its :class:`ClinicCache`
(created here, with the application): the clinic record parsed and prepared once per clinic version, read
anew in the request's own transaction whenever the version changed (``slotfinder/store/_cache.py``).

Logging (``_logs.py``): one JSON line per request with its ID, the method, the route (never a query
string: the GET handshake carries the token there), the status, the time taken and a search's timings; an
unexpected error is logged by its type only. Uvicorn's own access log is off.

Queries (Redox ``AvailableSlots``, FHIR ``$find``) run at most ``max_concurrent_queries`` at once per
process, within the request deadline (``_capacity.py``); events, holds and bookings are never held back.
"""

from __future__ import annotations

import copy
import datetime as dt
import hmac
import ipaddress
import json
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from slotfinder._errors import Problem
from slotfinder._problems import DEPTH_RULE
from slotfinder.server._capacity import RETRY_AFTER, QueryGate
from slotfinder.server._config import ServerConfig, load_config
from slotfinder.server._fhir import FHIR_JSON, capability_statement, find_appointments, outcome, post_parameters
from slotfinder.server._fhir_book import reserve
from slotfinder.server._logs import AccessLog, note
from slotfinder.server._maintenance import lifespan, request_store
from slotfinder.server._redox import Reply, answer_message, is_event, json_reply, problems_reply
from slotfinder.store._sqlite import CalendarStore, ClinicCache

__all__ = [
    "CONFIG_VARIABLE",
    "DB_VARIABLE",
    "HANDSHAKE_BYTES",
    "app_from_environment",
    "check_store",
    "create_app",
    "run",
]

LOG = logging.getLogger("slotfinder.server")
TOKEN_HEADER = "verification-token"
CHALLENGE = "challenge"
HANDSHAKE_BYTES = 4096  # how much of a body without a token header is read: enough for a handshake
DB_VARIABLE = "SLOTFINDER_SERVE_DB"  # how `serve` hands its options to uvicorn's worker processes
CONFIG_VARIABLE = "SLOTFINDER_SERVE_CONFIG"
FIND = "/fhir/Appointment/$find"
HOLD = "/fhir/Appointment/$hold"
BOOK = "/fhir/Appointment/$book"
_ROUTES = frozenset({"/redox", "/healthz", "/readyz", "/fhir/metadata", FIND, HOLD, BOOK})
_NO_SNIFF = (("X-Content-Type-Options", "nosniff"),)


def _respond(reply: Reply) -> Response:
    headers = dict(reply.headers + _NO_SNIFF)
    return Response(reply.body, status_code=reply.status, media_type=reply.media_type, headers=headers)


def _refused(rule: str = "is missing or wrong") -> Response:
    return _respond(problems_reply(401, [Problem(f"header {TOKEN_HEADER}", rule)]))


def _too_large(limit: int) -> Response:
    return _respond(problems_reply(413, [Problem("$", f"body larger than {limit} bytes")]))


def _bad(path: str, rule: str) -> Response:
    return _respond(problems_reply(400, [Problem(path, rule)]))


def _local(request: Request) -> bool:
    """Whether the client is on this machine (a loopback address)."""
    try:
        return request.client is not None and ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:  # not an IP address (a Unix socket, a test transport)
        return False


def _fhir_refusal(request: Request, token: str | None) -> Response | None:
    """401 unless the request may use FHIR: the right bearer token, or with no token set a local client."""
    if token is None:
        if _local(request):
            return None
        rule = "FHIR answers clients on this machine only until a token is set (SLOTFINDER_FHIR_TOKEN)"
        return _respond(outcome(401, [("header authorization", rule)], code="login"))
    scheme, _, credentials = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and _matches(credentials.strip(), token):
        return None
    refused = outcome(401, [("header authorization", "is missing or wrong (Bearer and the FHIR token)")], code="login")
    return _respond(Reply(refused.status, refused.body, refused.media_type, (("WWW-Authenticate", "Bearer"),)))


def _matches(given: str | None, token: str) -> bool:
    """Whether ``given`` is the token, compared in constant time."""
    return given is not None and hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is longer than ``limit`` (the rest is never read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    return int(value) if value.isdigit() else -1


def _challenge_reply(challenge: Any) -> Response:
    if not isinstance(challenge, str) or not challenge:
        return _bad(CHALLENGE, "must be a non-empty string")
    return _respond(Reply(200, challenge.encode("utf-8"), "text/plain; charset=utf-8"))


class _EarlyAnswerError(Exception):
    """The request is answered before its message is looked at (refused, too large, not JSON)."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


async def _gated_body(request: Request, config: ServerConfig) -> tuple[bool, bytes]:
    """Whether the token header is right, and the body: read only once the header allows it, and only as far
    as the limit (the size limit, or without the header what a handshake can need)."""
    given = request.headers.get(TOKEN_HEADER)
    authenticated = _matches(given, config.token)
    if given is not None and not authenticated:
        raise _EarlyAnswerError(_refused())
    limit = config.max_body_bytes if authenticated else HANDSHAKE_BYTES
    declared = _declared_length(request)
    if declared == -1:
        raise _EarlyAnswerError(_bad("header content-length", "must be a whole number"))
    over = _too_large(limit) if authenticated else _refused()
    if declared is not None and declared > limit:
        raise _EarlyAnswerError(over)
    body = await _read_body(request, limit)
    if body is None:
        raise _EarlyAnswerError(over)
    return authenticated, body


def _decoded(body: bytes, authenticated: bool) -> tuple[str, Any]:
    """The body's text and JSON value; without the token header, a body that is not JSON is simply refused."""
    try:
        text = body.decode("utf-8")
        return text, json.loads(text)
    except UnicodeDecodeError as error:
        problem = Problem("$", f"not UTF-8 text (byte {error.start})")
    except json.JSONDecodeError as error:
        problem = Problem("$", f"not valid JSON (line {error.lineno}, column {error.colno})")
    except RecursionError:  # past max_depth: too large (413), where malformed text is 400
        refused = problems_reply(413, [Problem("$", f"JSON {DEPTH_RULE}")])
        raise _EarlyAnswerError(_respond(refused) if authenticated else _refused()) from None
    raise _EarlyAnswerError(_respond(problems_reply(400, [problem])) if authenticated else _refused())


def _is_handshake(data: Any) -> bool:
    """A verification handshake's body: exactly the token and the challenge."""
    return isinstance(data, dict) and set(data) == {CHALLENGE, TOKEN_HEADER}


async def _in_thread(work: Callable[[], Reply]) -> Response:
    """Run ``work`` in a worker thread; a busy store is 503 (retry), anything unexpected 500 (type logged)."""
    try:
        return _respond(await anyio.to_thread.run_sync(work))
    except sqlite3.OperationalError:
        note(error="store busy")
        LOG.warning("store busy or unavailable")
        busy = problems_reply(503, [Problem("$", "store busy or unavailable, retry later")])
        return _respond(Reply(busy.status, busy.body, busy.media_type, (("Retry-After", "5"),)))
    except Exception as error:  # never a traceback or a value in the answer or the log
        note(error=type(error).__name__)
        LOG.error("unexpected %s", type(error).__name__)
        return _respond(problems_reply(500, [Problem("$", "internal error")]))


def _is_event(data: Any) -> bool:
    """Whether a message is an event (read on the event loop: anything odd counts as a query, answered in a
    thread like any other message)."""
    try:
        return is_event(data)
    except Exception:
        return False


def _saturated() -> Response:
    """503 for a query that found no free turn in time (``_capacity.QueryGate``): retry shortly."""
    busy = problems_reply(503, [Problem("$", "too many queries at once, retry later")])
    return _respond(Reply(busy.status, busy.body, busy.media_type, (("Retry-After", RETRY_AFTER),)))


def _fhir_routes(config: ServerConfig, gate: QueryGate, cache: ClinicCache) -> list[Route]:
    """``/fhir``: the CapabilityStatement (open), ``$find``, ``$hold`` and ``$book`` (gated by ``_fhir_refusal``)."""

    async def metadata(_request: Request) -> Response:
        body = (json.dumps(capability_statement(), indent=2) + "\n").encode("utf-8")
        return _respond(Reply(200, body, FHIR_JSON))

    async def find_get(request: Request) -> Response:
        refused = _fhir_refusal(request, config.fhir_token)
        if refused is not None:
            return refused
        parameters = list(request.query_params.multi_items())
        return await gate.run(
            lambda: _in_thread(lambda: find_appointments(parameters, config, cache=cache)), _saturated
        )

    async def fhir_body(request: Request) -> str | Response:
        """A FHIR POST's body as text, read up to the limit (413 beyond; 400 when not UTF-8)."""
        declared = _declared_length(request)
        body = None
        if declared is None or 0 <= declared <= config.max_body_bytes:
            body = await _read_body(request, config.max_body_bytes)
        if body is None:
            return _too_large(config.max_body_bytes)
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return _bad("$", "not valid JSON")

    async def find_post(request: Request) -> Response:
        refused = _fhir_refusal(request, config.fhir_token)
        if refused is not None:
            return refused
        text = await fhir_body(request)
        if isinstance(text, Response):
            return text
        try:
            resource = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            return _bad("$", "not valid JSON")
        parameters = post_parameters(resource)
        if isinstance(parameters, Reply):
            return _respond(parameters)
        return await gate.run(
            lambda: _in_thread(lambda: find_appointments(parameters, config, cache=cache)), _saturated
        )

    hold_time = dt.timedelta(minutes=config.hold_minutes)

    def reservation(operation: str) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request) -> Response:
            refused = _fhir_refusal(request, config.fhir_token)
            if refused is not None:
                return refused
            text = await fhir_body(request)
            if isinstance(text, Response):
                return text
            return await _in_thread(lambda: reserve(operation, text, config.db, hold_time, cache))

        return answer

    return [
        Route("/fhir/metadata", metadata, methods=["GET"]),
        Route(FIND, find_get, methods=["GET"]),
        Route(FIND, find_post, methods=["POST"]),
        Route(HOLD, reservation("hold"), methods=["POST"]),
        Route(BOOK, reservation("book"), methods=["POST"]),
    ]


def create_app(config: ServerConfig) -> Starlette:
    """The ASGI application serving ``config``'s store (with this worker's clinic cache)."""
    gate = QueryGate(config)
    cache = ClinicCache()  # one per application, so one per worker process; never a module global

    async def redox_post(request: Request) -> Response:
        try:
            authenticated, body = await _gated_body(request, config)
            text, data = _decoded(body, authenticated)
        except _EarlyAnswerError as early:
            return early.response
        if _is_handshake(data):
            if not _matches(data[TOKEN_HEADER] if isinstance(data[TOKEN_HEADER], str) else None, config.token):
                return _refused(f"is missing or wrong (and so is the {TOKEN_HEADER} of the body)")
            return _challenge_reply(data[CHALLENGE])
        if not authenticated:
            return _refused()
        if _is_event(data):  # events never wait behind queries
            return await _in_thread(lambda: answer_message(text, data, config, cache))
        return await gate.run(lambda: _in_thread(lambda: answer_message(text, data, config, cache)), _saturated)

    async def redox_get(request: Request) -> Response:
        given = request.headers.get(TOKEN_HEADER) or request.query_params.get(TOKEN_HEADER)
        if not _matches(given, config.token):
            return _refused()
        return _challenge_reply(request.query_params.get(CHALLENGE))

    async def healthz(_request: Request) -> Response:
        return _respond(json_reply(200, {"status": "ok"}))

    def ready() -> Reply:
        if not Path(config.db).is_file():
            return json_reply(503, {"status": "not ready", "reason": "no store file"})
        with request_store(config.db) as store:
            loaded = store.has_clinic()
        if not loaded:
            return json_reply(503, {"status": "not ready", "reason": "no clinic loaded in the store"})
        return json_reply(200, {"status": "ready"})

    async def readyz(_request: Request) -> Response:
        return await _in_thread(ready)

    routes = [
        *_fhir_routes(config, gate, cache),
        Route("/redox", redox_post, methods=["POST"]),
        Route("/redox", redox_get, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan(config.db, cache))
    app.state.clinic_cache = cache  # for diagnostics and tests: how often the clinic was read and prepared
    app.add_middleware(AccessLog, routes=_ROUTES)
    return app


def app_from_environment() -> Starlette:
    """The application for a uvicorn worker process, from what ``run`` put in the environment."""
    return create_app(load_config(os.environ[DB_VARIABLE], os.environ.get(CONFIG_VARIABLE)))


def check_store(path: str) -> None:
    """Refuse a missing store (serving would create an empty one) and open it once (schema, migration)."""
    if not Path(path).is_file():
        raise ValueError(f"{path}: no such store (create it with slotfinder import)")
    CalendarStore(path).close()


def _log_config() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)  # uvicorn's loggers, every line written as JSON (``_logs.py``)
    config["formatters"] = {"json": {"()": "slotfinder.server._logs.JsonFormatter"}}
    config["handlers"] = {
        "default": {"formatter": "json", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    }
    for logger in config["loggers"].values():
        if "handlers" in logger:  # uvicorn.error has none: it propagates to uvicorn
            logger["handlers"] = ["default"]
    config["loggers"]["slotfinder.server"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def run(db: str, config_file: str | None, host: str, port: int, workers: int) -> None:
    """Serve store ``db`` until interrupted (raises ValueError, before listening, on a bad configuration)."""
    import uvicorn

    db = os.path.abspath(db)
    config_file = os.path.abspath(config_file) if config_file else None
    load_config(db, config_file)  # fail here, in one line, rather than in every worker
    check_store(db)
    if workers < 1:
        raise ValueError("--workers: must be at least 1")
    os.environ[DB_VARIABLE] = db
    if config_file:
        os.environ[CONFIG_VARIABLE] = config_file
    else:
        os.environ.pop(CONFIG_VARIABLE, None)
    uvicorn.run(
        "slotfinder.server._app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        server_header=False,
        log_config=_log_config(),
    )
