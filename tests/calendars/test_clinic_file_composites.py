"""Composite visit types in the clinic file: read, written back, and bad definitions named by path."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest

from slotfinder import InvalidClinic, clinic_to_dict, demo_clinic, load_clinic
from slotfinder._composite_types import CompositeVisitType, SameProvider, Series, Step


def _demo() -> dict[str, Any]:
    text = resources.files("slotfinder").joinpath("data/demo_clinic.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _with(*composites: dict[str, Any]) -> dict[str, Any]:
    data = _demo()
    data["composites"] = list(composites)
    return data


def _problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(InvalidClinic) as caught:
        load_clinic(data)
    return [(p.path, p.rule) for p in caught.value.problems]


def test_the_demo_clinic_has_a_sequence_and_a_series() -> None:
    clinic = demo_clinic()
    sequence, series = clinic.composites
    assert sequence == CompositeVisitType(
        "300",
        "DNER15",
        "Cardiac Work-up (office visit, then cardiology consult)",
        steps=(Step("210"), Step("230", ("1356072918",), min_gap=0, max_gap=90)),
    )
    assert series.series == Series("220", 4, 7, 1, SameProvider.PREFERRED)


def test_composites_round_trip_through_the_file_format() -> None:
    clinic = demo_clinic()
    assert load_clinic(clinic_to_dict(clinic)) == clinic


def test_a_sequence_with_a_role_of_two_is_read() -> None:
    roles = [{"providers": ["1234567890"]}, {"providers": ["1538296147", "1093817264"], "count": 1}]
    data = _with({"code": "900", "steps": [{"visit_type": "210", "roles": roles}]})
    (composite,) = load_clinic(data).composites
    assert composite.steps[0].size == 2


@pytest.mark.parametrize(
    ("composite", "expected"),
    [
        (  # max gap < min gap (allows: the same with max 30, below)
            {"code": "900", "steps": [{"visit_type": "210"}, {"visit_type": "220", "min_gap": 30, "max_gap": 10}]},
            [("$.composites[0].steps[1].max_gap", "must not be less than min_gap")],
        ),
        (  # a series of no visits
            {"code": "900", "series": {"visit_type": "220", "count": 0}},
            [("$.composites[0].series.count", "must be at least 1")],
        ),
        (  # a role that no provider of its list offers (Lindqvist does no procedures)
            {"code": "900", "steps": [{"visit_type": "240", "providers": ["1234567890"]}]},
            [("$.composites[0].steps[0].providers", "too few of these providers offer the step's visit type")],
        ),
        (  # k > n
            {"code": "900", "steps": [{"visit_type": "210", "roles": [{"providers": ["1234567890"], "count": 2}]}]},
            [("$.composites[0].steps[0].roles[0].count", "must not exceed the number of providers listed")],
        ),
        (  # the code of an ordinary visit type
            {"code": "210", "codeset": "DNER15", "series": {"visit_type": "220", "count": 2}},
            [("$.composites[0].code", "is the code of a visit type: a composite needs its own")],
        ),
        (
            {"code": "900", "steps": [{"visit_type": "220"}], "series": {"visit_type": "220", "count": 2}},
            [("$.composites[0].series", "give steps or series, not both")],
        ),
        (
            {"code": "900", "series": {"visit_type": "999", "count": 2, "same_provider": "maybe"}},
            [("$.composites[0].series.same_provider", "must be one of required, preferred, any")],
        ),
        (
            {"code": "900", "series": {"visit_type": "999", "count": 2}},
            [("$.composites[0].series.visit_type", "is not a visit type of the clinic")],
        ),
        (
            {"code": "900", "series": {"visit_type": "220", "count": 3, "interval_days": 2, "tolerance_days": 2}},
            [("$.composites[0].series.tolerance_days", "must be less than interval_days")],
        ),
        (
            {"code": "900", "steps": [{"visit_type": "210"}, {"visit_type": "220", "roles": [{"count": 1}], "x": 1}]},
            [("$.composites[0].steps[1].x", "unknown key")],
        ),
    ],
)
def test_bad_definitions_are_named_by_path(composite: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    found = _problems(_with(composite))
    assert found == expected


def test_the_good_twins_of_the_bad_definitions_load() -> None:
    """Each rule's allowed side: gaps in order, one visit, a role its members offer, k = n."""
    good: list[dict[str, Any]] = [
        {"code": "901", "steps": [{"visit_type": "210"}, {"visit_type": "220", "min_gap": 10, "max_gap": 30}]},
        {"code": "902", "series": {"visit_type": "220", "count": 1}},
        {"code": "903", "steps": [{"visit_type": "240", "providers": ["1669473825"]}]},
        {"code": "904", "steps": [{"visit_type": "210", "roles": [{"providers": ["1234567890"], "count": 1}]}]},
        {"code": "905", "series": {"visit_type": "220", "count": 3, "interval_days": 3, "tolerance_days": 2}},
    ]
    assert len(load_clinic(_with(*good)).composites) == len(good)


def test_no_value_of_the_file_is_repeated_in_a_composite_error() -> None:
    secret = "Sentinel-Patient-4242"
    data = _with({"code": "900", "steps": [{"visit_type": secret, "providers": [secret]}]})
    assert secret not in json.dumps(_problems(copy.deepcopy(data)))
