"""Sweep specs: a YAML file naming the axes of a design-space sweep, validated and
expanded into resolved design points before anything runs.

```yaml
name: edge-sizing
workloads: [resnet50, model.onnx]      # anything --workload takes (or {workload, accuracy, label})
arch: [edge, tpu-v1-2of4]              # presets or YAML files
set:                                   # arch fields by dotted path; cross product
  pe_array.rows: [8, 16, 32]
  memory.glb.capacity_kib: [128, 256]
sparsity: [dense, nm:2:4, magnitude:0.9]
dataflow: [ws, os, is, best]           # default: the arch's own
objective: edp                         # what dataflow `best` minimizes (one or a list)
batch: [1, 16]
seed: 0
```

Every derived architecture (a preset or file with the `set:` values written
into its YAML document) goes through `simulator.arch.parse_arch`, the
validation a file gets, so `pe_array.rows: 0` is rejected naming the spec
file, the arch point and the field. Relative workload files are read from
the spec file's folder.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path

from mappings.mapper import OBJECTIVES
from simulator.arch import ArchSpec, parse_arch, preset_names, preset_path
from simulator.load import load_arch
from simulator.spec_reader import Node, SpecError, load_yaml
from workloads.errors import InputError
from workloads.inputs import is_regular_file
from workloads.resolve import FILE_TYPES
from workloads.sparsity_spec import parse_sparsity

DATAFLOW_CHOICES = ("arch", "ws", "os", "is", "best")
SCALARS = (int, float, str, bool)


@dataclass(frozen=True, slots=True)
class WorkloadRef:
    """A workload as the sweep names it. `identity` is what the store hashes: the
    text, plus a digest of the file's bytes (and its .npz) for files."""

    source: str
    label: str
    identity: str
    accuracy: float | None = None


@dataclass(frozen=True, slots=True)
class DesignPoint:
    """One fully resolved point: the derived arch, the workload, how it runs."""

    workload: WorkloadRef
    arch: ArchSpec
    arch_base: str  # the preset name or file the arch was derived from
    overrides: tuple[tuple[str, object], ...]
    sparsity: str
    dataflow: str  # "arch" (the arch's own), ws, os, is or best
    objective: str  # "" unless dataflow is best
    batch: int
    seed: int

    def identity(self, model_version: str) -> dict:
        """Everything the result depends on (the store's content hash is of this)."""
        return {
            "arch": _arch_identity(self.arch),
            "workload": self.workload.identity,
            "sparsity": self.sparsity,
            "dataflow": self.dataflow,
            "objective": self.objective,
            "batch": self.batch,
            "seed": self.seed,
            "model": model_version,
        }

    def key(self, model_version: str) -> str:
        doc = json.dumps(self.identity(model_version), sort_keys=True)
        return hashlib.sha256(doc.encode()).hexdigest()

    def describe(self) -> str:
        sets = ", ".join(f"{k}={v}" for k, v in self.overrides)
        arch = f"{self.arch_base}[{sets}]" if sets else self.arch_base
        run = self.dataflow + (f"/{self.objective}" if self.objective else "")
        return f"{self.workload.label} on {arch}, {self.sparsity}, {run}, batch {self.batch}"


@functools.lru_cache(maxsize=4096)
def _arch_identity(arch: ArchSpec) -> str:
    """Every field of the arch (not the file it came from) as canonical JSON; one per
    derived arch, shared by its many points."""
    doc = dataclasses.asdict(dataclasses.replace(arch, file=""))
    return json.dumps(doc, sort_keys=True, default=str)


@dataclass(frozen=True, slots=True)
class Sweep:
    name: str
    source: str
    points: tuple[DesignPoint, ...]
    axes: dict  # axis name -> the values swept (for heat maps and the report)


def _listed(node: Node, key: str, kind, default, allowed: str) -> list:
    """A value or a list of values of `kind`."""
    raw = node.get(key, (list, *kind) if isinstance(kind, tuple) else (list, kind), default)
    values = raw if isinstance(raw, list) else [raw]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    for i, v in enumerate(values):
        if (isinstance(v, bool) and bool not in kinds) or not isinstance(v, kinds):
            raise node.error(f"{key}[{i}]", v, allowed)
    if not values:
        raise node.error(key, raw, f"a non-empty list: {allowed}")
    return values


def _file_digest(path: Path) -> str:
    h = hashlib.sha256(path.read_bytes())
    npz = path.with_suffix(".npz")
    if path.suffix.lower() == ".json" and is_regular_file(npz):
        h.update(npz.read_bytes())
    return h.hexdigest()


def _workload_ref(node: Node, i: int, raw: object, base: Path) -> WorkloadRef:
    field = f"workloads[{i}]"
    accuracy, label = None, None
    if isinstance(raw, dict):
        entry = Node(raw, node.source, field)
        text = entry.get("workload", str)
        accuracy = entry.get(
            "accuracy", float, None, allowed="a number in [0, 1]", check=lambda v: 0 <= v <= 1
        )
        label = entry.get("label", str, None)
        entry.finish()
    elif isinstance(raw, str):
        text = raw
    else:
        raise node.error(field, raw, "a --workload string or {workload, accuracy, label}")
    inner = text.removeprefix("train:")
    identity = text
    is_file = Path(inner).suffix.lower() in FILE_TYPES
    label = label or (text[: len(text) - len(inner)] + Path(inner).stem if is_file else text)
    if is_file:
        path = Path(inner)
        if not path.is_absolute() and is_regular_file(base / path):
            path = base / path
        if not is_regular_file(path):
            raise node.error(field, text, f"an existing workload file (looked in {base} and .)")
        text = text[: len(text) - len(inner)] + str(path)
        identity = f"{text}#sha256:{_file_digest(path)}"
    return WorkloadRef(text, label, identity, accuracy)


