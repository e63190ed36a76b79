"""Architecture specs: YAML in, validated frozen dataclasses out.

`load_arch(name_or_path)` accepts a preset name (`sparsim presets`) or a YAML
file. Past the loader nothing reads dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from mappings.dataflow import Dataflow, FoldTiming
from simulator.spec_reader import Node, SpecError, load_yaml
from workloads.sparsity import NM

PRESET_PACKAGE = "simulator.presets"


@dataclass(frozen=True, slots=True)
class PEArraySpec:
    """A rows x cols systolic array of N:M PEs.

    Each PE has `multipliers` multipliers. In dense mode it reduces that many
    K elements per cycle; running a supported pattern n:m it takes
    multipliers * m / n activations, selects the nonzero-weight ones by the
    stored indices and does `multipliers` MACs (DESIGN.md).
    """

    rows: int
    cols: int
    multipliers: int = 1
    nm_patterns: tuple[NM, ...] = ()
    dataflow: Dataflow = Dataflow.WS
    fold_timing: FoldTiming = FoldTiming.SERIALIZED
    data_bits: int = 8
    acc_bits: int = 32
    zero_gating: bool = True

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    def window(self, pattern: NM | None) -> int:
        """K elements one PE reduces per cycle in a mode (None = dense)."""
        if pattern is None or pattern.is_dense:
            return self.multipliers
        return self.multipliers * pattern.m // pattern.n


@dataclass(frozen=True, slots=True)
class GLBSpec:
    """Global buffer (on-chip SRAM) shared by all operands."""

    capacity_bytes: int
    bandwidth_bytes_per_cycle: float


@dataclass(frozen=True, slots=True)
class DRAMSpec:
    bandwidth_bytes_per_cycle: float
    latency_cycles: int = 0


@dataclass(frozen=True, slots=True)
class ArchSpec:
    name: str
    pe_array: PEArraySpec
    glb: GLBSpec
    dram: DRAMSpec
    clock_mhz: float = 1000.0
    energy_table: str = "default"
    description: str = ""
    source: str = ""
    file: str = field(default="", compare=False)


def preset_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".yaml")
        for p in resources.files(PRESET_PACKAGE).iterdir()
        if p.name.endswith(".yaml")
    )


def preset_path(name: str) -> Path:
    return Path(str(resources.files(PRESET_PACKAGE).joinpath(f"{name}.yaml")))


def load_arch(name_or_path: str | Path) -> ArchSpec:
    """Load a preset by name or an architecture YAML file."""
    text = str(name_or_path)
    if text in preset_names():
        path = preset_path(text)
    else:
        path = Path(text)
        if path.suffix.lower() not in (".yaml", ".yml"):
            raise SpecError(
                "--arch", "arch", text, f"a preset ({', '.join(preset_names())}) or a .yaml file"
            )
        if not path.is_file():
            raise SpecError(str(path), "file", text, "an existing architecture YAML file")
    return parse_arch(load_yaml(path), str(path))


def _parse_nm(text: str) -> NM:
    parts = text.split(":")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(text)
    n, m = (int(p) for p in parts)
    return NM(n, m)


def parse_arch(data: object, source: str) -> ArchSpec:
    """Validate a loaded YAML document and build the typed spec."""
    top = Node(data, source)
    pe = top.child("pe_array")
    rows, cols = pe.positive_int("rows"), pe.positive_int("cols")
    multipliers = pe.positive_int("multipliers", 1)
    raw_patterns = pe.get("nm_patterns", list, [], allowed="a list of 'N:M' strings")
    patterns = []
    for i, raw in enumerate(raw_patterns):
        try:
            pat = _parse_nm(str(raw))
        except ValueError:
            raise pe.error(f"nm_patterns[{i}]", raw, "'N:M' with 1 <= N <= M") from None
        if pat.is_dense:
            continue  # dense mode is always there
        if multipliers % pat.n:
            raise pe.error(
                f"nm_patterns[{i}]", raw, f"patterns whose N divides multipliers ({multipliers})"
            )
        patterns.append(pat)
    array = PEArraySpec(
        rows=rows,
        cols=cols,
        multipliers=multipliers,
        nm_patterns=tuple(patterns),
        dataflow=pe.choice("dataflow", Dataflow, ["ws", "os", "is"], Dataflow.WS),
        # Only SCALE-Sim's serialized fold timing is modelled (and proven) so far.
        fold_timing=pe.choice("fold_timing", FoldTiming, ["serialized"], FoldTiming.SERIALIZED),
        data_bits=pe.get(
            "data_bits", int, 8, allowed="4, 8 or 16", check=lambda v: v in (4, 8, 16)
        ),
        acc_bits=pe.get("acc_bits", int, 32, allowed="16..64", check=lambda v: 16 <= v <= 64),
        zero_gating=pe.get("zero_gating", bool, True),
    )
    pe.finish()

    mem = top.child("memory")
    glb_node = mem.child("glb")
    glb = GLBSpec(
        capacity_bytes=round(
            glb_node.get("capacity_kib", float, allowed="a number > 0 (KiB)", check=lambda v: v > 0)
            * 1024
        ),
        bandwidth_bytes_per_cycle=glb_node.get(
            "bandwidth_bytes_per_cycle", float, allowed="a number > 0", check=lambda v: v > 0
        ),
    )
    glb_node.finish()
    dram_node = mem.child("dram")
    dram = DRAMSpec(
        bandwidth_bytes_per_cycle=dram_node.get(
            "bandwidth_bytes_per_cycle", float, allowed="a number > 0", check=lambda v: v > 0
        ),
        latency_cycles=dram_node.get(
            "latency_cycles", int, 0, allowed="an integer >= 0", check=lambda v: v >= 0
        ),
    )
    dram_node.finish()
    mem.finish()

    energy = top.child("energy", {})
    energy_table = energy.get("table", str, "default")
    energy.finish()

    spec = ArchSpec(
        name=top.get("name", str),
        pe_array=array,
        glb=glb,
        dram=dram,
        clock_mhz=top.get(
            "clock_mhz", float, 1000.0, allowed="a number > 0", check=lambda v: v > 0
        ),
        energy_table=energy_table,
        description=top.get("description", str, ""),
        source=top.get("source", str, ""),
        file=source,
    )
    top.finish()
    return spec
