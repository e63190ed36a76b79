"""Generate docs/arch.md from the arch-spec schema: `python -m sparsim.docs`
(`--check`: exit 1 if the page differs from what the schema gives).

The schema is walked, not restated: the generator runs the loader
(`simulator.arch.parse_arch`) on every preset and on a document that takes
each optional branch (an extra SRAM level, per-operand partitions, PE-local
registers), recording every field the loader reads with its type, default
and allowed values. Meanings come from `simulator.arch.FIELD_DOCS`, units
from the field's name. A field the loader reads that has no meaning there,
or a meaning for a field it no longer reads, is an error: so a new field
cannot land undocumented, and tests/test_docs.py keeps the page current.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from simulator import arch as arch_module
from simulator import spec_reader
from simulator.spec_reader import Node, load_yaml

PAGE = Path(__file__).resolve().parents[1] / "docs" / "arch.md"
LEVEL = "<level>"  # stands for any extra SRAM level's name
FIXED_SECTIONS = ("dram", "host", "glb", "pe_local")  # memory's sections, not extra levels
UNITS = (  # name suffix -> unit; the first match wins
    ("_bytes_per_cycle", "bytes/cycle"),
    ("_kib", "KiB"),
    ("_bytes", "bytes"),
    ("_cycles", "cycles"),
    ("_mhz", "MHz"),
    ("_bits", "bits"),
)


@dataclass
class Field:
    path: str
    kind: str
    default: Any
    allowed: str | None


@contextlib.contextmanager
def _recording(sources: set[str]) -> Iterator[dict[str, Field]]:
    """Every `Node.get` the loader makes on the arch documents `sources` while
    active, by YAML path (files a spec names, such as an energy table, have
    their own schema and are left out)."""
    seen: dict[str, Field] = {}
    real_get = Node.get

    def get(self: Node, key: str, kind: Any, default: Any = spec_reader._MISSING, **kw: Any):
        path = _generic(self._field(key))
        if self.source in sources and path not in seen:
            allowed = kw.get("allowed")
            seen[path] = Field(path, spec_reader._kind_name(kind), default, allowed)
        return real_get(self, key, kind, default, **kw)

    Node.get = get  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Node.get = real_get  # type: ignore[method-assign]


def _generic(path: str) -> str:
    """`memory.l2.ports` -> `memory.<level>.ports`: extra levels share one schema."""
    parts = path.split(".")
    if len(parts) >= 3 and parts[0] == "memory" and parts[1] not in FIXED_SECTIONS:
        parts[1] = LEVEL
    return ".".join(parts)


def _every_branch(doc: dict) -> dict:
    """A preset's document with each optional branch of the loader taken."""
    doc = copy.deepcopy(doc)
    mem = doc["memory"]
    parts = {"weights_kib": 64, "inputs_kib": 64, "outputs_kib": 64}
    mem[LEVEL] = {
        "kind": "sram",
        "parent": "dram",
        "capacity_kib": 1024,
        "bandwidth_bytes_per_cycle": 32,
        "partition": dict(parts),
    }
    mem["glb"]["parent"] = LEVEL
    mem["glb"]["partition"] = dict(parts)
    mem["pe_local"] = {"capacity_bytes": 4096}
    mem["host"] = {"bandwidth_bytes_per_cycle": 8, "holds": ["weights", "inputs", "outputs"]}
    for level in ("dram", "host", "glb", LEVEL):  # a format per level
        mem[level]["formats"] = {"weights": "uop_cp", "inputs": "rle", "outputs": "uop_rle"}
    return doc


def walk_schema() -> dict[str, Field]:
    """The fields the YAML loader reads, in the order it reads them."""
    presets = arch_module.preset_names()
    sources = {"<every branch>", *(str(arch_module.preset_path(name)) for name in presets)}
    with _recording(sources) as seen:
        base = load_yaml(arch_module.preset_path("edge"))
        arch_module.parse_arch(_every_branch(base), "<every branch>")
        for name in presets:
            path = arch_module.preset_path(name)
            arch_module.parse_arch(load_yaml(path), str(path))
    return seen


