"""The Redox destination, end to end: a real ``slotfinder serve`` answering HTTP as Redox would call it.

Each test names the behaviour of ``docs/server.md`` it holds: token and handshakes, the synchronous
AvailableSlots answer (byte for byte what ``slotfinder find --db`` prints), events committed before
200, redelivery, the deliberate statuses of bad messages, and bodies that carry no message values.
"""

from __future__ import annotations

import copy
import json
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from redox.scheduling.availableslotsresponse import AvailableSlotsResponse

from slotfinder.store import CalendarStore
from tests.server.running import TOKEN, Server, cli
from tests.support import example, seed

SECRETS = ("Timothy-7731", "Bixby-5520", "1999-12-31", "SSN-404-55-1212")


def booking(slot: dict[str, Any], number: str) -> dict[str, Any]:
    """A Scheduling.New booking the slot ``slot`` of an AvailableSlotsResponse, as visit ``number``."""
    message = example("new.json")
    visit = message["Visit"]
    visit["VisitNumber"] = number
    visit["VisitDateTime"] = slot["DateTime"]
    visit["Duration"] = slot["Duration"]
    visit["AttendingProvider"]["ID"] = slot["Provider"]["ID"]
    visit["Location"] = {**visit["Location"], **{k: v for k, v in slot["Location"].items() if v is not None}}
    return message


