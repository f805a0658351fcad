"""Lenient Redox value readers: what is accepted, what is refused, and that refusals echo nothing."""

from __future__ import annotations

import pytest

from slotfinder._problems import RuleError
from slotfinder.redox._values import parse_day, parse_duration, parse_instant, parse_time


@pytest.mark.parametrize(
    ("text", "weekday"),
    [("Mon", 0), ("Tues", 1), ("tu", 1), ("TUE", 1), ("Wednesday", 2), ("Thur", 3), ("th", 3), ("Fri", 4),
     ("sa", 5), ("Sun", 6), (" fri ", 4)],
)  # fmt: skip
def test_day_accepts_prefixes_and_names(text: str, weekday: int) -> None:
    """Days: 2-, 3-, 4-letter prefixes and full names, any case (HL7 0294 and Redox samples)."""
    assert parse_day(text) == weekday


@pytest.mark.parametrize("text", ["T", "S", "", "Funday", "xx", "Tuesdays"])
def test_day_refuses_ambiguous_or_unknown(text: str) -> None:
    """One letter is ambiguous (T, S); unknown names are refused."""
    with pytest.raises(ValueError, match="weekday"):
        parse_day(text)


@pytest.mark.parametrize(
    ("text", "minute"),
    [("1000", 600), ("0930", 570), ("930", 570), ("10:00", 600), ("23:59", 1439), ("10:00 AM", 600),
     ("2:30 pm", 870), ("12 AM", 0), ("12:15 PM", 735), ("9am", 540)],
)  # fmt: skip
def test_time_accepts_hhmm_and_12_hour(text: str, minute: int) -> None:
    """Times: HHMM, HH:MM and H[:MM] AM/PM."""
    assert parse_time(text) == minute


@pytest.mark.parametrize("text", ["2400", "1060", "13 PM", "noon", "", "10:0"])
def test_time_refuses_impossible(text: str) -> None:
    """Hours beyond 23, minutes beyond 59 and words are refused."""
    with pytest.raises(ValueError, match=r"time of day|12-hour"):
        parse_time(text)


@pytest.mark.parametrize(
    ("value", "unit", "minutes"),
    [("30", "minutes", 30), ("30", None, 30), (45, "min", 45), ("1", "hour", 60), ("1.5", "hrs", 90), ("2", "H", 120)],
)
def test_duration_units(value: str | int, unit: str | None, minutes: int) -> None:
    """Durations: numbers (or numeric strings) in minutes or hours, default minutes."""
    assert parse_duration(value, unit) == minutes


@pytest.mark.parametrize(
    ("value", "unit", "rule"),
    [("0", None, "positive"), ("-5", None, "positive"), ("1441", None, "at most a day"), ("25", "hours", "at most"),
     ("ten", None, "number"), ("30", "fortnights", "unit"), ("7.5", None, "whole")],
)  # fmt: skip
def test_duration_refusals(value: str, unit: str | None, rule: str) -> None:
    """Zero, negative, over a day, non-numeric, unknown unit and fractional minutes are refused."""
    with pytest.raises(ValueError, match=rule):
        parse_duration(value, unit)


@pytest.mark.parametrize(
    ("text", "instant"),
    [("2016-08-01T10:00:00Z", 24500760), ("2016-08-01 10:00:00Z", 24500760), ("2016-08-01T10:00:00.000Z", 24500760),
     ("2016-08-01T05:00:00-05:00", 24500760), ("2016-08-01T10:00:00+0000", 24500760),
     ("2016-08-01T10:00:27.415Z", 24500761)],
)  # fmt: skip
def test_instant_forms(text: str, instant: int) -> None:
    """The three forms seen in Redox samples; offsets honoured; seconds round up to the minute."""
    assert parse_instant(text) == instant


def test_instant_without_offset_is_named_as_such() -> None:
    """A date-time without an offset is an error that says so."""
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_instant("2016-08-01T10:00:00")


def test_instant_malformed() -> None:
    """Garbage with a Z is still not a date-time."""
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_instant("yesterdayZ")


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e999"])
def test_duration_refuses_non_finite_numbers(value: str) -> None:
    """Text Python reads as an infinite or undefined float is not a number of minutes (and no crash)."""
    with pytest.raises(ValueError, match="must be a number"):
        parse_duration(value, None)


def test_refusals_are_rule_errors_that_never_quote_the_value() -> None:
    """Every refusal is a RuleError (a ValueError) whose message is the rule alone."""
    for parse, text in ((parse_day, "Timothy"), (parse_time, "Timothy"), (parse_instant, "Timothy")):
        with pytest.raises(RuleError) as caught:
            parse(text)
        assert "Timothy" not in str(caught.value)
    with pytest.raises(RuleError) as refused:
        parse_duration("Timothy", "Bixby")
    assert "Timothy" not in str(refused.value) and "Bixby" not in str(refused.value)
