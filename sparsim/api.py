"""The notebook API: everything the CLI does, as functions that return results.

```python
from sparsim import api

arch = api.load_arch("edge")
wl = api.load_workload("resnet50", "nm:2:4")
comp = api.run(wl, arch)                      # sparse vs dense on the same hardware
best = api.run(wl, arch, dataflow="best", objective="edp")
print(comp.speedup, comp.energy_saving)
```

Each function is thin over the packages below (`workloads`, `mappings`,
`simulator`, `hw`); the CLI is thin over these functions. Errors are the
packages' own (`workloads.errors.InputError` and subclasses for bad input).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mappings.dataflow import Dataflow
from mappings.mapper import OBJECTIVES, compare_best, simulate_best
from mappings.mapping import Mapping
from simulator.arch import ArchSpec, preset_names
from simulator.load import load_arch
from simulator.results import Comparison, WorkloadResult
from simulator.simulate import compare_to_dense, simulate
from sparsim.store import read_results, results_frame  # sweep results (a DataFrame: pandas)
from workloads.errors import InputError
from workloads.resolve import load_workload as _load_workload
from workloads.saved import save_workload as _save_workload
from workloads.sparsity_spec import SparsitySpec, parse_sparsity
from workloads.workload import Workload

DATAFLOWS = ("ws", "os", "is", "best")


def load_workload(
    source: str | Path,
    sparsity: str | SparsitySpec = "dense",
    *,
    batch: int = 1,
    seed: int = 0,
    min_density: float = 0.01,
) -> Workload:
    """A workload from anything `--workload` takes (zoo name, file, inline shape),
    pruned by `sparsity` (a spec string such as "nm:2:4" or a parsed SparsitySpec)."""
    spec = parse_sparsity(sparsity) if isinstance(sparsity, str) else sparsity
    return _load_workload(str(source), spec, batch=batch, seed=seed, min_density=min_density)


def run(
    workload: Workload,
    arch: ArchSpec | str,
    dataflow: str | None = None,
    objective: str = "cycles",
    progress: Callable[[int, int], None] | None = None,
) -> Comparison | WorkloadResult:
    """Simulate `workload` on `arch` (an ArchSpec, preset name or spec file).

    `dataflow`: None for the arch's own, "ws" / "os" / "is", or "best" (per
    layer, the mapper's choice for `objective`: cycles, energy or edp). A sparse
    workload returns a Comparison with its dense baseline on the same hardware;
    a dense one returns its WorkloadResult.
    """
    if isinstance(arch, str):
        arch = load_arch(arch)
    if dataflow is not None and dataflow not in DATAFLOWS:
        raise InputError("run", "dataflow", dataflow, ", ".join(DATAFLOWS))
    if objective not in OBJECTIVES:
        raise InputError("run", "objective", objective, ", ".join(OBJECTIVES))
    dense = workload.sparsity == "dense"
    if dataflow == "best":
        if dense:
            return simulate_best(workload, arch, objective, progress=progress)[0]
        return compare_best(workload, arch, objective)
    mapping = Mapping(Dataflow(dataflow) if dataflow else arch.pe_array.dataflow)
    if dense:
        return simulate(workload, arch, mapping)
    return compare_to_dense(workload, arch, mapping)


def prune(
    model: str | Path,
    method: str,
    *,
    batch: int = 1,
    seed: int = 0,
    min_density: float = 0.01,
) -> Workload:
    """Prune a model's weights (real masks where it has weights, descriptors where
    only shapes are known): `load_workload` under the pruning verb's name."""
    return load_workload(model, method, batch=batch, seed=seed, min_density=min_density)


def save_workload(workload: Workload, path: str | Path) -> list[Path]:
    """Write a workload as JSON (+ .npz of weights and masks beside it)."""
    return _save_workload(workload, path)


def verify(
    block: str | None = None,
    *,
    seed: int | None = None,
    cases: int | None = None,
    slow: bool = False,
    progress: Callable | None = None,
) -> list:
    """Run the RTL benches (cocotb on Verilator) against simulator.reference;
    one result per configuration. hw is imported here, only when verifying."""
    from hw.configs import configs
    from hw.sim import resolve_seed
    from hw.verify import verify_configs

    chosen = configs(block, slow=slow)
    return verify_configs(chosen, seed=resolve_seed(seed), cases=cases, progress=progress)


__all__ = [
    "DATAFLOWS",
    "OBJECTIVES",
    "load_arch",
    "load_workload",
    "preset_names",
    "prune",
    "read_results",
    "results_frame",
    "run",
    "save_workload",
    "verify",
]
