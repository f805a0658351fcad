"""Store maintenance off the request path: an owed compaction runs in a background task, not in a request, and
the worker's clinic cache is filled when it starts, not by its first request.

A purge or a migration asks for a compaction (``VACUUM`` and WAL truncation) and, when readers hold the
WAL, leaves it owed to the next opening of the store. In a server every request opens the store, so the
request that came next would run a ``VACUUM`` (seconds on a large store, with the write lock), and while
readers keep the WAL busy every request would try again. Requests therefore open the store with
``compact=False``; each worker process retries an owed compaction every ``COMPACT_EVERY_SECONDS`` in a
worker thread (a busy store just leaves it owed for the next round).

Each worker process keeps one :class:`ClinicCache` (created with the application, ``create_app``): requests
open the store with it, so the clinic record is parsed and prepared once per clinic version instead of once
per request (``slotfinder/store/_cache.py``). When the worker starts, a background task reads it once
(``warm``), so that the first request does not wait for it; until then requests proceed as they would and
share the work (the cache serialises it).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from slotfinder._errors import InvalidClinic
from slotfinder.store._sqlite import CalendarStore, ClinicCache

__all__ = ["COMPACT_EVERY_SECONDS", "compact_once", "compaction", "lifespan", "request_store", "warm"]

LOG = logging.getLogger("slotfinder.server")
COMPACT_EVERY_SECONDS = 60.0


def request_store(db: str, cache: ClinicCache | None = None) -> CalendarStore:
    """The store opened for one request: never compacted here, reading the clinic through the worker's
    ``cache`` (see the module docstring)."""
    return CalendarStore(db, compact=False, cache=cache)


def warm(db: str, cache: ClinicCache) -> None:
    """Parse and prepare the store's clinic into ``cache`` (nothing to do without a store or a clinic)."""
    if not Path(db).is_file():
        return
    with request_store(db, cache) as store:
        try:
            store.prepared()
        except InvalidClinic:  # no clinic yet, or one the engine refuses: the requests will say so
            return


def compact_once(db: str) -> None:
    """Open the store as the command line does, which compacts it when a compaction is owed."""
    if Path(db).is_file():
        CalendarStore(db).close()


@asynccontextmanager
async def compaction(
    db: str, every: float = COMPACT_EVERY_SECONDS, cache: ClinicCache | None = None
) -> AsyncIterator[None]:
    """While the application runs, retry an owed compaction every ``every`` seconds (a Starlette lifespan);
    with a ``cache``, fill it once at the start, in the background."""

    async def filled(cache: ClinicCache) -> None:
        try:
            await anyio.to_thread.run_sync(warm, db, cache)
        except Exception as error:  # the first request reads the clinic instead
            LOG.warning("clinic cache not filled: %s", type(error).__name__)

    async def rounds() -> None:
        while True:
            await anyio.sleep(every)
            try:
                await anyio.to_thread.run_sync(compact_once, db)
            except Exception as error:  # a round that fails is retried next time; the server goes on
                LOG.warning("compaction failed: %s", type(error).__name__)

    async with anyio.create_task_group() as tasks:
        if cache is not None:
            tasks.start_soon(filled, cache)
        tasks.start_soon(rounds)
        yield
        tasks.cancel_scope.cancel()


def lifespan(db: str, cache: ClinicCache | None = None) -> Any:
    """A Starlette ``lifespan`` running :func:`compaction` for store ``db`` (filling ``cache`` at the start)."""
    return lambda _app: compaction(db, cache=cache)
