"""Store maintenance off the request path: an owed compaction runs in a background task, not in a request.

A purge or a migration asks for a compaction (``VACUUM`` and WAL truncation) and, when readers hold the
WAL, leaves it owed to the next opening of the store. In a server every request opens the store, so the
request that came next would run a ``VACUUM`` (seconds on a large store, with the write lock), and while
readers keep the WAL busy every request would try again. Requests therefore open the store with
``compact=False``; each worker process retries an owed compaction every ``COMPACT_EVERY_SECONDS`` in a
worker thread (a busy store just leaves it owed for the next round).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from slotfinder.store._sqlite import CalendarStore

__all__ = ["COMPACT_EVERY_SECONDS", "compact_once", "compaction", "lifespan", "request_store"]

LOG = logging.getLogger("slotfinder.server")
COMPACT_EVERY_SECONDS = 60.0


def request_store(db: str) -> CalendarStore:
    """The store opened for one request: never compacted here (see the module docstring)."""
    return CalendarStore(db, compact=False)


def compact_once(db: str) -> None:
    """Open the store as the command line does, which compacts it when a compaction is owed."""
    if Path(db).is_file():
        CalendarStore(db).close()


@asynccontextmanager
async def compaction(db: str, every: float = COMPACT_EVERY_SECONDS) -> AsyncIterator[None]:
    """While the application runs, retry an owed compaction every ``every`` seconds (a Starlette lifespan)."""

    async def rounds() -> None:
        while True:
            await anyio.sleep(every)
            try:
                await anyio.to_thread.run_sync(compact_once, db)
            except Exception as error:  # a round that fails is retried next time; the server goes on
                LOG.warning("compaction failed: %s", type(error).__name__)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(rounds)
        yield
        tasks.cancel_scope.cancel()


def lifespan(db: str) -> Any:
    """A Starlette ``lifespan`` running :func:`compaction` for store ``db``."""
    return lambda _app: compaction(db)