def _unit(path: str) -> str:
    key = path.rsplit(".", 1)[-1]
    return next((unit for suffix, unit in UNITS if key.endswith(suffix)), "")


def _default(value: Any) -> str:
    if value is spec_reader._MISSING:
        return "required"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Enum):
        return f"`{value.value}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    if value == "":
        return '`""`'
    if isinstance(value, (list, tuple)) and not value:
        return "`[]`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(fields: dict[str, Field], docs: dict[str, str]) -> str:
    missing = sorted(set(fields) - set(docs))
    stale = sorted(set(docs) - set(fields))
    if missing or stale:
        raise ValueError(
            f"simulator.arch.FIELD_DOCS: no meaning for {missing}; not read by the loader: {stale}"
        )
    sections: dict[str, list[Field]] = {}
    for f in fields.values():
        sections.setdefault(f.path.rsplit(".", 1)[0] if "." in f.path else "", []).append(f)
    out = [
        "# Architecture specs: every field",
        "",
        "<!-- generated by `python -m sparsim.docs` from the loader (simulator/arch.py) and",
        "     simulator.arch.FIELD_DOCS; do not edit by hand: tests/test_docs.py checks it -->",
        "",
        "An architecture is a YAML file (`sparsim run --arch my_arch.yaml`), a preset",
        "name (`sparsim presets`; the files are in `simulator/presets/`, e.g.",
        "[edge.yaml](../simulator/presets/edge.yaml)) or a SCALE-Sim `.cfg` file read as",
        "SCALE-Sim reads it ([cycles.md](cycles.md)). Unknown keys are errors, and every",
        "error names the file, the field and what is allowed. Sizes in KiB are",
        "1024 bytes. `memory` lists the levels from DRAM to the GLB that feeds the",
        "array: besides `dram` and `glb`, any number of extra SRAM levels, each a",
        f"section with `kind: sram` and a `parent` (written `{LEVEL}` below); the",
        "levels must form one chain from DRAM to the GLB.",
        "",
        "`cores` makes the chip that many identical cores (a GPU's SMs, Simba's",
        "chiplets, TPU v4's TensorCores), in the spirit of Timeloop's instances: each",
        "core has its own PE array (`pe_array` describes one) and its own copy of every",
        "level not in `cores.shared` (capacities and bandwidths are per core); the",
        "shared levels (DRAM and, say, an L2) are the chip's. For example",
        "`cores: {count: 108, shared: [dram, l2]}` in the",
        "[a100-sparse](../simulator/presets/a100-sparse.yaml) preset. A layer's output",
        "tiles of the outermost private level (M x N; K is never split over cores,",
        "which would need a cross-core reduction) are dealt to the cores in waves: the time is the",
        "busiest core's tile sequence with each shared level's bandwidth divided among",
        "the cores, the accesses and energy are every core's, and an input row block or",
        "weight column block that cores of one wave share is fetched once into the",
        "innermost shared level when it holds them (`simulator/cores.py`).",
        "",
    ]
    top_first = sorted(sections.items(), key=lambda kv: kv[0] != "")  # stable otherwise
    for section, items in top_first:
        out += [f"## `{section}`" if section else "## top level", ""]
        out += [
            "| field | type | unit | default | allowed | meaning |",
            "|---|---|---|---|---|---|",
        ]
        for f in items:
            key = f.path.rsplit(".", 1)[-1]
            allowed = f.allowed or ("true or false" if f.kind == "true/false" else f"a {f.kind}")
            out.append(
                f"| `{key}` | {f.kind} | {_unit(f.path) or '-'} | {_default(f.default)} | "
                f"{_cell(allowed)} | {_cell(docs[f.path])} |"
            )
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sparsim.docs", description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/arch.md is stale")
    args = ap.parse_args(argv)
    page = render(walk_schema(), arch_module.FIELD_DOCS)
    if args.check:
        current = PAGE.read_text() if PAGE.exists() else ""
        if current != page:
            print(f"{PAGE} is stale: run python -m sparsim.docs", file=sys.stderr)
            return 1
        return 0
    from sparsim.writers import write_atomic

    write_atomic(PAGE, page)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
