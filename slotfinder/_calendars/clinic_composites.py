"""Rules of a clinic's composite visit types (sequences and series), checked on the structured clinic.

Paths are the clinic file's (``$.composites[0].steps[1].max_gap``); values are never repeated.
Beyond the rules every search request obeys (``slotfinder._composite``), a definition in the clinic
must not reuse a visit type's code, must give steps or a series (one of them), and each role must
name someone who offers the step's visit type in some template, opening, date override or open time.
"""

from __future__ import annotations

from slotfinder._composite import Step, series_problems, steps_problems
from slotfinder._composite_types import CompositeVisitType
from slotfinder._domain import Clinic
from slotfinder._errors import Problem

__all__ = ["composite_problems", "offered_types"]


def offered_types(clinic: Clinic) -> dict[str, set[str] | None]:
    """Per provider, the visit-type codes some block of theirs allows (None: a block allows every type)."""
    offered: dict[str, set[str] | None] = {}
    blocks: list[tuple[str, tuple[str, ...]]] = [(t.provider_id, t.visit_types) for t in clinic.templates]
    blocks += [(o.provider_id, o.visit_types) for o in clinic.openings]
    blocks += [(o.provider_id, o.visit_types) for o in clinic.open_times]
    blocks += [(o.provider_id, h.visit_types) for o in clinic.date_overrides for h in o.hours]
    for provider, types in blocks:
        known = offered.get(provider, set())
        if not types or known is None:
            offered[provider] = None
        else:
            offered[provider] = known | set(types)
    return offered


def _role_problems(at: str, step: Step, clinic: Clinic, offered: dict[str, set[str] | None]) -> list[Problem]:
    problems: list[Problem] = []
    everyone = tuple(p.id for p in clinic.providers)
    for j, role in enumerate(step.participants):
        able = [
            p
            for p in (role.providers or everyone)
            if p in offered and step.visit_type in (offered[p] or {step.visit_type})
        ]
        if len(able) < role.count:
            where = f"{at}.roles[{j}]" if step.roles else f"{at}.providers"
            problems.append(Problem(where, "too few of these providers offer the step's visit type"))
    return problems


def _definition_problems(at: str, composite: CompositeVisitType, clinic: Clinic) -> list[Problem]:
    people = frozenset(p.id for p in clinic.providers)
    offered = offered_types(clinic)
    if composite.series is not None and composite.steps:
        return [Problem(f"{at}.series", "give steps or series, not both")]
    if composite.series is not None:
        series = composite.series
        problems = series_problems(f"{at}.series", series)
        first = Step(series.visit_type, series.providers, codeset=series.codeset)
        for p in steps_problems((first,), people, clinic.visit_types, f"{at}.series"):
            problems.append(Problem(p.path.replace(f"{at}.series[0]", f"{at}.series"), p.rule))
        if not problems:
            problems += _role_problems(f"{at}.series", first, clinic, offered)
        return problems
    problems = steps_problems(composite.steps, people, clinic.visit_types, f"{at}.steps")
    if not problems:
        for i, step in enumerate(composite.steps):
            problems += _role_problems(f"{at}.steps[{i}]", step, clinic, offered)
    return problems


def composite_problems(clinic: Clinic) -> list[Problem]:
    """Every rule the clinic's composite definitions break."""
    problems: list[Problem] = []
    simple = {(v.code, v.codeset) for v in clinic.visit_types}
    seen: set[tuple[str, str | None]] = set()
    for i, composite in enumerate(clinic.composites):
        at = f"$.composites[{i}]"
        key = (composite.code, composite.codeset)
        if not composite.code.strip():
            problems.append(Problem(f"{at}.code", "must not be empty"))
        elif any(c == composite.code and (s == composite.codeset or None in (s, composite.codeset)) for c, s in simple):
            problems.append(Problem(f"{at}.code", "is the code of a visit type: a composite needs its own"))
        elif key in seen:
            problems.append(Problem(f"{at}.code", "repeats the code of an earlier composite"))
        seen.add(key)
        problems += _definition_problems(at, composite, clinic)
    return problems
