"""Architecture specs: YAML (or a SCALE-Sim .cfg) in, validated frozen dataclasses out.

`load_arch(name_or_path)` accepts a preset name (`sparsim presets`), a YAML
file or a SCALE-Sim v3 `.cfg` file. Past the loader nothing reads dicts.

The memory hierarchy is data: `memory` names its levels (`dram`, `glb`, any
further SRAM level with `kind: sram` and a `parent`), each filled from its
parent, down to the GLB that feeds the PE array and its PE-local registers.
`MemorySpec.graph()` is that hierarchy as a networkx graph, which the memory
model walks, so a new level is a few lines of YAML, not code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from importlib import resources
from pathlib import Path

import networkx as nx

from mappings.dataflow import Dataflow, FoldTiming, Operand
from simulator.spec_reader import Node, SpecError, load_yaml
from workloads.errors import parse_decimal, printable
from workloads.inputs import is_regular_file
from workloads.sparsity import NM
from workloads.sparsity_spec import MAX_NM_M

PRESET_PACKAGE = "simulator.presets"
ARRAY_NODE = "pe_array"  # the graph node of the PE array (its PE-local registers)


class WeightFormat(str, Enum):
    """How weights are stored in DRAM and the GLB (DESIGN.md: metadata is counted).

    AUTO: N:M values + indices when the layer runs an N:M mode, else dense.
    """

    AUTO = "auto"
    DENSE = "dense"
    NM = "nm"
    BITMASK = "bitmask"
    CSR = "csr"

    def __str__(self) -> str:
        return self.value


class ActivationFormat(str, Enum):
    DENSE = "dense"
    BITMASK = "bitmask"  # one bit per element plus the nonzero values

    def __str__(self) -> str:
        return self.value


class LevelKind(str, Enum):
    DRAM = "dram"
    SRAM = "sram"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class PEArraySpec:
    """A rows x cols systolic array of N:M PEs.

    Each PE has `multipliers` multipliers. In dense mode it reduces that many
    K elements per cycle; running a supported pattern n:m it takes
    multipliers * m / n activations, selects the nonzero-weight ones by the
    stored indices and does `multipliers` MACs (DESIGN.md). `nm_any` is
    SCALE-Sim v3's layer-wise model: every N:M a layer declares runs, with K
    packed to ceil(K * N / M) (a `.cfg` with sparsity support).

    Zero operands: `zero_gating` gates the MAC of a zero weight or activation
    (saves energy, not cycles); `activation_skipping` skips zero activations
    (cycles and energy; the stream compacts to the nonzero fraction);
    `tile_skipping` skips all-zero weight tiles counted from the real mask.
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
    activation_skipping: bool = False
    tile_skipping: bool = False
    nm_any: bool = False

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    def window(self, pattern: NM | None) -> int:
        """K elements one PE reduces per cycle in a mode (None = dense)."""
        if pattern is None or pattern.is_dense:
            return self.multipliers
        return self.multipliers * pattern.m // pattern.n

    def reduction_steps(self, k: int, pattern: NM | None) -> int:
        """PE-cycles to reduce k elements in a mode: ceil(k / window).

        Written as ceil(k * n / (multipliers * m)) so that a pattern whose
        window is not whole (3:4 on one multiplier, SCALE-Sim's layer-wise
        packing of K to ceil(K * N / M)) still has a count; for whole windows
        the two are the same.
        """
        if pattern is None or pattern.is_dense:
            return -(-k // self.multipliers)
        return -(-k * pattern.n // (self.multipliers * pattern.m))

    def supports(self, pattern: NM) -> bool:
        return self.nm_any or pattern in self.nm_patterns


@dataclass(frozen=True, slots=True)
class MemLevelSpec:
    """One level of the memory hierarchy.

    DRAM: `bandwidth_bytes_per_cycle` of one channel shared by reads and
    writes, `latency_cycles` per transfer, transfers rounded up to
    `burst_bytes`. SRAM: `capacity_bytes` (None = unbounded), shared by all
    operands or split by `partition` (bytes per operand); up to `ports`
    accesses run at once (fills, the array's reads, write-backs) if there
    are as many `banks`, each at `bandwidth_bytes_per_cycle` (per port).
    """

    name: str
    kind: LevelKind
    parent: str | None
    bandwidth_bytes_per_cycle: float
    capacity_bytes: int | None = None
    latency_cycles: int = 0
    burst_bytes: int = 1
    banks: int = 1
    ports: int = 1
    partition: tuple[tuple[Operand, int], ...] = ()

    @property
    def concurrency(self) -> int:
        """Accesses served at once: one per port, if the banks allow."""
        return max(1, min(self.ports, self.banks)) if self.kind is LevelKind.SRAM else 1

    @property
    def port_bandwidth(self) -> float:
        return self.bandwidth_bytes_per_cycle

    def capacity_for(self, operand: Operand) -> int | None:
        """Bytes `operand` may use here (its partition, or the shared capacity)."""
        for op, size in self.partition:
            if op is operand:
                return size
        return self.capacity_bytes


@dataclass(frozen=True, slots=True)
class MemorySpec:
    """The hierarchy, outermost (DRAM) first, ending at the GLB that feeds the array."""

    levels: tuple[MemLevelSpec, ...]
    pe_local_bytes: int | None = None  # registers per PE; None = as many as the dataflow needs
    weight_format: WeightFormat = WeightFormat.AUTO
    activation_format: ActivationFormat = ActivationFormat.DENSE
    double_buffering: bool = True

    def level(self, name: str) -> MemLevelSpec:
        for lv in self.levels:
            if lv.name == name:
                return lv
        raise KeyError(name)

    @property
    def dram(self) -> MemLevelSpec:
        return self.levels[0]

    @property
    def glb(self) -> MemLevelSpec:
        return self.levels[-1]

    def graph(self) -> nx.DiGraph:
        """Levels as nodes (attribute `spec`), edges parent -> child, ending at the array."""
        g = nx.DiGraph()
        for lv in self.levels:
            g.add_node(lv.name, spec=lv)
            if lv.parent is not None:
                g.add_edge(lv.parent, lv.name)
        g.add_node(ARRAY_NODE, spec=None, pe_local_bytes=self.pe_local_bytes)
        g.add_edge(self.glb.name, ARRAY_NODE)
        return g

    def path_to_array(self) -> tuple[MemLevelSpec, ...]:
        """The levels data crosses from DRAM to the array, in order."""
        names = nx.shortest_path(self.graph(), self.dram.name, ARRAY_NODE)[:-1]
        return tuple(self.level(n) for n in names)


@dataclass(frozen=True, slots=True)
class ArchSpec:
    """An accelerator: PE array, memory hierarchy, clock, energy table.

    `scalesim_compat` (set by the `.cfg` reader) makes results read as
    SCALE-Sim v3's: cycles are reported counted from 0, i.e. the index of the
    last cycle (c - 1 for a run of c cycles, once per independent GEMM, as
    SCALE-Sim runs each depthwise channel as its own layer), and the default
    mapping streams whole operands without GLB tiling, the loop nest SCALE-Sim
    times. Then `compute` equals its "Total Cycles" (docs/cycles.md).
    """

    name: str
    pe_array: PEArraySpec
    memory: MemorySpec
    clock_mhz: float = 1000.0
    energy_table: str = "default"
    description: str = ""
    source: str = ""
    scalesim_compat: bool = False
    file: str = field(default="", compare=False)

    @property
    def glb(self) -> MemLevelSpec:
        return self.memory.glb

    @property
    def dram(self) -> MemLevelSpec:
        return self.memory.dram


def preset_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".yaml")
        for p in resources.files(PRESET_PACKAGE).iterdir()
        if p.name.endswith(".yaml")
    )


