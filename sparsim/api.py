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

import json
from collections.abc import Callable, Sequence
from collections.abc import Mapping as MappingOf
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mappings.dataflow import Dataflow
from mappings.mapping import Mapping
from simulator.arch import ArchSpec, preset_names
from simulator.load import load_arch
from simulator.results import Comparison, WorkloadResult
from simulator.simulate import (
    NO_RESIDENCY,
    compare_to_dense,
    dense_baseline,
    same_mappings,
    schedule_residency,
    simulate,
)
from sparsim.store import read_results, results_frame  # sweep results (a DataFrame: pandas)
from sparsim.writers import recover, write_set
from workloads.errors import InputError
from workloads.resolve import load_workload as _load_workload
from workloads.sparsity_spec import SparsitySpec, parse_sparsity
from workloads.workload import Workload

DATAFLOWS = ("ws", "os", "is", "best")
# mappings.mapper.OBJECTIVES, named here so a run that does not search need
# not import the mapper (tests/test_startup.py checks the two agree)
OBJECTIVES = ("cycles", "energy", "edp")


def load_workload(
    source: str | Path,
    sparsity: str | SparsitySpec = "dense",
    *,
    batch: int = 1,
    seed: int = 0,
    min_density: float = 0.01,
    input_shape: Sequence[int] | None = None,
    inputs: str | Path | MappingOf[str, np.ndarray] | None = None,
) -> Workload:
    """A workload from anything `--workload` takes (zoo name, file, inline shape),
    pruned by `sparsity` (a spec string such as "nm:2:4" or a parsed SparsitySpec).

    `input_shape` ((H, W) or (C, H, W)): the ifmap a state dict's convs run on
    (a state dict stores no activation sizes; without it each conv is one output
    position). `inputs`: sample inputs for an ONNX model (an .npz path or a
    mapping of input name -> array), run to measure activation density.
    A saved workload (.json) is read after its folder is recovered from an
    interrupted save, so it is the old pair or the new one, never a mix.
    """
    if not isinstance(sparsity, (str, SparsitySpec)):
        raise InputError("--sparsity", "sparsity", sparsity, "a spec string or a SparsitySpec")
    spec = parse_sparsity(sparsity) if isinstance(sparsity, str) else sparsity
    text = str(source)
    if text.lower().endswith(".json"):
        recover(Path(text.removeprefix("train:")).parent)
    return _load_workload(
        text,
        spec,
        batch=batch,
        seed=seed,
        min_density=min_density,
        input_shape=input_shape,
        inputs=inputs,
    )


COMPARES = ("same", "best")


@dataclass(frozen=True)
class BestComparison:
    """`compare="best"`: sparse and dense each at their own best mapping
    (`best`, whose figures lead), and the dense baseline on the sparse run's
    mappings (`same`): both figures, since each answers a different question
    (what the sparsity buys on one mapping; what it buys over the best dense)."""

    best: Comparison
    same: Comparison

    @property
    def sparse(self) -> WorkloadResult:
        return self.best.sparse

    @property
    def dense(self) -> WorkloadResult:
        return self.best.dense

    @property
    def speedup(self) -> float:
        return self.best.speedup

    @property
    def compute_speedup(self) -> float:
        return self.best.compute_speedup

    @property
    def energy_saving(self) -> float:
        return self.best.energy_saving

    def to_dict(self) -> dict:
        doc = self.best.to_dict()
        doc["compare"] = "best"
        doc["totals"]["same_mapping"] = {
            "speedup": self.same.speedup,
            "compute_speedup": self.same.compute_speedup,
            "energy_saving": self.same.energy_saving,
        }
        return doc


Progress = Callable[[int, int], None]


def _slice(progress: Progress | None, offset: int, total: int) -> Progress | None:
    """A callback for one part of a run reporting into the whole run's count."""
    if progress is None:
        return None
    return lambda done, _: progress(offset + done, total)


def _best(
    workload: Workload,
    arch: ArchSpec,
    objective: str,
    dataflows: tuple[Dataflow, ...],
    progress: Progress | None,
    io_on_chip: bool = False,
) -> tuple[WorkloadResult, dict[str, Mapping]]:
    """Each layer at the mapper's best mapping among `dataflows`, under the
    network-level schedule (`simulator.simulate.schedule_residency`)."""
    from mappings.mapper import best_mapping, simulate_best  # only runs that search

    if set(dataflows) == set(Dataflow):
        return simulate_best(workload, arch, objective, progress=progress, io_on_chip=io_on_chip)
    schedule = schedule_residency(workload, arch, io_on_chip)
    layers, chosen = [], {}
    for i, lw in enumerate(workload.layers):
        found = best_mapping(
            lw, arch, objective, dataflows=dataflows,
            residency=schedule.get(lw.name, NO_RESIDENCY),
        )  # fmt: skip
        layers.append(found.result)
        chosen[lw.name] = found.mapping
        if progress:
            progress(i + 1, len(workload.layers))
    res = WorkloadResult(arch.name, workload.name, workload.sparsity, tuple(layers))
    return res, chosen


