"""Fixtures: a store with the demo clinic, and a real server on it (one per test module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server.running import Server, demo_store, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``slotfinder serve`` on a store holding the demo clinic (shared by the tests of one module)."""
    folder = tmp_path_factory.mktemp("server")
    running = start_server(demo_store(folder / "clinic.db"), folder / "server.log")
    yield running
    running.stop()
