"""Computing design points: what a worker runs (a local process or a Dask worker).

Workers get batches of points and return flat rows; they never touch the
store. Each worker keeps the workloads it loaded (a pruned workload is
independent of the arch, and inline shapes draw random weights, so loading
costs more than simulating one small layer) in a small per-process cache.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import mappings
import simulator
import workloads
from simulator.results import Comparison, WorkloadResult
from simulator.version import MODEL_VERSION
from sparsim import api
from sparsim.sweep.spec import DesignPoint
from workloads.workload import Workload


@functools.cache
def model_version() -> str:
    """MODEL_VERSION plus a digest of the model's sources (workloads, mappings,
    simulator, their YAML data): any edit to the model gives new store keys, so
    a forgotten MODEL_VERSION bump cannot serve stale rows."""
    h = hashlib.sha256()
    for package in (workloads, mappings, simulator):
        root = Path(package.__file__).parent
        files = [p for p in root.rglob("*") if p.suffix in (".py", ".yaml")]
        for path in sorted(files):
            h.update(f"{package.__name__}/{path.relative_to(root).as_posix()}\n".encode())
            h.update(path.read_bytes())
    return f"{MODEL_VERSION}+{h.hexdigest()[:12]}"


@functools.lru_cache(maxsize=64)
def _workload(source: str, sparsity: str, batch: int, seed: int) -> Workload:
    return api.load_workload(source, sparsity, batch=batch, seed=seed)


def evaluate(point: DesignPoint, key: str, model: str) -> dict:
    """One design point simulated: its flat row (the store's COLUMNS)."""
    wl = _workload(point.workload.source, point.sparsity, point.batch, point.seed)
    dataflow = None if point.dataflow == "arch" else point.dataflow
    res = api.run(wl, point.arch, dataflow, point.objective or "cycles")
    return result_row(point, key, model, res)


def result_row(point: DesignPoint, key: str, model: str, res: Comparison | WorkloadResult) -> dict:
    sparse = res.sparse if isinstance(res, Comparison) else res
    dense = res.dense if isinstance(res, Comparison) else res
    t, d = sparse.totals, dense.totals
    pe = point.arch.pe_array
    energy = t.energy_pj["total"]
    return {
        "key": key,
        "model_version": model,
        "workload": point.workload.label,
        "workload_source": point.workload.source,
        "arch": point.arch.name,
        "arch_base": point.arch_base,
        "overrides": json.dumps(dict(point.overrides), sort_keys=True),
        "sparsity": point.sparsity,
        "run_sparsity": sparse.sparsity,
        "dataflow": point.dataflow,
        "objective": point.objective,
        "batch": point.batch,
        "seed": point.seed,
        "accuracy": point.workload.accuracy,
        "layers": len(sparse.layers),
        "macs": t.macs,
        "effective_macs": t.effective_macs,
        "weight_density": t.effective_macs / t.macs if t.macs else 1.0,
        "cycles": t.cycles.total,
        "compute_cycles": t.cycles.compute,
        "fill_drain_cycles": t.cycles.fill_drain,
        "memory_stall_cycles": t.cycles.memory_stall,
        "energy_pj": energy,
        "edp": t.cycles.total * energy,
        "dram_bytes": t.dram_bytes,
        "utilization": t.utilization,
        "dense_cycles": d.cycles.total,
        "dense_energy_pj": d.energy_pj["total"],
        "speedup": d.cycles.total / t.cycles.total if t.cycles.total else 1.0,
        "compute_speedup": d.cycles.compute / t.cycles.compute if t.cycles.compute else 1.0,
        "energy_saving": d.energy_pj["total"] / energy if energy else 1.0,
        "pes": pe.pes,
        "peak_macs_per_cycle": pe.pes * pe.multipliers * point.arch.cores,
        "dram_bytes_per_cycle": point.arch.dram.bandwidth_bytes_per_cycle,
        "result": json.dumps(res.to_dict(), sort_keys=True, default=str),
    }


def evaluate_batch(batch: list[tuple[DesignPoint, str]], model: str) -> list[dict]:
    """A batch of (point, key): their rows, in order (the unit of work sent to a worker)."""
    return [evaluate(point, key, model) for point, key in batch]


__all__ = ["evaluate", "evaluate_batch", "model_version", "result_row"]
