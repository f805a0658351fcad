"""Replicates: in this process, on local processes and on a local Dask cluster, the results are identical."""

from __future__ import annotations

import datetime as dt

import pytest
from distributed import LocalCluster

from slotfinder.planning import (
    ArrivalRate,
    Replicate,
    SimulationSpec,
    replicate_seed,
    run_replicates,
    synthetic_clinic,
)
from tests.clinic_builders import ZONE, at

START = dt.date(2025, 10, 20)  # the synthetic clinic's first day (a Monday)
LOADS = (1.0, 2.0)


def _spec() -> SimulationSpec:
    return SimulationSpec(
        start=at(START, "00:00"),
        weeks=1,
        seed=11,
        rates=[ArrivalRate("OV", 3.0), ArrivalRate("FU", 3.0)],
        k=3,
        horizon_days=14,
        tna_horizon_days=28,
        zone=ZONE,
    )


def _keys(runs: list[Replicate]) -> list[tuple[float, int, int]]:
    return [(r.load, r.index, r.seed) for r in runs]


def test_serial_processes_and_dask_give_identical_results() -> None:
    """Serial, process-pool and Dask runs of the same replicates are equal, sorted by load and index,
    with seeds from the master seed (the same at every load)."""
    clinic = synthetic_clinic(providers=2, days=21, grain=15, booked=0.4, seed=5)
    spec = _spec()
    serial = run_replicates(clinic, spec, 2, loads=LOADS, workers=0, progress=False)
    local = run_replicates(clinic, spec, 2, loads=LOADS, workers=2, progress=False)
    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:  # fmt: skip
        on_dask = run_replicates(clinic, spec, 2, loads=LOADS, scheduler=cluster.scheduler_address, progress=False)
    assert _keys(serial) == [
        (1.0, 0, replicate_seed(11, 0)),
        (1.0, 1, replicate_seed(11, 1)),
        (2.0, 0, replicate_seed(11, 0)),  # common random numbers across loads
        (2.0, 1, replicate_seed(11, 1)),
    ]
    assert serial == local
    assert serial == on_dask
    # the runs differ where they should: replicates by seed, loads by the number of requests
    assert serial[0].result.requests != serial[1].result.requests
    assert len(serial[2].result.requests) > len(serial[0].result.requests)
    assert serial[2].result.spec.load == 2.0


def test_replicate_seeds_come_from_the_master_seed() -> None:
    """Replicate seeds are distinct, repeatable, depend on the master seed and fit in 63 bits."""
    seeds = [replicate_seed(11, i) for i in range(50)]
    assert len(set(seeds)) == 50
    assert seeds == [replicate_seed(11, i) for i in range(50)]
    assert replicate_seed(12, 0) != seeds[0]
    assert all(0 <= s < 2**63 for s in seeds)


def test_progress_bar_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    """A progress bar shows on stderr when asked for, and nothing when not."""
    clinic = synthetic_clinic(providers=1, days=10, grain=15, booked=0.4, seed=5)
    spec = SimulationSpec(
        start=at(START, "00:00"), weeks=1, rates=[ArrivalRate("OV", 1.0)], horizon_days=7, tna_horizon_days=14
    )
    run_replicates(clinic, spec, 2, workers=0, progress=True)
    assert "simulations" in capsys.readouterr().err
    run_replicates(clinic, spec, 2, workers=0, progress=False)
    assert capsys.readouterr().err == ""


def test_runner_rejects_bad_counts() -> None:
    """No replicates or no loads is an error, not an empty result."""
    clinic = synthetic_clinic(providers=1, days=10, grain=15, booked=0.4, seed=5)
    with pytest.raises(ValueError, match="replicates"):
        run_replicates(clinic, _spec(), 0)
    with pytest.raises(ValueError, match="loads"):
        run_replicates(clinic, _spec(), 1, loads=())
