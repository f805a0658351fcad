"""The floor's working time: templates, openings, date-override hours and open times as one block table.

Written from docs/clinic-format.md and the README's DST policy, not from the engine's code. Wall time is
converted in bulk: per zone, the UTC offset changes in the range are found once, and a local wall minute
``L`` becomes ``L - offset`` where the offset is the one in force *before* a change until ``L`` reaches
``change + max(offset before, offset after)``. That is the "compatible" policy: a skipped wall time moves
forward by the gap, a repeated one takes the earlier instant. The policy is applied here; only the UTC
offset in force at an instant, a plain time-zone database lookup, is read from ``slotfinder.walltime``
(the one place allowed to import a time-zone library: tests/test_architecture.py).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from slotfinder import Clinic
from slotfinder.walltime import offset_at

__all__ = ["DAY", "EPOCH", "BlockTable", "Rules", "expand", "to_day"]

IntArray = npt.NDArray[np.int64]
DAY = 1440
EPOCH = dt.date(1970, 1, 1)
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)
_NEVER = np.iinfo(np.int64).max // 4  # an effective date that never comes (no bound)


def to_day(date: dt.date) -> int:
    """Days since 1970-01-01."""
    return (date - EPOCH).days


@functools.lru_cache(maxsize=256)
def _zone_table(name: str, first: int, last: int) -> tuple[IntArray, IntArray]:
    """(wall thresholds, offsets) of ``name`` for instants ``first``..``last``: ``offsets[i]`` is in force for
    wall minutes below ``thresholds[i]`` (and at or above the one before). Probed a day at a time, a change
    found by bisection: zones change their offset at most once a day."""
    thresholds: list[int] = []
    offsets = [offset_at(name, first)]
    at = first
    while at < last:
        nxt = at + DAY
        if offset_at(name, nxt) != offsets[-1]:
            same, other = at, nxt  # bisect to the first minute of the new offset
            while other - same > 1:
                middle = (same + other) // 2
                same, other = (middle, other) if offset_at(name, middle) == offsets[-1] else (same, middle)
            after = offset_at(name, other)
            thresholds.append(other + max(offsets[-1], after))
            offsets.append(after)
        at = nxt
    return np.array(thresholds, dtype=np.int64), np.array(offsets, dtype=np.int64)


@dataclass(frozen=True)
class Rules:
    """The clinic's working-time rules as columns (one row each), built once per clinic."""

    provider_ids: tuple[str, ...]  # sorted: provider index order is id order
    location_ids: tuple[str, ...]  # sorted
    zones: tuple[str, ...]  # per location
    zone_ids: dict[str, int]  # each zone once
    allowed: tuple[tuple[str, ...], ...]  # per rule: its visit types (empty: every type)
    rooms: tuple[str | None, ...]  # per rule: the block's room, if it names one
    # weekly templates
    t_rule: IntArray
    t_provider: IntArray
    t_location: IntArray
    t_weekdays: IntArray  # bit mask, Monday = bit 0
    t_from: IntArray  # first day in effect
    t_until: IntArray  # last day in effect
    t_start: IntArray  # wall minutes
    t_end: IntArray
    t_step: IntArray
    # one-off blocks on a local date: openings, then date-override hours
    o_rule: IntArray
    o_provider: IntArray
    o_location: IntArray
    o_day: IntArray
    o_start: IntArray
    o_end: IntArray
    o_step: IntArray
    # open times: instants
    x_rule: IntArray
    x_provider: IntArray
    x_location: IntArray
    x_start: IntArray
    x_end: IntArray
    x_step: IntArray  # 0: no grid of its own (one slot: the whole span)
    replaced: IntArray  # sorted keys (provider, location or -1, day) whose template blocks an override drops

    @staticmethod
    def of(clinic: Clinic) -> Rules:
        providers = tuple(sorted(p.id for p in clinic.providers))
        locations = tuple(sorted(loc.id for loc in clinic.locations))
        p_of = {p: i for i, p in enumerate(providers)}
        l_of = {loc: i for i, loc in enumerate(locations)}
        zone_of = {loc.id: loc.time_zone for loc in clinic.locations}
        allowed: list[tuple[str, ...]] = []
        rooms: list[str | None] = []

        def rule(visit_types: tuple[str, ...], room: str | None) -> int:
            allowed.append(visit_types)
            rooms.append(room)
            return len(allowed) - 1

        t = [
            (
                rule(r.visit_types, r.room),
                p_of[r.provider_id],
                l_of[r.location_id],
                sum(1 << d for d in r.weekdays),
                -_NEVER if r.effective_from is None else to_day(r.effective_from),
                _NEVER if r.effective_until is None else to_day(r.effective_until),
                r.start,
                r.end,
                r.slot_length,
            )
            for r in clinic.templates
        ]
        hours = [*clinic.openings, *(o for d in clinic.date_overrides for o in d.openings())]
        o = [
            (
                rule(r.visit_types, r.room),
                p_of[r.provider_id],
                l_of[r.location_id],
                to_day(r.date),
                r.start,
                r.end,
                r.slot_length,
            )
            for r in hours
        ]
        x = [
            (rule(r.visit_types, r.room), p_of[r.provider_id], l_of[r.location_id], r.start, r.end, r.slot_length or 0)
            for r in clinic.open_times
        ]
        replaced = sorted(
            _day_key(p_of[d.provider_id], -1 if d.location_id is None else l_of[d.location_id], to_day(d.date))
            for d in clinic.date_overrides
        )
        zones = tuple(zone_of[loc] for loc in locations)
        columns: dict[str, Any] = {}
        for prefix, rows, names in (("t_", t, _TEMPLATE), ("o_", o, _ONE_OFF), ("x_", x, _OPEN_TIME)):
            table = np.array(rows, dtype=np.int64).reshape(-1, len(names))
            columns.update({prefix + name: table[:, i].copy() for i, name in enumerate(names)})
        return Rules(
            provider_ids=providers,
            location_ids=locations,
            zones=zones,
            zone_ids={z: i for i, z in enumerate(sorted(set(zones)))},
            allowed=tuple(allowed),
            rooms=tuple(rooms),
            replaced=np.array(replaced, dtype=np.int64),
            **columns,
        )