def preset_path(name: str) -> Path:
    return Path(str(resources.files(PRESET_PACKAGE).joinpath(f"{name}.yaml")))


def load_arch_yaml(name_or_path: str | Path) -> ArchSpec:
    """A preset by name or an architecture YAML file (`simulator.load.load_arch`
    also reads SCALE-Sim `.cfg` files)."""
    text = str(name_or_path)
    if text in preset_names():
        return parse_arch(load_yaml(preset_path(text)), str(preset_path(text)))
    path = Path(text)
    if not is_regular_file(path):
        raise SpecError(str(path), "file", text, "an existing architecture YAML file")
    return parse_arch(load_yaml(path), str(path))


def parse_nm(text: str) -> NM:
    parts = [parse_decimal(p, max_digits=4) for p in text.split(":")]
    if len(parts) != 2 or None in parts or not 1 <= parts[0] <= parts[1] <= MAX_NM_M:
        raise ValueError(text)
    return NM(parts[0], parts[1])


def _parse_pe_array(top: Node) -> PEArraySpec:
    pe = top.child("pe_array")
    rows, cols = pe.positive_int("rows"), pe.positive_int("cols")
    multipliers = pe.positive_int("multipliers", 1)
    raw_patterns = pe.get(
        "nm_patterns", (list, str), [], allowed="a list of 'N:M' strings, or 'any'"
    )
    nm_any = raw_patterns == "any"
    if isinstance(raw_patterns, str) and not nm_any:
        raise pe.error("nm_patterns", raw_patterns, "a list of 'N:M' strings, or 'any'")
    patterns = []
    for i, raw in enumerate([] if nm_any else raw_patterns):
        try:
            pat = parse_nm(str(raw))
        except ValueError:
            raise pe.error(
                f"nm_patterns[{i}]", raw, f"'N:M' with 1 <= N <= M <= {MAX_NM_M}"
            ) from None
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
        fold_timing=pe.choice(
            "fold_timing", FoldTiming, ["serialized", "overlapped"], FoldTiming.SERIALIZED
        ),
        data_bits=pe.get(
            "data_bits", int, 8, allowed="4, 8 or 16", check=lambda v: v in (4, 8, 16)
        ),
        acc_bits=pe.get("acc_bits", int, 32, allowed="16..64", check=lambda v: 16 <= v <= 64),
        zero_gating=pe.get("zero_gating", bool, True),
        activation_skipping=pe.get("activation_skipping", bool, False),
        tile_skipping=pe.get("tile_skipping", bool, False),
        nm_any=nm_any,
    )
    pe.finish()
    return array