def with_secrets(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` with patient values planted where a careless server would echo or log them."""
    planted = copy.deepcopy(message)
    patient = planted.setdefault("Patient", {})
    patient["Demographics"] = {"FirstName": SECRETS[0], "LastName": SECRETS[1], "DOB": SECRETS[2], "SSN": SECRETS[3]}
    return planted


def raw_request(server: Server, head: str) -> str:
    """Send only a request head (no body) on a raw socket and read what comes back."""
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(head.encode())
        received = b""
        while not _complete(received):
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
    return received.decode()


def _complete(received: bytes) -> bool:
    """Whether ``received`` holds a whole response (head and a body of its Content-Length)."""
    head, separator, body = received.partition(b"\r\n\r\n")
    if not separator:
        return False
    lengths = [line.split(b":")[1] for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")]
    return len(body) >= int(lengths[0]) if lengths else True


def test_available_slots_are_the_bytes_find_db_prints(server: Server) -> None:
    """AvailableSlots is answered synchronously, 200, with exactly the bytes ``slotfinder find --db`` prints for
    the same store and message, and the answer validates against Redox's own model."""
    response = server.post(seed())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    AvailableSlotsResponse.model_validate(response.json())
    done = cli("find", "--db", str(server.db), "-", stdin=json.dumps(seed()))
    assert done.returncode == 0, done.stderr
    assert response.content == done.stdout.encode()
    assert server.post(seed()).content == response.content  # the same store and message: the same bytes


def test_without_the_token_header_a_message_is_refused(server: Server) -> None:
    """No header, or a wrong one: 401 naming the header, and nothing of the message in the answer."""
    for token in (None, "wrong-token", TOKEN + "x", ""):
        response = server.post(with_secrets(seed()), token=token)
        assert response.status_code == 401, token
        assert response.json() == {"errors": [{"path": "header verification-token", "rule": "is missing or wrong"}]}


def test_refusal_comes_before_the_body_is_read(server: Server) -> None:
    """A request head announcing a large body, without the token, is refused (401) while no byte of the body
    has been sent; with the token and a body over the limit it is 413, also before the body."""
    head = "POST /redox HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n"
    refused = raw_request(server, head + "\r\n")
    assert refused.startswith("HTTP/1.1 401")
    too_large = raw_request(server, head + f"verification-token: {TOKEN}\r\n\r\n")
    assert too_large.startswith("HTTP/1.1 413")
    assert "body larger than 10000000 bytes" in too_large


def test_post_verification_handshake_answers_the_challenge(server: Server) -> None:
    """The POST handshake (token and challenge in the body, with or without the header) is answered 200 with
    the challenge; a wrong token in the body is 401."""
    challenge = "0b2c6f1a-1d2e-4f0a-9a51-3b7c9d1e2f00"
    for header in (None, TOKEN):
        response = server.post({"verification-token": TOKEN, "challenge": challenge}, token=header)
        assert response.status_code == 200, header
        assert response.text == challenge
    wrong = server.post({"verification-token": "nope", "challenge": challenge}, token=None)
    assert wrong.status_code == 401
    assert challenge not in wrong.text


def test_get_verification_handshake_answers_the_challenge(server: Server) -> None:
    """The GET handshake (token and challenge in the query) is answered 200 with the challenge; 401 without
    the right token; 400 without a challenge."""
    with server.client() as client:
        ok = client.get("/redox", params={"challenge": "abc-123", "verification-token": TOKEN})
        assert (ok.status_code, ok.text) == (200, "abc-123")
        assert client.get("/redox", params={"challenge": "abc-123", "verification-token": "x"}).status_code == 401
        assert client.get("/redox", params={"challenge": "abc-123"}).status_code == 401
        missing = client.get("/redox", params={"verification-token": TOKEN})
        assert missing.status_code == 400
        assert missing.json()["errors"][0]["path"] == "challenge"


def test_a_booking_is_committed_before_200_and_found_busy(server: Server) -> None:
    """A New booking the first offered slot is answered 200 once committed: a fresh connection to the store
    sees it at once, the next AvailableSlots answer no longer offers that slot, and it equals find --db."""
    first = server.post(seed()).json()["AvailableSlots"][0]
    response = server.post(booking(first, "V-SERVER-0001"))
    assert response.status_code == 200
    assert response.json()["outcome"] == "applied"
    with CalendarStore(server.db) as store:
        assert store.state().appointments["V-SERVER-0001"].status == "booked"
    again = server.post(seed())
    offered = [(s["DateTime"], s["Provider"]["ID"]) for s in again.json()["AvailableSlots"]]
    assert (first["DateTime"], first["Provider"]["ID"]) not in offered
    assert again.content == cli("find", "--db", str(server.db), "-", stdin=json.dumps(seed())).stdout.encode()


def test_a_redelivered_message_changes_nothing(server: Server) -> None:
    """The same Cancel delivered twice (at-least-once delivery) is 200 both times and leaves the same state."""
    cancel = example("new.json")
    cancel["Meta"]["EventType"] = "Cancel"
    cancel["Visit"]["VisitNumber"] = "V-SERVER-REDELIVERED"
    assert server.post(cancel).status_code == 200
    with CalendarStore(server.db) as store:
        before = store.state()
    assert server.post(cancel).status_code == 200
    with CalendarStore(server.db) as store:
        assert store.state() == before
        assert store.replay() == store.state()


def test_a_rejected_event_is_200_recorded_with_paths(server: Server) -> None:
    """A Scheduling event the store cannot apply is acknowledged (200, so the feed goes on), logged as
    rejected and recorded as an anomaly; the answer lists JSON paths and rules, never a value."""
    bad = with_secrets(example("new.json"))
    del bad["Visit"]["VisitNumber"]
    bad["Visit"]["VisitDateTime"] = "2025-10-24 14:30:00"  # no offset
    response = server.post(bad)
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "rejected"
    assert {e["path"] for e in body["errors"]} == {"$.Visit.VisitNumber", "$.Visit.VisitDateTime"}
    assert not any(s in response.text for s in SECRETS) and "14:30" not in response.text
    with CalendarStore(server.db) as store:
        assert store.log()[-1].outcome == "rejected" and store.log()[-1].seq == body["log"]
        assert any(seq == body["log"] for seq, _ in store.anomalies())


def test_bad_queries_and_unknown_messages_are_400_with_paths(server: Server) -> None:
    """A bad AvailableSlots (no offset), another data model, a non-object and a body that is not JSON are
    400 with JSON paths and rules only: no value, no stack trace."""
    query = with_secrets(seed())
    query["StartDateTime"] = "2025-10-22T08:00:00"
    response = server.post(query)
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "$.StartDateTime"
    other = with_secrets(example("new.json"))
    other["Meta"]["DataModel"] = "Clinical Summary"
    for message, status in ((query, 400), (other, 400), ([1, 2], 400), (b"{not json", 400), (b"\xff\xfe", 400)):
        answer = server.post(message)
        assert answer.status_code == status, message
        assert set(answer.json()) == {"errors"}
        assert not any(s in answer.text for s in (*SECRETS, "Traceback", "08:00", "Clinical"))


def test_health_and_readiness(server: Server) -> None:
    """/healthz is 200 while the process runs; /readyz is 200 once the store holds a clinic."""
    with server.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json() == {"status": "ready"}
        assert client.post("/healthz").status_code == 405
        assert client.get("/nowhere").status_code == 404


def test_the_log_holds_no_token_and_no_message_value(server: Server) -> None:
    """The server's log has one line per request (method, route, status) and holds neither the token (the GET
    handshake carries it in the query string) nor any value of the messages the other tests sent."""
    with server.client() as client:
        client.get("/redox", params={"challenge": "c-1", "verification-token": TOKEN}, headers={"x-request-id": "hs"})
    server.post(with_secrets(seed()), request_id="query")
    logged = server.wait_logged({"hs", "query"})
    log = server.log_text()
    assert [(logged[i]["method"], logged[i]["route"], logged[i]["status"]) for i in ("hs", "query")] == [
        ("GET", "/redox", 200),
        ("POST", "/redox", 200),
    ]
    assert TOKEN not in log and "c-1" not in log
    assert not any(s in log for s in (*SECRETS, "Traceback", "V-SERVER"))


def test_many_clients_at_once(server: Server) -> None:
    """Bookings and queries sent concurrently by several clients are all answered (each request opens its own
    store connection in its own thread) and every booking is committed once."""
    slots = server.post(seed()).json()["AvailableSlots"]
    numbers = [f"V-CONCURRENT-{n}" for n in range(len(slots))]

    def send(n: int) -> int:
        message = booking(slots[n], numbers[n]) if n < len(slots) else seed()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            headers = {"verification-token": TOKEN}
            return client.post("/redox", content=json.dumps(message), headers=headers).status_code

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, range(len(slots) + 6)))
    assert statuses == [200] * len(statuses)
    with CalendarStore(server.db) as store:
        booked = store.state().appointments
        assert all(booked[n].status == "booked" for n in numbers)
        assert store.integrity() == "ok"


def test_store_without_a_clinic_is_not_ready(tmp_path: Path) -> None:
    """On a store without a clinic, /readyz is 503 and an event is 503 with Retry-After (Redox retries it
    later); nothing of the message is echoed."""
    from tests.server.running import start_server

    CalendarStore(tmp_path / "empty.db").close()
    server = start_server(tmp_path / "empty.db", tmp_path / "server.log")
    try:
        with server.client() as client:
            assert client.get("/readyz").status_code == 503
        response = server.post(with_secrets(example("new.json")))
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert not any(s in response.text for s in SECRETS)
        assert server.post(seed()).status_code == 503
    finally:
        server.stop()


def test_a_scheduling_message_the_destination_does_not_handle_is_named(server: Server) -> None:
    """A Scheduling.Booked message is 400 with one problem at $.Meta.EventType naming what is handled,
    not the problems of reading it as an AvailableSlots query."""
    booked = with_secrets(example("new.json"))
    booked["Meta"]["EventType"] = "Booked"
    answer = server.post(booked)
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert [e["path"] for e in errors] == ["$.Meta.EventType"]
    assert errors[0]["rule"].startswith("is not a message this destination handles (AvailableSlots, Cancel")
    assert not any(s in answer.text for s in SECRETS)
