"""The shared problem-collecting reader: each read allows what it should, records what it forbids, at the path.

Every test also checks that no recorded problem repeats the value read: patient data must never reach
an error, not even when it is used as a JSON key.
"""

from __future__ import annotations

from typing import Any

import attrs
import cattrs
import pytest
from cattrs.errors import ClassValidationError

from slotfinder._errors import InvalidMessage, Problem
from slotfinder._problems import (
    Dialect,
    Problems,
    Reader,
    RuleError,
    data_key_path,
    item_path,
    key_path,
    structure_problems,
)

SECRET = "MRN-SECRET-4711"


def problems_of(reader: Reader) -> list[str]:
    """The problems recorded so far, as ``path: rule``, none of them repeating the secret."""
    found = [str(p) for p in reader.problems]
    assert not any(SECRET in text for text in found)
    return found


def read(value: Any, dialect: Dialect | None = None) -> Reader:
    """A reader of ``value`` at ``$.Field``."""
    return Reader({"Field": value}, "$", Problems(), dialect or Dialect()).at("Field")


# ---- paths --------------------------------------------------------------------------------------


def test_paths_are_built_in_json_path_style() -> None:
    """Keys join with a dot and indices go in brackets, from any root (``$`` or ``file:$``)."""
    assert item_path(key_path("$", "Visit"), 0) == "$.Visit[0]"
    assert key_path("calendars.json:$[2]", "file") == "calendars.json:$[2].file"
    root = Reader({"Visit": {"VisitType": [{"Code": "210"}]}})
    assert root.at("Visit").at("VisitType").item(0).at("Code").path == "$.Visit.VisitType[0].Code"


def test_a_data_key_is_named_only_when_it_looks_like_a_field_name() -> None:
    """``Urgency`` is named; an identifier used as a key is not, the path stops at its object."""
    assert data_key_path("$.Visit", "Urgency") == "$.Visit.Urgency"
    assert data_key_path("$.Visit", SECRET) == "$.Visit"
    assert data_key_path("$.Visit", "x" * 41) == "$.Visit"


def test_descending_through_missing_or_wrong_shapes_reads_absent() -> None:
    """``at`` on a non-object and ``item`` past the end or on a non-array give an absent value, no problem."""
    root = Reader({"List": [1], "Text": SECRET})
    assert root.at("Missing").at("Deeper").value is None
    assert root.at("Text").at("Key").value is None
    assert root.at("List").item(1).value is None
    assert root.at("List").item(-1).value is None
    assert root.at("Text").item(0).value is None
    assert root.at("List").item(0).value == 1
    assert not root.at("Missing").present
    assert problems_of(root) == []


def test_the_value_is_never_in_a_reader_repr() -> None:
    """A reader that ends up in a log or a traceback shows its path, not what it holds."""
    assert SECRET not in repr(read(SECRET))
    assert "$.Field" in repr(read(SECRET))


# ---- typed reads: allows and forbids ------------------------------------------------------------


@pytest.mark.parametrize("value", ["a", " padded ", "0"])
def test_string_allows_text_as_sent(value: str) -> None:
    """Non-blank text is returned unchanged."""
    reader = read(value)
    assert reader.string(required=True) == value
    assert problems_of(reader) == []


@pytest.mark.parametrize("value", [5, 5.5, True, [SECRET], {SECRET: SECRET}])
def test_string_forbids_other_json_types(value: Any) -> None:
    """A number, a boolean, an array or an object is not text."""
    reader = read(value)
    assert reader.string() is None
    assert problems_of(reader) == ["$.Field: must be a string"]


def test_string_absent_or_blank_is_a_problem_only_when_required() -> None:
    """null, a missing key and blank text count as absent by default: a problem only when required."""
    for value in (None, "", "   "):
        assert read(value).string() is None
        assert problems_of(read(value)) == []
        reader = read(value)
        assert reader.string(required=True) is None
        assert problems_of(reader) == ["$.Field: is required"]


def test_string_dialects_word_and_bend_the_rules() -> None:
    """A dialect can refuse blank text with its own rule, and read whole numbers as text (IDs sent as numbers)."""
    strict = Dialect(string="must be a non-empty string", blank_string="must be a non-empty string")
    reader = read("  ", strict)
    assert reader.string() is None
    assert problems_of(reader) == ["$.Field: must be a non-empty string"]
    lenient = Dialect(integers_as_text=True)
    assert read(4711, lenient).string() == "4711"
    for value in (47.5, True):
        reader = read(value, lenient)
        assert reader.string() is None
        assert problems_of(reader) == ["$.Field: must be a string"]