def _kib(node: Node, key: str) -> int:
    """A required size in KiB, as bytes."""
    value = node.get(
        key, float, allowed="a number > 0 (KiB)", check=lambda v: v > 0 and v < math.inf
    )
    return round(value * 1024)


def _parse_level(node: Node, name: str, kind: LevelKind, parent: str | None) -> MemLevelSpec:
    bandwidth = node.get(
        "bandwidth_bytes_per_cycle",
        float,
        allowed="a number > 0 (.inf: unbounded)",
        check=lambda v: v > 0,
    )
    latency = node.get("latency_cycles", int, 0, allowed="an integer >= 0", check=lambda v: v >= 0)
    if kind is LevelKind.DRAM:
        burst = node.positive_int("burst_bytes", 64)
        return MemLevelSpec(name, kind, None, bandwidth, None, latency, burst, 1, 1)
    capacity = _kib(node, "capacity_kib")
    banks = node.positive_int("banks", 1)
    ports = node.positive_int("ports", 2)
    partition: list[tuple[Operand, int]] = []
    raw = node.get("partition", (str, dict), "shared", allowed="'shared' or per-operand KiB")
    if isinstance(raw, str):
        if raw != "shared":
            raise node.error("partition", raw, "'shared' or {weights_kib, inputs_kib, outputs_kib}")
    else:
        part = node.child("partition")
        for op in Operand:
            size = _kib(part, f"{op.value}_kib")
            partition.append((op, size))
        part.finish()
        total = sum(size for _, size in partition)
        if total > capacity:
            allowed = f"partitions summing to at most capacity_kib ({capacity / 1024:g})"
            raise node.error("partition", raw, allowed)
    return MemLevelSpec(
        name, kind, parent, bandwidth, capacity, latency, 1, banks, ports, tuple(partition)
    )


