"""``slotfinder serve`` options and settings: the config file, the body limit, the rejection policy, worker
processes, and one-line refusals to start (never a traceback, never the token)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from slotfinder.server import ServerConfig, load_config
from slotfinder.store import CalendarStore
from tests.server.running import ROOT, TOKEN, cli, demo_store, start_server
from tests.support import example, seed


def test_config_file_gives_the_settings(tmp_path: Path) -> None:
    """The TOML file sets the token, the body limit and the rejection status; the repr hides the token."""
    path = tmp_path / "serve.toml"
    path.write_text(f'redox_token = "{TOKEN}"\nmax_body_bytes = 2048\nrejected_event_status = 422\n')
    config = load_config("x.db", str(path), environ={})
    assert config == ServerConfig("x.db", TOKEN, 2048, 422)
    assert TOKEN not in repr(config)
    assert load_config("x.db", None, environ={"SLOTFINDER_REDOX_TOKEN": TOKEN}).max_body_bytes == 10_000_000


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ("", {}, "no Redox verification token"),
        (f'redox_token = "{TOKEN}"', {"SLOTFINDER_REDOX_TOKEN": TOKEN}, "set it in one place"),
        ('redox_token = "t"\nmax_body = 3', {}, "unknown setting 'max_body'"),
        ('redox_token = "t"\nmax_body_bytes = 0', {}, "max_body_bytes: must be"),
        ('redox_token = "t"\nrejected_event_status = 500', {}, "rejected_event_status: must be 200 or 422"),
        (f'redox_token = "{TOKEN}', {}, "not valid TOML"),
    ],
)
def test_bad_settings_are_refused_in_one_line(tmp_path: Path, text: str, environ: dict[str, str], message: str) -> None:
    """Each bad setting is a ValueError naming the setting; no message repeats the token."""
    path = tmp_path / "serve.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as caught:
        load_config("x.db", str(path), environ=environ)
    assert TOKEN not in str(caught.value)


def test_serve_refuses_to_start_without_token_or_store(tmp_path: Path) -> None:
    """``serve`` without a token, or on a missing store, exits 2 with one line (no traceback); it does not
    create the missing store."""
    env = {k: v for k, v in os.environ.items() if k != "SLOTFINDER_REDOX_TOKEN"}
    db = demo_store(tmp_path / "clinic.db")
    no_token = cli("serve", "--db", str(db), "--port", "1", env=env)
    assert no_token.returncode == 2
    assert no_token.stderr.startswith("slotfinder: no Redox verification token") and no_token.stderr.count("\n") == 1
    missing = cli("serve", "--db", str(tmp_path / "nope.db"), env={**env, "SLOTFINDER_REDOX_TOKEN": TOKEN})
    assert missing.returncode == 2 and "no such store" in missing.stderr and "Traceback" not in missing.stderr
    assert not (tmp_path / "nope.db").exists()


def test_serve_without_the_server_extra_names_it(tmp_path: Path) -> None:
    """Without Starlette or uvicorn installed (blocked here), ``serve`` exits 2 with a one-line install hint."""
    code = (
        "import sys\n"
        "sys.modules['uvicorn'] = None\n"
        "from slotfinder._cli import main\n"
        f"raise SystemExit(main(['serve', '--db', {str(tmp_path / 'x.db')!r}]))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT)
    assert run.returncode == 2
    assert run.stderr == (
        "slotfinder: serve needs the server extra (uvicorn missing): pip install 'slotfinder[server]'\n"
    )


def test_importing_the_command_line_loads_no_server() -> None:
    """The server (Starlette, uvicorn, ``slotfinder.server``) loads only when ``serve`` runs: importing the
    package or the command line in a fresh interpreter loads none of it."""
    code = (
        "import json, sys, slotfinder, slotfinder._cli\n"
        "heavy = ('slotfinder.server', 'starlette', 'uvicorn', 'httpx', 'anyio')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith(heavy[0]))))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(run.stdout) == []


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A server with a 2,000-byte body limit, rejected events refused (422), two worker processes and the
    token from the config file."""
    folder = tmp_path_factory.mktemp("strict")
    config = folder / "serve.toml"
    config.write_text(f'redox_token = "{TOKEN}"\nmax_body_bytes = 2000\nrejected_event_status = 422\n')
    server = start_server(demo_store(folder / "clinic.db"), folder / "server.log", token=None, config=config, workers=2)
    yield server.url, server.db
    server.stop()


def test_body_over_the_configured_limit_is_413(strict: tuple[str, Path]) -> None:
    """A body over ``max_body_bytes`` is 413, whether its length is declared or it arrives in chunks (then
    refused as soon as the limit is passed)."""
    import httpx

    url, _ = strict
    headers = {"verification-token": TOKEN}
    body = json.dumps(seed(), indent=4).encode()
    assert len(body) > 2000
    declared = httpx.post(f"{url}/redox", content=body, headers=headers, timeout=60)
    assert declared.status_code == 413
    chunked = httpx.post(f"{url}/redox", content=iter([body[:1500], body[1500:]]), headers=headers, timeout=60)
    assert chunked.status_code == 413
    assert chunked.json() == {"errors": [{"path": "$", "rule": "body larger than 2000 bytes"}]}


def test_rejected_events_are_422_when_configured(strict: tuple[str, Path]) -> None:
    """With ``rejected_event_status = 422`` an event the store rejects is refused (Redox pauses the feed and
    retries), still logged as rejected; a good event is 200."""
    import httpx

    url, db = strict
    bad = example("new.json")
    bad["Visit"]["Duration"] = -5
    response = httpx.post(f"{url}/redox", content=json.dumps(bad), headers={"verification-token": TOKEN}, timeout=60)
    assert response.status_code == 422
    rule = "must be positive and at most a day (1440 minutes)"
    assert response.json()["errors"] == [{"path": "$.Visit.Duration", "rule": rule}]
    good = httpx.post(
        f"{url}/redox", content=json.dumps(example("new.json")), headers={"verification-token": TOKEN}, timeout=60
    )
    assert good.status_code == 200
    with CalendarStore(db) as store:
        assert [e.outcome for e in store.log()[-2:]] == ["rejected", "applied"]