def _set_path(doc: dict, dotted: str, value: object) -> None:
    """Write `value` at a dotted path of an arch document (missing sections created;
    a wrong key is then rejected by the arch's own validation, naming the field)."""
    parts = dotted.split(".")
    cur = doc
    for part in parts[:-1]:
        nxt = cur.get(part)
        if not isinstance(nxt, dict):
            nxt = cur[part] = {}
        cur = nxt
    cur[parts[-1]] = value


def _arch_points(top: Node, source: str, base: Path) -> list[tuple[ArchSpec, str, tuple]]:
    archs = _listed(top, "arch", str, "edge", "a preset name or an arch YAML file")
    sets_node = top.child("set", {})
    axes: list[tuple[str, list]] = []
    for key in list(sets_node.data):
        if not isinstance(key, str) or not all(key.split(".")):
            raise sets_node.error(str(key), sets_node.data[key], "a dotted arch field path")
        axes.append((key, _listed(sets_node, key, SCALARS, None, "numbers, strings or booleans")))
    sets_node.finish()
    out = []
    combos = list(itertools.product(*[values for _, values in axes]))
    for j, name in enumerate(archs):
        if name in preset_names():
            path = preset_path(name)
        else:
            path = Path(name) if Path(name).is_absolute() else base / name
            if not is_regular_file(path) and is_regular_file(Path(name)):
                path = Path(name)
        if path.suffix.lower() == ".cfg":
            if axes:
                raise top.error(f"arch[{j}]", name, "a preset or YAML file when `set:` is used")
            out.append((load_arch(path), name, ()))
            continue
        if not is_regular_file(path):
            allowed = f"a preset ({', '.join(preset_names())}) or an existing arch YAML file"
            raise top.error(f"arch[{j}]", name, allowed)
        doc = load_yaml(path)
        for combo in combos:
            overrides = tuple(zip([k for k, _ in axes], combo, strict=True))
            derived = copy.deepcopy(doc)
            if isinstance(derived, dict):
                for key, value in overrides:
                    _set_path(derived, key, value)
            where = ", ".join(f"{k}={v}" for k, v in overrides) or "as given"
            label = f"{source}: arch point {len(out)} ({name}, {where})"
            out.append((parse_arch(derived, label), name, overrides))
    return out


def parse_sweep(data: object, source: str, base: Path | None = None) -> Sweep:
    """Validate a sweep document and expand it into design points (cross product)."""
    base = base or Path(".")
    top = Node(data, source)
    name = top.get("name", str, Path(source).stem)
    raw_workloads = top.get("workloads", list, allowed="a list of workloads")
    if not raw_workloads:
        raise top.error("workloads", raw_workloads, "a non-empty list of workloads")
    workloads = [_workload_ref(top, i, raw, base) for i, raw in enumerate(raw_workloads)]
    archs = _arch_points(top, source, base)
    sparsities = _listed(top, "sparsity", str, "dense", "sparsity specs")
    for i, text in enumerate(sparsities):
        try:
            parse_sparsity(text, source)
        except InputError as err:
            raise top.error(f"sparsity[{i}]", text, err.allowed) from None
    dataflows = _listed(top, "dataflow", str, "arch", ", ".join(DATAFLOW_CHOICES))
    for i, df in enumerate(dataflows):
        if df not in DATAFLOW_CHOICES:
            raise top.error(f"dataflow[{i}]", df, ", ".join(DATAFLOW_CHOICES))
    objectives = _listed(top, "objective", str, "cycles", ", ".join(OBJECTIVES))
    for i, obj in enumerate(objectives):
        if obj not in OBJECTIVES:
            raise top.error(f"objective[{i}]", obj, ", ".join(OBJECTIVES))
    batches = _listed(top, "batch", int, 1, "integers >= 1")
    for i, b in enumerate(batches):
        if b < 1:
            raise top.error(f"batch[{i}]", b, "integers >= 1")
    seed = top.get("seed", int, 0)
    top.finish()
    points, seen = [], set()
    for wl, (arch, arch_base, overrides), sp, df, obj, batch in itertools.product(
        workloads, archs, sparsities, dataflows, objectives, batches
    ):
        point = DesignPoint(
            wl, arch, arch_base, overrides, sp, df, obj if df == "best" else "", batch, seed
        )
        ident = json.dumps(point.identity(""), sort_keys=True)
        if ident not in seen:  # e.g. several objectives on a fixed dataflow
            seen.add(ident)
            points.append(point)
    axes = {
        "workload": [w.label for w in workloads],
        "arch": list(dict.fromkeys(a for _, a, _ in archs)),
        **{k: list(v) for k, v in _set_axes(top)},
        "sparsity": sparsities,
        "dataflow": dataflows,
        "objective": objectives,
        "batch": batches,
    }
    return Sweep(name, source, tuple(points), axes)


def _set_axes(top: Node) -> list[tuple[str, list]]:
    raw = top.data.get("set") or {}
    return [(k, v if isinstance(v, list) else [v]) for k, v in raw.items()]


def load_sweep(path: str | Path) -> Sweep:
    """A sweep spec file, validated and expanded (SpecError, exit 2, on any bad field)."""
    p = Path(path)
    if not is_regular_file(p):
        raise SpecError(str(p), "file", str(p), "an existing sweep spec YAML file")
    return parse_sweep(load_yaml(p), str(p), p.parent)


__all__ = ["DesignPoint", "Sweep", "WorkloadRef", "load_sweep", "parse_sweep"]