def _parse_memory(top: Node, pe_array: PEArraySpec) -> MemorySpec:
    mem = top.child("memory")
    dram = mem.child("dram")
    levels = {"dram": _parse_level(dram, "dram", LevelKind.DRAM, None)}
    dram.finish()
    # Extra SRAM levels (`kind: sram`) between DRAM and the GLB; the GLB feeds the array.
    extra = [
        key
        for key, value in mem.data.items()
        if key not in ("dram", "glb") and isinstance(value, dict) and value.get("kind") == "sram"
    ]
    for key in [*extra, "glb"]:
        node = mem.child(key)
        if key != "glb":
            node.get("kind", str)
        parent = node.get("parent", str, "dram")
        levels[key] = _parse_level(node, key, LevelKind.SRAM, parent)
        node.finish()
    for key, lv in levels.items():
        if lv.parent is not None and lv.parent not in levels:
            raise SpecError(
                mem.source, f"memory.{key}.parent", lv.parent, f"a level: {', '.join(levels)}"
            )
    order = _chain(levels, mem)
    pe_local = mem.child("pe_local", {})
    pe_local_bytes = pe_local.get(
        "capacity_bytes", int, None, allowed="an integer > 0 (bytes per PE)", check=lambda v: v > 0
    )
    pe_local.finish()
    spec = MemorySpec(
        levels=tuple(levels[n] for n in order),
        pe_local_bytes=pe_local_bytes,
        weight_format=mem.choice(
            "weight_format", WeightFormat, [f.value for f in WeightFormat], WeightFormat.AUTO
        ),
        activation_format=mem.choice(
            "activation_format",
            ActivationFormat,
            [f.value for f in ActivationFormat],
            ActivationFormat.DENSE,
        ),
        double_buffering=mem.get("double_buffering", bool, True),
    )
    mem.finish()
    need = pe_local_need_bytes(pe_array)
    if pe_local_bytes is not None and pe_local_bytes < need:
        shadow = " with their shadow copies (overlapped)" if _overlapped(pe_array) else ""
        allowed = f">= {need} bytes: the {pe_array.dataflow.value.upper()} PE's registers{shadow}"
        raise SpecError(mem.source, "memory.pe_local.capacity_bytes", pe_local_bytes, allowed)
    return spec


def _overlapped(pe: PEArraySpec) -> bool:
    return pe.fold_timing is FoldTiming.OVERLAPPED


def pe_local_need_bytes(pe: PEArraySpec) -> int:
    """Register bytes one PE needs: stationary operand (twice when double-buffered),
    the streamed operands in flight and the accumulator."""
    lanes = max([pe.window(p) for p in pe.nm_patterns] + [pe.multipliers])
    idx_bits = max([math.ceil(math.log2(p.m)) for p in pe.nm_patterns if p.m > 1] + [0])
    weight_bits = pe.multipliers * (pe.data_bits + idx_bits)
    act_bits = lanes * pe.data_bits
    copies = 2 if _overlapped(pe) else 1
    if pe.dataflow is Dataflow.WS:
        bits = copies * weight_bits + act_bits + pe.acc_bits
    elif pe.dataflow is Dataflow.IS:
        bits = copies * act_bits + weight_bits + pe.acc_bits
    else:  # OS: accumulator and its output register, both operands in flight
        bits = act_bits + weight_bits + 2 * pe.acc_bits
    return -(-bits // 8)


def _chain(levels: dict[str, MemLevelSpec], mem: Node) -> list[str]:
    """Level names from DRAM to the GLB; the hierarchy must be one path."""
    order, current = ["glb"], levels["glb"]
    while current.parent is not None:
        if current.parent in order:
            raise SpecError(mem.source, f"memory.{current.name}.parent", current.parent, "no cycle")
        order.append(current.parent)
        current = levels[current.parent]
    unused = sorted(set(levels) - set(order))
    if unused:
        raise SpecError(
            mem.source, f"memory.{unused[0]}", "<not on the path to the GLB>", "a parent chain"
        )
    return order[::-1]


def parse_arch(data: object, source: str) -> ArchSpec:
    """Validate a loaded YAML document and build the typed spec."""
    top = Node(data, source)
    array = _parse_pe_array(top)
    memory = _parse_memory(top, array)
    energy = top.child("energy", {})
    energy_table = energy.get("table", str, "default")
    energy.finish()
    spec = ArchSpec(
        name=printable(top.get("name", str)),
        pe_array=array,
        memory=memory,
        clock_mhz=top.get(
            "clock_mhz", float, 1000.0, allowed="a number > 0", check=lambda v: v > 0
        ),
        energy_table=energy_table,
        description=top.get("description", str, ""),
        source=top.get("source", str, ""),
        scalesim_compat=top.get("scalesim_compat", bool, False),
        file=source,
    )
    top.finish()
    return spec
