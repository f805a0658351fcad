"""Whatever a client sends to $hold or $book, the answer is an OperationOutcome or a Bundle: never a crash,
never a value of the request in an error (the function behind the route, on a demo store)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotfinder.server._fhir_book import reserve
from tests.server.running import demo_store

MARK = "Qz-planted-971"
HOLD = dt.timedelta(minutes=10)

_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.just(MARK), st.sampled_from(
    ["Practitioner/1234567890", "Location/res-3n", "Appointment/x", "2030-01-07T15:00:00Z", "proposed", "pending",
     "Patient", "Practitioner", "Location", "http://hl7.org/fhir/sid/us-npi", "210"]))  # fmt: skip
_json = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "resourceType",
                    "status",
                    "start",
                    "end",
                    "participant",
                    "actor",
                    "type",
                    "reference",
                    "identifier",
                    "system",
                    "value",
                    "serviceType",
                    "coding",
                    "code",
                    "id",
                    MARK,
                ]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


def _parameters(name: str, value: Any) -> dict[str, Any]:
    key = "valueReference" if name == "appointment-reference" else "resource"
    appointment = dict(value, resourceType="Appointment") if isinstance(value, dict) and key == "resource" else value
    return {"resourceType": "Parameters", "parameter": [{"name": name, key: appointment}]}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(demo_store(tmp_path_factory.mktemp("inputs") / "clinic.db"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    operation=st.sampled_from(["hold", "book"]),
    name=st.sampled_from(["appointment-resource", "appointment-reference", "appointment"]),
    value=_json,
)
def test_any_body_is_answered_without_echo(db: str, operation: str, name: str, value: Any) -> None:
    reply = reserve(operation, json.dumps(_parameters(name, value)), db, HOLD)
    body = json.loads(reply.body)
    assert body["resourceType"] in ("OperationOutcome", "Bundle")
    if reply.status >= 400:
        assert body["resourceType"] == "OperationOutcome" and reply.status in (400, 404, 409)
        assert MARK not in reply.body.decode()
