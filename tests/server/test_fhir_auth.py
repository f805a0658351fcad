"""FHIR authentication: with ``SLOTFINDER_FHIR_TOKEN`` set, ``$find``, ``$hold`` and ``$book`` need
``Authorization: Bearer <token>`` (compared in constant time; 401 with ``WWW-Authenticate: Bearer`` before
the body is read); without a token they answer clients on this machine only. The CapabilityStatement is
always open. No answer or log line repeats a token."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from slotfinder.server import ServerConfig, create_app, load_config
from tests.server.fhir_client import find, with_resource
from tests.server.running import Server, demo_store, start_server

FHIR_TOKEN = "fhir-tok-5d1c0b2a-tests"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``slotfinder serve`` with a FHIR bearer token."""
    folder = tmp_path_factory.mktemp("auth")
    running = start_server(demo_store(folder / "clinic.db"), folder / "server.log", fhir_token=FHIR_TOKEN)
    yield running
    running.stop()


def test_a_token_guards_find_hold_and_book(guarded: Server) -> None:
    """Without the header, with another scheme or a wrong token: 401 OperationOutcome naming the header, with
    WWW-Authenticate; with the right bearer token the operations answer as usual; metadata needs none."""
    with guarded.client() as client:
        assert client.get("/fhir/metadata").status_code == 200
        for headers in ({}, {"authorization": f"Basic {FHIR_TOKEN}"}, {"authorization": "Bearer nope"}):
            for method, url in (("GET", "/fhir/Appointment/$find?start=2030-01-01T00:00:00Z"),
                                ("POST", "/fhir/Appointment/$hold"), ("POST", "/fhir/Appointment/$book")):  # fmt: skip
                answer = client.request(method, url, headers=headers, content=b"{}")
                assert answer.status_code == 401, (method, url)
                assert answer.headers["www-authenticate"] == "Bearer"
                assert answer.json()["issue"][0]["expression"] == ["header authorization"]
                assert FHIR_TOKEN not in answer.text
    with guarded.client(headers={"authorization": f"Bearer {FHIR_TOKEN}"}) as client:
        found = client.get("/fhir/Appointment/$find", params={"start": "2030-01-07T00:00:00Z", "_count": "1"})
        assert found.status_code == 200
        proposed = found.json()["entry"][0]["resource"]
        assert client.post("/fhir/Appointment/$book", json=with_resource(proposed)).status_code == 200
    assert FHIR_TOKEN not in guarded.log_text()


async def _find_from(address: str, config: ServerConfig, headers: dict[str, str]) -> tuple[int, str, int]:
    """(status, body) of a $find from a client at ``address``, and the status of its metadata request."""
    transport = httpx.ASGITransport(app=create_app(config), client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://slotfinder", headers=headers) as client:
        answer = await client.get("/fhir/Appointment/$find", params={"start": "2030-01-07T00:00:00Z"})
        metadata = await client.get("/fhir/metadata")
    return answer.status_code, answer.text, metadata.status_code


def test_without_a_token_only_local_clients_are_answered(tmp_path: Path) -> None:
    """With no FHIR token, a client at another address gets 401 naming the setting (metadata stays open) and a
    local one is answered; with a token, the remote client is answered when it sends it."""
    db = str(demo_store(tmp_path / "clinic.db"))
    status, text, metadata = asyncio.run(_find_from("203.0.113.7", ServerConfig(db=db, token="redox"), {}))
    assert (status, metadata) == (401, 200) and "SLOTFINDER_FHIR_TOKEN" in text
    assert asyncio.run(_find_from("127.0.0.1", ServerConfig(db=db, token="redox"), {}))[0] == 200
    assert asyncio.run(_find_from("::1", ServerConfig(db=db, token="redox"), {}))[0] == 200
    config = ServerConfig(db=db, token="redox", fhir_token=FHIR_TOKEN)
    bearer = {"authorization": f"Bearer {FHIR_TOKEN}"}
    assert asyncio.run(_find_from("203.0.113.7", config, bearer))[0] == 200
    assert asyncio.run(_find_from("127.0.0.1", config, {}))[0] == 401


def test_local_clients_need_no_token(server: Server) -> None:
    """The shared test server has no FHIR token and is called from localhost: $find answers."""
    assert find(server, 1)


def test_the_fhir_token_and_hold_minutes_come_from_one_place(tmp_path: Path) -> None:
    """The FHIR token is read from the environment or the config file, never both; hold_minutes is checked;
    no error repeats the token."""
    config = tmp_path / "serve.toml"
    config.write_text(f'fhir_token = "{FHIR_TOKEN}"\nhold_minutes = 5\n', encoding="utf-8")
    loaded = load_config("db", str(config), {"SLOTFINDER_REDOX_TOKEN": "r"})
    assert (loaded.fhir_token, loaded.hold_minutes) == (FHIR_TOKEN, 5)
    assert FHIR_TOKEN not in repr(loaded)
    assert load_config("db", None, {"SLOTFINDER_REDOX_TOKEN": "r"}).fhir_token is None
    with pytest.raises(ValueError, match="set it in one place") as both:
        load_config("db", str(config), {"SLOTFINDER_REDOX_TOKEN": "r", "SLOTFINDER_FHIR_TOKEN": "x"})
    assert FHIR_TOKEN not in str(both.value)
    config.write_text("hold_minutes = 0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="hold_minutes"):
        load_config("db", str(config), {"SLOTFINDER_REDOX_TOKEN": "r"})