def run(
    workload: Workload,
    arch: ArchSpec | str,
    dataflow: str | None = None,
    objective: str = "cycles",
    progress: Progress | None = None,
    compare: str = "same",
    io_on_chip: bool = False,
) -> Comparison | BestComparison | WorkloadResult:
    """Simulate `workload` on `arch` (an ArchSpec, preset name or spec file).

    `dataflow`: None for the arch's own, "ws" / "os" / "is", or "best" (per
    layer, the mapper's choice of dataflow, tiles and loop order for
    `objective`: cycles, energy or edp). A sparse workload returns its dense
    baseline on the same hardware beside it: with `compare="same"` on the
    same mappings (a Comparison), with `compare="best"` each at its own best
    mapping, within the given dataflow (a BestComparison, which also carries
    the same-mapping figures). A dense workload returns its WorkloadResult.
    `progress(done, total)` is called as layer simulations finish.
    `io_on_chip`: the workload's own inputs and outputs stay in the on-chip
    activation buffer, as inside a larger network (`simulator.simulate`).
    """
    if isinstance(arch, str):
        arch = load_arch(arch)
    if dataflow is not None and dataflow not in DATAFLOWS:
        raise InputError("run", "dataflow", dataflow, ", ".join(DATAFLOWS))
    if objective not in OBJECTIVES:
        raise InputError("run", "objective", objective, ", ".join(OBJECTIVES))
    if compare not in COMPARES:
        raise InputError("run", "compare", compare, ", ".join(COMPARES))
    dense = workload.sparsity == "dense"
    if dataflow == "best":
        dataflows = tuple(Dataflow)
    else:
        dataflows = (Dataflow(dataflow) if dataflow else arch.pe_array.dataflow,)
    n = len(workload.layers)
    if dense:
        if dataflow == "best":
            return _best(workload, arch, objective, dataflows, progress, io_on_chip)[0]
        return simulate(
            workload, arch, Mapping(dataflows[0]), progress=progress, io_on_chip=io_on_chip
        )
    if dataflow != "best" and compare == "same":
        return compare_to_dense(
            workload, arch, Mapping(dataflows[0]), progress=progress, io_on_chip=io_on_chip
        )
    parts = 3 if compare == "best" else 2
    sparse = _best(
        workload, arch, objective, dataflows, _slice(progress, 0, parts * n), io_on_chip
    )[0]
    baseline = dense_baseline(workload)
    same_dense = simulate(
        baseline, arch, same_mappings(workload, sparse), progress=_slice(progress, n, parts * n),
        io_on_chip=io_on_chip,
    )  # fmt: skip
    same = Comparison(sparse, same_dense)
    if compare == "same":
        return same
    own = _best(
        baseline, arch, objective, dataflows, _slice(progress, 2 * n, parts * n), io_on_chip
    )[0]
    return BestComparison(Comparison(sparse, own, compare="best"), same)


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
    """Write a workload as JSON (+ .npz of weights and masks beside it, pinned
    by its hash), both replaced together or neither. Returns the paths."""
    p = Path(path)
    if p.suffix.lower() != ".json":
        raise InputError(str(p), "output", p.name, "a .json file name (arrays go beside it)")
    from workloads.saved import encode_workload

    files = encode_workload(workload, p.name)
    npz = p.with_suffix(".npz").name
    recover(p.parent)
    owned = _arrays_of(p) == npz  # the .npz there belongs to the JSON being replaced
    if npz in files and (p.parent / npz).exists() and not owned:
        raise InputError(
            str(p), "output", p.name, f"a name whose .npz is not another file ({npz} exists)"
        )
    # a workload without arrays replaces its older pair whole: that .npz goes too
    return write_set(p.parent, files, remove=(npz,) if owned and npz not in files else ())


def _arrays_of(path: Path) -> str | None:
    """The .npz name a saved workload at `path` points at (None: no such JSON)."""
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return doc.get("arrays") if isinstance(doc, dict) else None


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
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise InputError("--seed", "seed", seed, "an integer >= 0")
    from hw.configs import configs
    from hw.sim import resolve_seed
    from hw.verify import verify_configs

    chosen = configs(block, slow=slow)
    return verify_configs(chosen, seed=resolve_seed(seed), cases=cases, progress=progress)


__all__ = [
    "COMPARES",
    "DATAFLOWS",
    "OBJECTIVES",
    "BestComparison",
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