def test_flag_allows_true_and_false_only() -> None:
    """JSON booleans are flags; the text "true" and the number 1 are not."""
    assert read(True).flag() is True
    assert read(False).flag(required=True) is False
    for value in ("true", 1, SECRET):
        reader = read(value)
        assert reader.flag() is None
        assert problems_of(reader) == ["$.Field: must be true or false"]
    reader = read(None)
    assert reader.flag(required=True) is None
    assert problems_of(reader) == ["$.Field: is required"]


def test_number_allows_finite_numbers() -> None:
    """Integers and fractions are numbers; booleans, text and non-finite floats are not."""
    assert read(3).number() == 3
    assert read(2.5).number() == 2.5
    for value in (True, "3", float("inf"), float("nan"), [3]):
        reader = read(value)
        assert reader.number() is None
        assert problems_of(reader) == ["$.Field: must be a number"]


def test_whole_allows_whole_numbers_written_either_way() -> None:
    """30 and 30.0 are whole; 30.5, "30", true and infinity are not (the dialect words the rule)."""
    assert read(30).whole() == 30
    assert read(30.0).whole() == 30
    minutes = Dialect(whole="must be a whole number of minutes")
    for value in (30.5, "30", True, float("inf")):
        reader = read(value, minutes)
        assert reader.whole() is None
        assert problems_of(reader) == ["$.Field: must be a whole number of minutes"]


def test_numbers_too_large_for_a_float_are_read_not_crashed_on() -> None:
    """10**400 is a whole JSON number (Python's ``math.isfinite`` would overflow on it): read as given,
    for the caller's own range rule to refuse."""
    assert read(10**400).number() == 10**400
    assert read(10**400).whole() == 10**400
    assert read(-(10**400)).whole() == -(10**400)


def test_object_allows_objects_and_returns_the_reader() -> None:
    """An object reads as its own reader (to descend from); anything else is a problem."""
    reader = read({"Key": 1})
    found = reader.object(required=True)
    assert found is reader
    wrong_shapes: list[Any] = [[], SECRET, 5]
    for value in wrong_shapes:
        wrong = read(value)
        assert wrong.object() is None
        assert problems_of(wrong) == ["$.Field: must be an object"]
    missing = read(None)
    assert missing.object() is None
    assert problems_of(missing) == []
    assert missing.object(required=True) is None
    assert problems_of(missing) == ["$.Field: is required"]


def test_items_gives_one_reader_per_item_with_its_index() -> None:
    """An array's items are read at ``path[i]``; a non-array is a problem and reads as no items."""
    reader = read(["a", SECRET])
    assert [(i.path, i.value) for i in reader.items()] == [("$.Field[0]", "a"), ("$.Field[1]", SECRET)]
    wrong = read({"0": SECRET})
    assert wrong.items() == []
    assert problems_of(wrong) == ["$.Field: must be an array"]


def test_items_required_and_non_empty_have_their_own_rules() -> None:
    """A required array may have its own missing rule; ``non_empty`` refuses []."""
    dialect = Dialect(required_array="is required (a non-empty list)")
    missing = read(None, dialect)
    assert missing.items(required=True) == []
    assert problems_of(missing) == ["$.Field: is required (a non-empty list)"]
    empty = read([], dialect)
    assert empty.items(required=True) == []
    assert problems_of(empty) == []
    assert empty.items(required=True, non_empty=True) == []
    assert problems_of(empty) == ["$.Field: must not be empty"]


def test_unknown_keys_are_named_only_when_they_look_like_field_names() -> None:
    """A key outside the known ones is a problem; an identifier used as a key is reported at its object."""
    reader = read({"file": "a.ics", "Urgency": 1, SECRET: "MR"})
    reader.unknown_keys({"file"})
    assert problems_of(reader) == ["$.Field.Urgency: unknown key", "$.Field: unknown key"]


def _weekday(text: str) -> int:
    if text != "Mon":
        raise RuleError("is not a weekday")
    return 0


def test_parsed_reads_text_then_records_the_parsers_rule() -> None:
    """``parsed`` applies a parser to the text; its RuleError is recorded at the path, without the value."""
    assert read("Mon").parsed(_weekday) == 0
    reader = read(SECRET)
    assert reader.parsed(_weekday) is None
    assert problems_of(reader) == ["$.Field: is not a weekday"]
    absent = read(None)
    assert absent.parsed(_weekday, required=True) is None
    assert problems_of(absent) == ["$.Field: is required"]


def test_a_parser_error_that_is_not_a_rule_is_not_repeated() -> None:
    """A plain ValueError may quote the value (int() does): only "is malformed" is recorded."""
    reader = read(SECRET)
    assert reader.parsed(int) is None
    assert problems_of(reader) == ["$.Field: is malformed"]
    applied = read(SECRET)
    assert applied.apply(int) is None
    assert problems_of(applied) == ["$.Field: is malformed"]


