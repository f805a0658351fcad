"""Weekly metrics of many runs: one frame, means and spreads over replicates, whole runs by load.

``combine`` joins ``weekly_metrics`` frames of several runs; ``summarize`` gives mean and standard
deviation per load, week and visit type; ``load_summary`` whole-run values per load and visit type.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from slotfinder.planning._run_result import WEEKLY_COLUMNS, ratio

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["combine", "load_summary", "summarize"]


def combine(runs: Iterable[tuple[float, int, pd.DataFrame]]) -> pd.DataFrame:
    """Weekly frames of several runs, as ``(load, replicate, frame)``, in one frame with those two columns first."""
    import pandas as pd

    parts = [frame.assign(load=load, replicate=replicate) for load, replicate, frame in runs]
    if not parts:
        return pd.DataFrame(columns=["load", "replicate", *WEEKLY_COLUMNS])
    joined = pd.concat(parts, ignore_index=True)
    return joined[["load", "replicate", *WEEKLY_COLUMNS]]


_SUMMARY_METRICS = [
    "tna_days_mean",
    "first_available_days_mean",
    "utilisation",
    "fill_rate",
    "decline_rate",
    "preferred_day_share",
    "preferred_time_share",
    "declined",
    "requests",
    "load_ratio",
]


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over replicates of each weekly metric, per load, week and visit type."""
    keys = ["load", "week", "week_start", "visit_type"]
    grouped = frame.groupby(keys, sort=False)
    means = grouped[_SUMMARY_METRICS].mean()
    stds = grouped[_SUMMARY_METRICS].std(ddof=1).add_suffix("_std")
    counts = grouped["replicate"].nunique().rename("replicates")
    return means.join(stds).join(counts).reset_index()


def load_summary(frame: pd.DataFrame, skip_weeks: int = 0) -> pd.DataFrame:
    """Per load and visit type, each replicate's whole-run metrics (after ``skip_weeks`` warm-up weeks),
    then their mean and standard deviation over replicates.

    Whole-run values are recomputed from totals (fill rate = bookings / requests, utilisation = booked /
    template minutes, TNA = mean over every measured request), not averaged over weeks; ``declined``
    and ``requests`` are per week.
    """
    import pandas as pd

    weeks = sorted(frame["week_start"].unique())
    kept = frame[frame["week_start"].isin(weeks[skip_weeks:])]
    per_run = []
    for (load, replicate, code), part in kept.groupby(["load", "replicate", "visit_type"], sort=False):
        measured = part["tna_measured"].sum()
        firsts = part["first_measured"]
        per_run.append(
            {
                "load": load,
                "replicate": replicate,
                "visit_type": code,
                "requests": ratio(part["requests"].sum(), part["week_start"].nunique()),  # per week
                "tna_days_mean": ratio((part["tna_days_mean"].fillna(0) * part["tna_measured"]).sum(), measured),
                "first_available_days_mean": ratio(
                    (part["first_available_days_mean"].fillna(0) * firsts).sum(), firsts.sum()
                ),
                "utilisation": ratio(part["booked_minutes"].sum(), part["template_minutes"].sum()),
                "fill_rate": ratio(part["booked"].sum(), part["requests"].sum()),
                "decline_rate": ratio(part["declined"].sum(), part["offered"].sum()),
                "preferred_day_share": ratio(
                    (part["preferred_day_share"].fillna(0) * part["day_preference_bookings"]).sum(),
                    part["day_preference_bookings"].sum(),
                ),
                "preferred_time_share": ratio(
                    (part["preferred_time_share"].fillna(0) * part["time_preference_bookings"]).sum(),
                    part["time_preference_bookings"].sum(),
                ),
                "declined": ratio(part["declined"].sum(), part["week_start"].nunique()),  # per week
                "load_ratio": ratio(part["demand_minutes"].sum(), part["template_minutes"].sum()),
            }
        )
    runs = pd.DataFrame(per_run, columns=["load", "replicate", "visit_type", *_LOAD_METRICS])
    grouped = runs.groupby(["load", "visit_type"], sort=False)
    means = grouped[_LOAD_METRICS].mean()
    stds = grouped[_LOAD_METRICS].std(ddof=1).add_suffix("_std")
    counts = grouped["replicate"].nunique().rename("replicates")
    return means.join(stds).join(counts).reset_index()


# The same metrics as the weekly summary, with the request count first (column order of load.csv).
_LOAD_METRICS = ["requests", *(m for m in _SUMMARY_METRICS if m != "requests")]
