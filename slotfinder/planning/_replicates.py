"""Replicates of a simulation, run in parallel: local processes by default, a Dask cluster when given its address.

Replicate ``i`` at load ``x`` runs ``simulate(clinic, evolve(spec, seed=replicate_seed(spec.seed, i),
load=spec.load * x))``: seeds come from the master seed and the replicate's index only (the same
replicate sees the same random streams at every load: common random numbers), and results are
returned sorted by load (in the order given) and replicate index, whatever finished first. A run is
a pure function of its inputs, so serial, process-pool and Dask runs give identical results.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs
import numpy as np
from attrs import frozen

from slotfinder import Clinic
from slotfinder.planning._run_result import SimulationResult
from slotfinder.planning._simulation import simulate
from slotfinder.planning._simulation_spec import SimulationSpec

__all__ = ["Replicate", "replicate_seed", "run_replicates"]


@frozen
class Replicate:
    """One finished run: which replicate, at which load, with which seed, and its result."""

    index: int
    load: float  # the factor applied to the spec's rates (1.0: as given)
    seed: int
    result: SimulationResult


def replicate_seed(master: int, index: int) -> int:
    """The seed of replicate ``index``: numpy's SeedSequence spawned child ``index`` of ``master`` (63 bits)."""
    words = np.random.SeedSequence(master, spawn_key=(index,)).generate_state(2, dtype=np.uint32)
    return (int(words[0]) << 31) ^ int(words[1])


def _task_specs(
    spec: SimulationSpec, replicates: int, loads: Sequence[float]
) -> list[tuple[int, float, SimulationSpec]]:
    tasks = []
    for load in loads:
        for index in range(replicates):
            seed = replicate_seed(spec.seed, index)
            tasks.append((index, load, attrs.evolve(spec, seed=seed, load=spec.load * load)))
    return tasks


def _run(clinic: Clinic, spec: SimulationSpec) -> SimulationResult:
    """One task (a top-level function, so process pools and Dask workers can import it)."""
    return simulate(clinic, spec)


def run_replicates(
    clinic: Clinic,
    spec: SimulationSpec,
    replicates: int = 1,
    *,
    loads: Sequence[float] = (1.0,),
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool | None = None,
) -> list[Replicate]:
    """Run ``replicates`` replicates of ``spec`` at each load factor; sorted by (load order, index).

    ``scheduler``: a Dask scheduler address (``tcp://host:8786``): the runs go to that cluster through
    ``dask.distributed.Client``. Otherwise a local ``ProcessPoolExecutor`` (spawned processes) with
    ``workers`` processes (default: one per CPU, at most one per run); ``workers=0`` runs here, one
    after another (so does a single run without a scheduler). ``progress``: show a tqdm bar on stderr;
    None shows it when stderr is a terminal.
    """
    if replicates < 1:
        raise ValueError(f"replicates must be at least 1, got {replicates}")
    if not loads or any(not x >= 0 for x in loads):
        raise ValueError("loads must be non-negative factors, at least one")
    if workers is not None and workers < 0:
        raise ValueError(f"workers must not be negative, got {workers}")
    tasks = _task_specs(spec, replicates, loads)
    show = sys.stderr.isatty() if progress is None else progress
    if scheduler is not None:
        results = _on_dask(scheduler, clinic, [t[2] for t in tasks], show)
    elif workers == 0 or (len(tasks) == 1 and workers is None):
        results = [
            simulate(clinic, t[2], progress=show and len(tasks) == 1) for t in _bar(tasks, show and len(tasks) > 1)
        ]
    else:
        count = min(workers or os.cpu_count() or 1, len(tasks))
        results = _on_processes(count, clinic, [t[2] for t in tasks], show)
    return [
        Replicate(index=index, load=load, seed=task_spec.seed, result=result)
        for (index, load, task_spec), result in zip(tasks, results, strict=True)
    ]


def _bar(items: Sequence[Any], show: bool) -> Iterator[Any]:
    if not show:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc="simulations", unit="run")


def _collect(total: int, show: bool, finished: Iterator[tuple[int, SimulationResult]]) -> list[SimulationResult]:
    """Results in task order from (position, result) pairs arriving in any order, counted on a bar."""
    found: dict[int, SimulationResult] = {}
    bar: Any = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="simulations", unit="run")
    try:
        for position, result in finished:
            found[position] = result
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return [found[i] for i in range(total)]


def _on_processes(count: int, clinic: Clinic, specs: Sequence[SimulationSpec], show: bool) -> list[SimulationResult]:
    # spawn, not fork: the caller may hold threads (a Dask client, a GUI) that fork would copy half-way
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        futures = {pool.submit(_run, clinic, s): i for i, s in enumerate(specs)}

        def finished() -> Iterator[tuple[int, SimulationResult]]:
            for future in concurrent.futures.as_completed(futures):
                yield futures[future], future.result()

        return _collect(len(specs), show, finished())


def _on_dask(address: str, clinic: Clinic, specs: Sequence[SimulationSpec], show: bool) -> list[SimulationResult]:
    from distributed import Client, as_completed

    with Client(address, set_as_default=False) as client:
        shared = client.scatter(clinic, broadcast=True)  # sent once per worker, not once per run
        submit: Callable[..., Any] = client.submit
        futures = [submit(_run, shared, s, pure=False) for s in specs]
        positions = {f.key: i for i, f in enumerate(futures)}

        def finished() -> Iterator[tuple[int, SimulationResult]]:
            for future in as_completed(futures, loop=client.loop):  # this client, not a default one
                yield positions[future.key], future.result()

        return _collect(len(specs), show, finished())