_TEMPLATE = ("rule", "provider", "location", "weekdays", "from", "until", "start", "end", "step")
_ONE_OFF = ("rule", "provider", "location", "day", "start", "end", "step")
_OPEN_TIME = ("rule", "provider", "location", "start", "end", "step")


def _day_key(provider: IntArray | int, location: IntArray | int, day: IntArray | int) -> IntArray | int:
    """One integer per (provider, location or -1, day): days fit in 2**20 around the epoch's range."""
    return (provider * (1 << 16) + location + 1) * (1 << 22) + day + (1 << 21)


@dataclass(frozen=True)
class BlockTable:
    """Blocks of working time, sorted by (provider, location, start): instants and grid step."""

    rule: IntArray
    provider: IntArray
    location: IntArray
    start: IntArray
    end: IntArray
    step: IntArray


def _instants(rules: Rules, location: IntArray, wall: IntArray, first: int, last: int) -> IntArray:
    """Instants of local wall minutes (since the epoch, local) at each row's location, under the DST policy."""
    out = np.empty_like(wall)
    zone = np.array([rules.zone_ids[z] for z in rules.zones], dtype=np.int64)[location]
    for name, z in rules.zone_ids.items():
        rows = zone == z
        thresholds, offsets = _zone_table(name, first - 2 * DAY, last + 2 * DAY)
        out[rows] = wall[rows] - offsets[np.searchsorted(thresholds, wall[rows], side="right")]
    return out


def expand(rules: Rules, first: int, last: int, start_interval: int | None) -> BlockTable:
    """Every block on local days ``first``..``last`` (days since the epoch) and every open time touching them.

    A block whose end does not fall after its start (it lies in a spring-forward gap) has no time.
    """
    days = np.arange(first, last + 1, dtype=np.int64)
    weekday = (days + _EPOCH_WEEKDAY) % 7
    on = (rules.t_weekdays[:, None] >> weekday[None, :]) & 1 == 1
    on &= (rules.t_from[:, None] <= days[None, :]) & (days[None, :] <= rules.t_until[:, None])
    t, d = np.nonzero(on)
    day = days[d]
    if rules.replaced.size:  # a date override drops the provider's template blocks there (or everywhere)
        here = _day_key(rules.t_provider[t], rules.t_location[t], day)
        everywhere = _day_key(rules.t_provider[t], -1, day)
        kept = ~(np.isin(here, rules.replaced) | np.isin(everywhere, rules.replaced))
        t, day = t[kept], day[kept]
    o = np.flatnonzero((first <= rules.o_day) & (rules.o_day <= last))
    x = np.flatnonzero((rules.x_start < (last + 1) * DAY) & (rules.x_end > first * DAY))
    location = np.concatenate([rules.t_location[t], rules.o_location[o]])
    midnight = np.concatenate([day, rules.o_day[o]]) * DAY
    lo, hi = first * DAY, (last + 1) * DAY
    wall_start = midnight + np.concatenate([rules.t_start[t], rules.o_start[o]])
    wall_end = midnight + np.concatenate([rules.t_end[t], rules.o_end[o]])
    x_step = rules.x_step[x] if start_interval is None else np.full(x.size, start_interval, dtype=np.int64)
    x_step = np.where(x_step == 0, rules.x_end[x] - rules.x_start[x], x_step)  # no grid: the span is one slot
    step = np.concatenate([rules.t_step[t], rules.o_step[o]])
    if start_interval is not None:
        step = np.full(step.size, start_interval, dtype=np.int64)
    rule = np.concatenate([rules.t_rule[t], rules.o_rule[o], rules.x_rule[x]])
    provider = np.concatenate([rules.t_provider[t], rules.o_provider[o], rules.x_provider[x]])
    location = np.concatenate([location, rules.x_location[x]])
    start = np.concatenate([_instants(rules, location[: wall_start.size], wall_start, lo, hi), rules.x_start[x]])
    end = np.concatenate([_instants(rules, location[: wall_end.size], wall_end, lo, hi), rules.x_end[x]])
    step = np.concatenate([step, x_step])
    real = end > start
    order = np.lexsort((start[real], location[real], provider[real]))
    return BlockTable(*(column[real][order] for column in (rule, provider, location, start, end, step)))