def test_apply_sees_absent_values_too() -> None:
    """``apply`` hands over whatever is there, null included, so the reader decides what absent means."""

    def required(value: Any) -> str:
        if value is None:
            raise RuleError("is required")
        return str(value)

    reader = read(None)
    assert reader.apply(required) is None
    assert problems_of(reader) == ["$.Field: is required"]


# ---- collecting and raising ---------------------------------------------------------------------


def test_problems_keep_their_order_and_drop_repeats() -> None:
    """Problems come out in the order found; the same rule at the same path is kept once."""
    problems = Problems()
    problems.add("$.B", "is required")
    problems.add("$.A", "is required")
    problems.extend([Problem("$.B", "is required"), Problem("$.C", "must be a string")])
    assert list(problems) == [
        Problem("$.B", "is required"),
        Problem("$.A", "is required"),
        Problem("$.C", "must be a string"),
    ]
    assert len(problems) == 3


def test_raise_if_any_raises_every_problem_at_once() -> None:
    """Nothing recorded: nothing raised. Otherwise one error lists them all."""
    root = Reader({"Visit": {"VisitNumber": 7.5}})
    root.problems.raise_if_any(InvalidMessage)
    visit = root.at("Visit")
    visit.at("VisitNumber").string(required=True)
    visit.at("VisitDateTime").string(required=True)
    with pytest.raises(InvalidMessage) as caught:
        root.problems.raise_if_any(InvalidMessage)
    assert [str(p) for p in caught.value.problems] == [
        "$.Visit.VisitNumber: must be a string",
        "$.Visit.VisitDateTime: is required",
    ]


# ---- cattrs structuring errors ------------------------------------------------------------------


@attrs.define
class _Item:
    id_type: str
    count: int = 0


@attrs.define
class _Outer:
    items: list[_Item]
    name: str | None = None


def _strict_str(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _strict_int(value: Any, _: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleError("must be a whole number")
    return value


def _converter(*, forbid_extra_keys: bool = False) -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=forbid_extra_keys)
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(int, _strict_int)
    return converter


def _structure_error(data: Any, *, forbid_extra_keys: bool = False) -> BaseException:
    with pytest.raises(ClassValidationError) as caught:
        _converter(forbid_extra_keys=forbid_extra_keys).structure(data, _Outer)
    return caught.value


def test_structure_problems_name_keys_and_indices() -> None:
    """Missing keys, RuleErrors and type errors each come out at their JSON path, in cattrs' order."""
    error = _structure_error({"items": [{"id_type": "MR"}, {"count": "7"}, {"id_type": 5, "count": 2}]})
    found = structure_problems(error)
    assert [str(p) for p in found] == [
        "$.items[1].id_type: is required",
        "$.items[1].count: must be a whole number",
        "$.items[2].id_type: is malformed",
    ]


def test_structure_problems_rename_keys_and_word_type_errors() -> None:
    """``key`` names attributes as the JSON does; ``expected`` words a type error from the declared type."""
    error = _structure_error({"items": [{"id_type": [SECRET]}], "name": 4711})

    def expected(type_: Any) -> str | None:
        return "must be a string or null" if type_ == str | None else "must be a string" if type_ is str else None

    found = structure_problems(
        error,
        dialect=Dialect(malformed="invalid value"),
        key=lambda name: name.title().replace("_", ""),
        expected=expected,
    )
    assert [str(p) for p in found] == ["$.Items[0].IdType: must be a string", "$.Name: must be a string or null"]
    assert not any(SECRET in str(p) or "4711" in str(p) for p in found)


def test_structure_problems_never_repeat_extra_keys_that_are_values() -> None:
    """Forbidden extra keys are one problem each; one that does not look like a field name is not named."""
    error = _structure_error({"items": [], "colour": 1, SECRET: "MR"}, forbid_extra_keys=True)
    found = structure_problems(error, "file.json:$", dialect=Dialect(unknown_key="unknown key"))
    assert [str(p) for p in found] == ["file.json:$: unknown key", "file.json:$.colour: unknown key"]


def test_structure_problems_of_a_top_level_rule_error() -> None:
    """An error outside any class (the root's own hook) is reported at the root path."""
    assert structure_problems(RuleError("must be an object")) == [Problem("$", "must be an object")]
    assert structure_problems(KeyError(SECRET), dialect=Dialect(required="required key is missing")) == [
        Problem("$", "required key is missing")
    ]
    assert structure_problems(TypeError(SECRET)) == [Problem("$", "is malformed")]
