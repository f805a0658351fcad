"""Deadlines and saturation: how long a query's solver may run, and how many queries run at once.

* **Deadline.** A query must be answered within ``deadline_seconds`` of its arrival (well inside Redox's
  120 s round trip). The solver's limit is the configured ``time_limit_seconds`` cut to what is left of the
  deadline; a search the limit cuts is answered with what it found, marked incomplete (Redox
  ``Meta.IsIncomplete``), rather than lost to a timeout.
* **Saturation.** Searches are CPU-bound: past a few per process they only share the cores (and the
  interpreter lock) with the events, which then starve. So at most ``max_concurrent_queries`` queries run
  at once per worker process; a query over the bound waits up to ``queue_seconds`` (never past its deadline)
  for a turn, then is answered 503 with ``Retry-After``. Events, holds and bookings never wait here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
from attrs import evolve

from slotfinder._settings import Settings
from slotfinder.server._config import ServerConfig
from slotfinder.server._logs import current, note

__all__ = ["MIN_TIME_LIMIT", "RETRY_AFTER", "QueryGate", "search_settings", "solver_limit"]

MIN_TIME_LIMIT = 0.001  # the engine needs a positive limit: past the deadline, the solver gets ~nothing
T = TypeVar("T")
RETRY_AFTER = "2"  # seconds: a full queue drains quickly (each search takes well under a second)


def solver_limit(configured: float, deadline: float, elapsed: float) -> float:
    """The solver's time limit for a query that arrived ``elapsed`` seconds ago: the configured limit, cut to
    what is left of the deadline (at least ``MIN_TIME_LIMIT``, so a late query still gets a quick answer)."""
    return max(MIN_TIME_LIMIT, min(configured, deadline - elapsed))


def search_settings(config: ServerConfig, base: Settings | None = None) -> Settings:
    """``base`` (default settings) with the solver limit for the current request (its whole deadline outside
    a request)."""
    context = current()
    elapsed = context.elapsed() if context is not None else 0.0
    limit = solver_limit(config.time_limit_seconds, config.deadline_seconds, elapsed)
    return evolve(base or Settings(), time_limit_seconds=limit)


class QueryGate:
    """At most ``max_concurrent_queries`` queries at once in this process; the others wait their turn, for up to
    ``queue_seconds`` (and never past the deadline), then are refused."""

    def __init__(self, config: ServerConfig) -> None:
        self.wait = min(config.queue_seconds, config.deadline_seconds)
        self.slots = anyio.Semaphore(config.max_concurrent_queries)

    async def run(self, answer: Callable[[], Awaitable[T]], refuse: Callable[[], T]) -> T:
        """``answer()`` once a turn is free, or ``refuse()`` when none frees up in time."""
        try:
            self.slots.acquire_nowait()  # a free turn is taken at once, whatever the wait allowed
        except anyio.WouldBlock:
            try:
                with anyio.fail_after(self.wait):
                    await self.slots.acquire()
            except TimeoutError:
                note(queue="full")
                return refuse()
        try:
            return await answer()
        finally:
            self.slots.release()
