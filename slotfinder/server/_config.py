"""What a server runs with: the store, the Redox verification token, the body limit, the rejection policy,
the FHIR bearer token, how long a FHIR hold lasts, the request deadline and solver time limit, and how many
queries run at once.

The tokens (Redox's verification token, and the optional FHIR bearer token) come from the environment
variables ``SLOTFINDER_REDOX_TOKEN`` and ``SLOTFINDER_FHIR_TOKEN`` or from a TOML config file (``slotfinder
serve --config FILE``), never from the command line (where ``ps`` would show them). Set in both places, the
server refuses to start rather than guess. No error here ever repeats a token.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import field, frozen

__all__ = [
    "ACCEPT_REJECTED",
    "DEFAULT_DEADLINE_SECONDS",
    "DEFAULT_HOLD_MINUTES",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_CONCURRENT_QUERIES",
    "DEFAULT_QUEUE_SECONDS",
    "DEFAULT_TIME_LIMIT_SECONDS",
    "FHIR_TOKEN_VARIABLE",
    "REFUSE_REJECTED",
    "TOKEN_VARIABLE",
    "ServerConfig",
    "load_config",
]

TOKEN_VARIABLE = "SLOTFINDER_REDOX_TOKEN"
FHIR_TOKEN_VARIABLE = "SLOTFINDER_FHIR_TOKEN"
DEFAULT_MAX_BODY_BYTES = 10_000_000  # Redox's own payload limit (10 MB)
ACCEPT_REJECTED = 200  # a scheduling event the store rejects is acknowledged (logged, recorded), the feed goes on
REFUSE_REJECTED = 422  # ... or refused, so Redox pauses the feed and retries it until someone steps in
DEFAULT_HOLD_MINUTES = 10  # how long a FHIR $hold keeps its time
_MAX_HOLD_MINUTES = 1440
DEFAULT_DEADLINE_SECONDS = 60.0  # a query's answer is due by then: well inside Redox's 120 s round trip
REDOX_ROUND_TRIP_SECONDS = 120.0  # a deadline must stay below it (the answer must still travel back)
DEFAULT_TIME_LIMIT_SECONDS = 5.0  # the solver's limit per query (the engine's default), cut to the deadline left
DEFAULT_MAX_CONCURRENT_QUERIES = 2  # per worker process: searches are CPU-bound, more only share the cores
DEFAULT_QUEUE_SECONDS = 10.0  # how long a query waits for a turn before 503 (Retry-After)
_KEYS = (
    "redox_token",
    "fhir_token",
    "max_body_bytes",
    "rejected_event_status",
    "hold_minutes",
    "deadline_seconds",
    "time_limit_seconds",
    "max_concurrent_queries",
    "queue_seconds",
)


def _positive(_instance: object, _attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("max_body_bytes: must be a whole number of bytes, at least 1")


def _status(_instance: object, _attribute: object, value: int) -> None:
    if value not in (ACCEPT_REJECTED, REFUSE_REJECTED):
        raise ValueError(f"rejected_event_status: must be {ACCEPT_REJECTED} or {REFUSE_REJECTED}")


def _hold(_instance: object, _attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_HOLD_MINUTES:
        raise ValueError(f"hold_minutes: must be a whole number of minutes from 1 to {_MAX_HOLD_MINUTES}")


def _seconds(name: str, below: float) -> Any:
    def check(_instance: object, _attribute: object, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < below:
            raise ValueError(f"{name}: must be a number of seconds above 0 and below {below:g}")

    return check


def _queries(_instance: object, _attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("max_concurrent_queries: must be a whole number, at least 1")


def _token(_instance: object, _attribute: object, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"no Redox verification token: set {TOKEN_VARIABLE} or redox_token in the config file")


def _fhir_token(_instance: object, _attribute: object, value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValueError("fhir_token: must be a non-empty string (or unset: FHIR answers local clients only)")


@frozen
class ServerConfig:
    """A server's settings. ``token`` is the Redox verification token and ``fhir_token`` the bearer token FHIR
    clients send (None: FHIR answers clients on this machine only); ``repr`` hides both."""

    db: str
    token: str = field(validator=_token, repr=False)
    max_body_bytes: int = field(default=DEFAULT_MAX_BODY_BYTES, validator=_positive)
    rejected_event_status: int = field(default=ACCEPT_REJECTED, validator=_status)
    hold_minutes: int = field(default=DEFAULT_HOLD_MINUTES, validator=_hold)
    fhir_token: str | None = field(default=None, validator=_fhir_token, repr=False)
    deadline_seconds: float = field(
        default=DEFAULT_DEADLINE_SECONDS, validator=_seconds("deadline_seconds", REDOX_ROUND_TRIP_SECONDS)
    )
    time_limit_seconds: float = field(
        default=DEFAULT_TIME_LIMIT_SECONDS, validator=_seconds("time_limit_seconds", REDOX_ROUND_TRIP_SECONDS)
    )
    max_concurrent_queries: int = field(default=DEFAULT_MAX_CONCURRENT_QUERIES, validator=_queries)
    queue_seconds: float = field(default=DEFAULT_QUEUE_SECONDS, validator=_seconds("queue_seconds", 120))


def _read_file(path: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError:
        raise ValueError(f"{path}: not valid TOML") from None  # the parser's message may quote a line
    unknown = sorted(k for k in data if k not in _KEYS)
    if unknown:
        raise ValueError(f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(_KEYS)})")
    return data


def load_config(db: str, config: str | None = None, environ: Mapping[str, str] | None = None) -> ServerConfig:
    """The settings for store ``db``: the config file's, with the token from it or from the environment.

    Raises ``ValueError`` (a one-line message that never holds the token) when something is missing or wrong.
    """
    env = os.environ if environ is None else environ
    settings = _read_file(config) if config else {}
    from_env = env.get(TOKEN_VARIABLE)
    if from_env and settings.get("redox_token") is not None:
        raise ValueError(f"the Redox token is set both in {TOKEN_VARIABLE} and in the config file: set it in one place")
    token = from_env or settings.get("redox_token") or ""
    if not isinstance(token, str):
        raise ValueError("redox_token: must be a string")
    fhir_env = env.get(FHIR_TOKEN_VARIABLE) or None
    if fhir_env and settings.get("fhir_token") is not None:
        raise ValueError(
            f"the FHIR token is set both in {FHIR_TOKEN_VARIABLE} and in the config file: set it in one place"
        )
    return ServerConfig(
        db=db,
        token=token,
        max_body_bytes=settings.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES),
        rejected_event_status=settings.get("rejected_event_status", ACCEPT_REJECTED),
        hold_minutes=settings.get("hold_minutes", DEFAULT_HOLD_MINUTES),
        fhir_token=fhir_env or settings.get("fhir_token"),
        deadline_seconds=settings.get("deadline_seconds", DEFAULT_DEADLINE_SECONDS),
        time_limit_seconds=settings.get("time_limit_seconds", DEFAULT_TIME_LIMIT_SECONDS),
        max_concurrent_queries=settings.get("max_concurrent_queries", DEFAULT_MAX_CONCURRENT_QUERIES),
        queue_seconds=settings.get("queue_seconds", DEFAULT_QUEUE_SECONDS),
    )
