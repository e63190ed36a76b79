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

import dataclasses
import math
from dataclasses import dataclass, field
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from mappings.dataflow import ROLES, Dataflow, FoldTiming, Operand
from simulator.energy_table import ENTRIES, MAC_TYPES, EnergyTable, default_table, load_energy_table
from simulator.spec_reader import Node, SpecError, load_yaml
from workloads.errors import parse_decimal, printable
from workloads.inputs import is_regular_file
from workloads.sparsity import NM
from workloads.sparsity_spec import MAX_NM_M

if TYPE_CHECKING:
    import networkx as nx

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
    # Sparseloop's rank formats (simulator.formats): ranks outer to inner, one fiber per
    # output column (N) over K for two ranks, the flattened K x N for one
    RLE = "rle"
    CP = "cp"
    UOP_CP = "uop_cp"
    UOP_RLE = "uop_rle"
    # three ranks: the outer one follows the tiling (a level's format, simulator.accesses)
    UOP_UOP_CP = "uop_uop_cp"
    UOP_UOP_RLE = "uop_uop_rle"

    def __str__(self) -> str:
        return self.value


class ActivationFormat(str, Enum):
    DENSE = "dense"
    BITMASK = "bitmask"  # one bit per element plus the nonzero values
    # Sparseloop's rank formats (simulator.formats): per pixel (GEMM row) a fiber over
    # the channels (K) for two ranks, the flattened input for one
    RLE = "rle"
    CP = "cp"
    UOP_CP = "uop_cp"
    UOP_RLE = "uop_rle"
    UOP_UOP_CP = "uop_uop_cp"
    UOP_UOP_RLE = "uop_uop_rle"

    def __str__(self) -> str:
        return self.value


class LevelKind(str, Enum):
    DRAM = "dram"
    SRAM = "sram"

    def __str__(self) -> str:
        return self.value


# What each field of an architecture YAML means (docs/arch.md is generated
# from this table and from the loader itself: `python -m sparsim.docs`).
# Keys are YAML paths; `<level>` stands for any extra SRAM level's name.
# Types, defaults and allowed values come from the loader, units from the
# field's name; a field the loader reads without an entry here fails the test.
FIELD_DOCS: dict[str, str] = {
    "name": "the architecture's name, used in results",
    "description": "a line or two on what the architecture is",
    "source": "where its numbers come from (papers, data sheets)",
    "clock_mhz": "clock frequency; converts cycles to seconds (`time_s`)",
    "scalesim_compat": "report cycles as SCALE-Sim v3 counts them and stream whole operands "
    "without GLB tiling (set by the .cfg reader; docs/cycles.md)",
    "energy.table": "energy-per-action table in simulator/energy_tables/ (by name)",
    "energy.overrides.network_hop_bit": "pJ per bit per PE-to-PE hop, replacing the table's "
    "entry (any table entry or mac_<type> can be replaced; not rescaled by technology_nm)",
    "pe_array.rows": "PE rows of the systolic array",
    "pe_array.cols": "PE columns of the systolic array",
    "pe_array.multipliers": "multipliers per PE: K elements reduced per cycle in dense mode",
    "pe_array.nm_patterns": "N:M patterns the PE runs sparse (a pattern n:m reduces "
    "multipliers x m / n K elements per cycle); 'any': SCALE-Sim's layer-wise N:M; "
    "[]: dense only",
    "pe_array.dataflow": "what stays in the PEs: weights (ws), outputs (os) or inputs (is)",
    "pe_array.fold_timing": "folds back to back with fill and drain each (serialized), or "
    "the next fold's preload hidden behind the current one (overlapped)",
    "pe_array.data_bits": "width of weights and activations",
    "pe_array.acc_bits": "width of the accumulators (psums wrap at this width)",
    "pe_array.zero_gating": "gate the MAC of a zero weight or activation (energy, not cycles)",
    "pe_array.gating_saves": "the reads a gated MAC saves besides its own energy: its weight "
    "read on a zero input (weights), its partial sum's read-modify-write (outputs), its input "
    "read on a zero weight, at the layer's weight density (inputs; with weights too: the "
    "two-operand intersection), at the level the MAC reads them (Sparseloop's gating SAFs; "
    "Eyeriss v1 gates the weight read only: [weights])",
    "pe_array.ert_component": "the Accelergy ERT component pricing the MAC (default: mac)",
    "pe_array.keeps_operands": "the PEs keep their operands and partial sum in registers "
    "between computes; false: every MAC reads its weight and input from the innermost memory "
    "level and read-modify-writes its output there (a MAC wired to a buffer, as in Timeloop "
    "designs without a register level)",
    "pe_array.activation_skipping": "skip zero activations (cycles and energy)",
    "pe_array.tile_skipping": "skip all-zero weight tiles, counted from the real mask",
    "memory.dram.bandwidth_bytes_per_cycle": "DRAM channel bandwidth, shared by reads and "
    "writes (.inf: unbounded)",
    "memory.dram.latency_cycles": "cycles from a DRAM request to its first byte",
    "memory.dram.burst_bytes": "DRAM transfers are rounded up to whole bursts",
    "memory.host.bandwidth_bytes_per_cycle": "bandwidth of the host link (e.g. PCIe), shared "
    "by reads and writes",
    "memory.host.latency_cycles": "cycles from a host request to its first byte",
    "memory.host.burst_bytes": "host transfers are rounded up to whole bursts",
    "memory.host.holds": "operands whose off-chip home is the host, not DRAM (TPU v1: "
    "activations come over PCIe, weights from its DDR3)",
    "memory.<level>.kind": "'sram': an on-chip level between DRAM and the GLB",
    "memory.<level>.parent": "the level this one is filled from",
    "memory.<level>.capacity_kib": "capacity",
    "memory.<level>.bandwidth_bytes_per_cycle": "bandwidth of one port (.inf: unbounded)",
    "memory.<level>.latency_cycles": "cycles from a request to its first byte",
    "memory.<level>.banks": "banks (accesses at once: min(banks, ports))",
    "memory.<level>.ports": "ports: fills, the array's reads and write-backs run at once",
    "memory.<level>.partition": "'shared' by all operands, or per-operand capacities",
    "memory.<level>.partition.weights_kib": "capacity reserved for weights",
    "memory.<level>.partition.inputs_kib": "capacity reserved for input activations",
    "memory.<level>.partition.outputs_kib": "capacity reserved for outputs and psums",
    "memory.glb.parent": "the level the GLB is filled from",
    "memory.glb.capacity_kib": "global buffer capacity (it feeds the PE array)",
    "memory.glb.bandwidth_bytes_per_cycle": "bandwidth of one GLB port (.inf: unbounded)",
    "memory.glb.latency_cycles": "cycles from a GLB request to its first byte",
    "memory.glb.banks": "GLB banks (accesses at once: min(banks, ports))",
    "memory.glb.ports": "GLB ports: fills, the array's reads and write-backs run at once",
    "memory.glb.partition": "'shared' by all operands, or per-operand capacities",
    "memory.glb.partition.weights_kib": "GLB capacity reserved for weights",
    "memory.glb.partition.inputs_kib": "GLB capacity reserved for input activations",
    "memory.glb.partition.outputs_kib": "GLB capacity reserved for outputs and psums",
    "memory.pe_local.capacity_bytes": "registers per PE (none: as many as the dataflow "
    "needs; fewer than it needs is an error)",
    "memory.weight_format": "how weights are stored in DRAM and the GLB (auto: N:M values + "
    "indices when the layer runs an N:M mode, else dense; rle, cp, uop_cp, uop_rle: "
    "Sparseloop's rank formats, a fiber per output column over K for two ranks; "
    "uop_uop_cp, uop_uop_rle: a third, outer rank over the tiles of the level inside)",
    "memory.activation_format": "how activations are stored (bitmask: one bit per element "
    "plus the nonzero values; rle, cp, uop_cp, uop_rle: Sparseloop's rank formats, a fiber "
    "per pixel over the channels for two ranks; uop_uop_cp, uop_uop_rle: a third, outer "
    "rank over the tiles of the level inside)",
    "memory.stages": "tile buffers per operand at each on-chip level (default 2): while the "
    "array computes on one, stages - 1 loads are in flight (1: no overlap; 2: double "
    "buffering; 3-4: a GPU kernel's cp.async stages, a DMA engine's outstanding requests)",
    "memory.double_buffering": "the older spelling of memory.stages: true is 2, false is 1 "
    "(give one of the two)",
    "energy.supply_v": "core supply voltage: the table's on-chip values scale by (V / the "
    "table's V)^2 (C V^2; not ERT, DRAM or spec-given values)",
    "energy.technology_nm": "technology node the table's values are scaled to (not ERT or "
    "spec-given values)",
    "pe_array.mac_type": "MAC arithmetic: int, fp16 or bf16 (prices the MAC)",
    "pe_array.weight_bits": "width of weights (default data_bits; e.g. 4 for W4A8)",
    "pe_array.input_bits": "width of input activations (default data_bits)",
    "cores.count": "identical cores (SMs, chiplets, TensorCores), each with its own PE array "
    "and its own copy of every memory level not in `cores.shared` (default 1); a layer's "
    "output tiles of the outermost private level are dealt to the cores in waves",
    "cores.shared": "the levels all cores share, outermost first: DRAM and a prefix of the "
    "chain below it, not the GLB (default: every level above the GLB); their bandwidth is "
    "divided among the cores active at once",
}
# Fields every memory level shares (docs/memory.md): one meaning per field,
# spelled out for the DRAM, the GLB and any extra level.
_LEVEL_FIELD_DOCS = {
    "word_bits": "width of one access; energy is priced per access",
    "energy.read_pj": "energy of one read of word_bits (overrides the table)",
    "energy.write_pj": "energy of one write (fill) of word_bits (overrides the table)",
    "energy.update_pj": "energy of one read-modify-write update of word_bits (overrides the table)",
    "energy.leakage_pj_per_cycle": "leakage energy per cycle (overrides the table)",
    "ert_component": "the Accelergy ERT component pricing this level (default: its name)",
}
_ON_CHIP_FIELD_DOCS = {
    "holds": "operands kept here (weights, inputs, outputs; default all); the others cross "
    "without an access (bypass). TPU v1's accumulators: [outputs]",
    "stages": "tile buffers per operand here (default: memory.stages), each taking capacity; "
    "the level a step's tile lands in (the GLB, or the first level inside holding an operand "
    "that bypasses it) sets how many tiles of that operand are in flight",
    "double_buffered": "the older spelling of stages: true is 2, false is 1 (give one of the two)",
    "macros": "separate SRAM macros the capacity and banks are split into (e.g. one per SM; "
    "default 1): an access crosses the H-tree of one macro only (energy)",
}
# a format per operand per level (DRAM included; Sparseloop keeps data compressed
# at some levels and uncompressed at others)
_FORMAT_FIELD_DOCS = {
    "formats.weights": "how this level stores weights, overriding memory.weight_format (its "
    "accesses, capacity and energy; data is compressed or decompressed where it crosses "
    "into a level with another format)",
    "formats.inputs": "how this level stores input activations, overriding "
    "memory.activation_format",
    "formats.outputs": "how this level stores final outputs, at the layer's output density "
    "(as activations are stored; default dense; partial sums are never compressed)",
}
FIELD_DOCS.update(
    {
        f"memory.{lv}.{key}": text
        for lv in ("dram", "host", "glb", "<level>")
        for key, text in _LEVEL_FIELD_DOCS.items()
    }
    | {
        f"memory.{lv}.{key}": text
        for lv in ("glb", "<level>")
        for key, text in _ON_CHIP_FIELD_DOCS.items()
    }
    | {
        f"memory.{lv}.{key}": text
        for lv in ("dram", "host", "glb", "<level>")
        for key, text in _FORMAT_FIELD_DOCS.items()
    }
)


ALL_OPERANDS = (Operand.WEIGHTS, Operand.INPUTS, Operand.OUTPUTS)
# the reads a gated MAC saves by default: its weight read and its partial sum's read-
# modify-write (its activation is read: that read shows the zero); `inputs` adds the input
# read a zero weight saves (reads conditioned on the weights, Sparseloop's spMspM)
GATING_SAVES = (Operand.WEIGHTS, Operand.OUTPUTS)


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
    (saves energy, not cycles) and the reads in `gating_saves` (the weight
    read, the partial sum's read-modify-write: Sparseloop's gating SAFs, which
    a design sets per data space); `activation_skipping` skips zero activations
    (cycles and energy; the stream compacts to the nonzero fraction);
    `tile_skipping` skips all-zero weight tiles counted from the real mask.
    `keeps_operands` False: the PEs hold nothing between computes, so the
    innermost memory level serves every MAC's operands and partial sum.
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
    gating_saves: tuple[Operand, ...] = GATING_SAVES
    activation_skipping: bool = False
    tile_skipping: bool = False
    nm_any: bool = False
    mac_type: str = "int"  # int | fp16 | bf16 (the MAC's arithmetic)
    weight_bits: int | None = None  # per-operand widths (None: data_bits)
    input_bits: int | None = None
    keeps_operands: bool = True
    ert_component: str | None = None  # the Accelergy ERT component pricing the MAC

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    @property
    def w_bits(self) -> int:
        return self.weight_bits or self.data_bits

    @property
    def a_bits(self) -> int:
        return self.input_bits or self.data_bits

    @property
    def mac_name(self) -> str:
        """The energy table's MAC entry: int4/int8/int16 by the wider operand, fp16, bf16."""
        if self.mac_type != "int":
            return self.mac_type
        bits = max(self.w_bits, self.a_bits)
        return "int4" if bits <= 4 else "int8" if bits <= 8 else "int16"

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
class LevelEnergySpec:
    """Energy per access of one `word_bits` word, as the spec gives it (None:
    derived from the energy table: SRAM from capacity and width, DRAM per bit)."""

    read_pj: float | None = None
    write_pj: float | None = None
    update_pj: float | None = None
    leakage_pj_per_cycle: float | None = None


@dataclass(frozen=True, slots=True)
class MemLevelSpec:
    """One level of the memory hierarchy (Timeloop's storage level).

    DRAM: `bandwidth_bytes_per_cycle` of one channel shared by reads and
    writes, `latency_cycles` per transfer, transfers rounded up to
    `burst_bytes`. SRAM: `capacity_bytes` (None = unbounded), shared by the
    operands it `holds` or split by `partition` (bytes per operand); up to
    `ports` accesses run at once (fills, the array's reads, write-backs) if
    there are as many `banks`, each at `bandwidth_bytes_per_cycle` (per
    port). `holds`: the operands kept here (the others bypass the level:
    TPU v1's accumulators hold outputs only, its weight FIFO weights only).
    `word_bits`: the width of one access (energy is per access).
    `stages`: tile buffers per operand here (None: the memory's default); 2 is
    double buffering, more keep several loads in flight.
    `macros`: separate SRAM macros holding the capacity (energy: an access
    reaches its bank across one macro, not the whole level).
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
    holds: tuple[Operand, ...] = ALL_OPERANDS
    word_bits: int = 64
    stages: int | None = None
    energy: LevelEnergySpec = LevelEnergySpec()
    ert_component: str | None = None  # the Accelergy ERT component pricing this level
    # independent SRAM macros the capacity is split into (one per SM, say): an access
    # crosses only its own macro's H-tree (energy only)
    macros: int = 1
    # how this level stores an operand, overriding `memory.weight_format` /
    # `activation_format` (Sparseloop keeps data compressed at some levels only):
    # (operand, WeightFormat or ActivationFormat) pairs (outputs: final values only)
    formats: tuple[tuple[Operand, WeightFormat | ActivationFormat], ...] = ()

    def format_for(self, operand: Operand) -> WeightFormat | ActivationFormat | None:
        """The format this level stores `operand` in (None: the memory-wide one)."""
        for op, fmt in self.formats:
            if op is operand:
                return fmt
        return None

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
    """The hierarchy as one chain of levels, outermost (DRAM) first.

    An operand's path to the array is the levels that hold it, in chain
    order (`path_for`); the PE registers (`pe_local_bytes` per PE) sit below
    the innermost level. `glb` is the level named `glb` (the buffer feeding
    the array), present in every spec.
    """

    levels: tuple[MemLevelSpec, ...]
    pe_local_bytes: int | None = None  # registers per PE; None = as many as the dataflow needs
    weight_format: WeightFormat = WeightFormat.AUTO
    activation_format: ActivationFormat = ActivationFormat.DENSE
    stages: int = 2  # tile buffers per operand at a level that does not set its own
    # a second off-chip home for the operands it `holds` (TPU v1's host over PCIe):
    # they cross its link instead of DRAM's; not on the chain
    host: MemLevelSpec | None = None

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
        for lv in self.levels:
            if lv.name == "glb":
                return lv
        return self.levels[-1]

    @property
    def on_chip(self) -> tuple[MemLevelSpec, ...]:
        return self.levels[1:]

    @property
    def off_chip(self) -> tuple[MemLevelSpec, ...]:
        """DRAM, and the host when the spec has one."""
        return (self.levels[0],) if self.host is None else (self.levels[0], self.host)

    @property
    def all_levels(self) -> tuple[MemLevelSpec, ...]:
        """The chain and the host."""
        return self.levels if self.host is None else (*self.levels, self.host)

    def source_for(self, operand: Operand) -> MemLevelSpec:
        """Where `operand` lives off chip: the host if it holds it, else DRAM."""
        if self.host is not None and operand in self.host.holds:
            return self.host
        return self.levels[0]

    @property
    def double_buffering(self) -> bool:
        """Loads overlap compute by default (more than one stage)."""
        return self.stages > 1

    def copies(self, level: MemLevelSpec) -> int:
        """Tile copies (stages) a level keeps per operand (2 when double-buffered)."""
        return self.stages if level.stages is None else level.stages

    def stages_for(self, operand: Operand, step_level: str | None = None) -> int:
        """Tiles of `operand` in flight at once when the memory model steps the tiles
        of `step_level` (default the GLB): the stages of the level its step tile
        lands in, the step level or, bypassing it, the first level inside that holds
        it (TPU v1's weight FIFO); the levels further in hold parts of a step tile."""
        names = [lv.name for lv in self.levels]
        at = names.index(step_level if step_level is not None else self.glb.name)
        for lv in self.levels[at:]:
            if operand in lv.holds:
                return self.copies(lv)
        return self.stages

    def path_for(self, operand: Operand) -> tuple[MemLevelSpec, ...]:
        """The levels holding `operand`, its off-chip home first (DRAM, or the host)."""
        return (self.source_for(operand), *(lv for lv in self.on_chip if operand in lv.holds))

    def graph(self) -> nx.DiGraph:
        """Levels as nodes (attribute `spec`), edges parent -> child, ending at the array."""
        import networkx as nx  # loaded on use: start-up time of the CLI

        g = nx.DiGraph()
        for lv in self.levels:
            g.add_node(lv.name, spec=lv)
            if lv.parent is not None:
                g.add_edge(lv.parent, lv.name)
        if self.host is not None:  # into the outermost level keeping what it holds
            g.add_node(self.host.name, spec=self.host)
            for op in self.host.holds:
                first = next((lv for lv in self.on_chip if op in lv.holds), None)
                g.add_edge(self.host.name, first.name if first else ARRAY_NODE)
        g.add_node(ARRAY_NODE, spec=None, pe_local_bytes=self.pe_local_bytes)
        g.add_edge(self.levels[-1].name, ARRAY_NODE)
        return g

    def path_to_array(self) -> tuple[MemLevelSpec, ...]:
        """The levels from DRAM down to the GLB, in order."""
        names = [lv.name for lv in self.levels]
        return self.levels[: names.index(self.glb.name) + 1]


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
    # the table, read when the spec is loaded (None: the default table)
    # compared: two specs naming `ert.yaml` in different folders are different archs
    energy: EnergyTable | None = field(default=None)
    technology_nm: float | None = None  # None: the table's node
    supply_v: float | None = None  # None: the table's supply voltage
    energy_overrides: tuple[tuple[str, float], ...] = ()  # table entry -> pJ
    # identical cores, each with its own PE array and private levels, under the
    # `shared_levels` (names, outermost first; the host, when there is one, is shared too)
    cores: int = 1
    shared_levels: tuple[str, ...] = ("dram",)

    @property
    def table(self) -> EnergyTable:
        return self.energy or default_table()

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
        gating_saves=_parse_gating_saves(pe),
        activation_skipping=pe.get("activation_skipping", bool, False),
        tile_skipping=pe.get("tile_skipping", bool, False),
        keeps_operands=pe.get("keeps_operands", bool, True),
        ert_component=pe.get("ert_component", str, None),
        nm_any=nm_any,
        mac_type=pe.choice("mac_type", str, ["int", "fp16", "bf16"], "int"),
        weight_bits=pe.get(
            "weight_bits", int, None, allowed="4, 8 or 16", check=lambda v: v in (4, 8, 16)
        ),
        input_bits=pe.get(
            "input_bits", int, None, allowed="4, 8 or 16", check=lambda v: v in (4, 8, 16)
        ),
    )
    if array.mac_type != "int" and 16 not in (array.data_bits, array.w_bits, array.a_bits):
        raise pe.error("data_bits", array.data_bits, f"16 for mac_type {array.mac_type}")
    pe.finish()
    return array


def _parse_gating_saves(pe: Node) -> tuple[Operand, ...]:
    allowed = "a list of distinct operands among weights, inputs, outputs (may be empty)"
    raw = pe.get("gating_saves", list, [op.value for op in GATING_SAVES], allowed=allowed)
    saves = []
    for i, item in enumerate(raw):
        op = next((o for o in ALL_OPERANDS if o.value == str(item).lower()), None)
        if op is None:
            raise pe.error(f"gating_saves[{i}]", item, "weights, inputs or outputs")
        saves.append(op)
    if len(set(saves)) != len(saves):
        raise pe.error("gating_saves", raw, allowed)
    return tuple(op for op in ALL_OPERANDS if op in saves)


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
    word_bits = node.get(
        "word_bits", int, 64, allowed="bits per access, 1..4096", check=lambda v: 0 < v <= 4096
    )
    energy = _parse_level_energy(node)
    ert = node.get("ert_component", str, None)
    formats = _parse_level_formats(node)
    if kind is LevelKind.DRAM:
        burst = node.positive_int("burst_bytes", 64)
        return MemLevelSpec(
            name, kind, None, bandwidth, None, latency, burst, 1, 1,
            word_bits=word_bits, energy=energy, ert_component=ert, formats=formats,
        )  # fmt: skip
    capacity = _kib(node, "capacity_kib")
    banks = node.positive_int("banks", 1)
    macros = node.get(
        "macros", int, 1, allowed=f"an integer from 1 to banks ({banks})",
        check=lambda v: 1 <= v <= banks,
    )  # fmt: skip
    ports = node.positive_int("ports", 2)
    holds_t = _parse_holds(node)
    partition: list[tuple[Operand, int]] = []
    raw = node.get("partition", (str, dict), "shared", allowed="'shared' or per-operand KiB")
    if isinstance(raw, str):
        if raw != "shared":
            raise node.error("partition", raw, "'shared' or {weights_kib, inputs_kib, outputs_kib}")
    else:
        part = node.child("partition")
        for op in holds_t:
            size = _kib(part, f"{op.value}_kib")
            partition.append((op, size))
        part.finish()
        total = sum(size for _, size in partition)
        if total > capacity:
            allowed = f"partitions summing to at most capacity_kib ({capacity / 1024:g})"
            raise node.error("partition", raw, allowed)
    stages = _parse_stages(node, "stages", "double_buffered", None)
    for op, fmt in formats:
        if op not in holds_t:
            held = ", ".join(o.value for o in holds_t)
            raise node.error(
                f"formats.{op.value}", fmt, f"a format for an operand it holds ({held})"
            )
    return MemLevelSpec(
        name, kind, parent, bandwidth, capacity, latency, 1, banks, ports, tuple(partition),
        holds_t, word_bits, stages, energy, ert, macros, formats,
    )  # fmt: skip


def _parse_level_formats(
    node: Node,
) -> tuple[tuple[Operand, WeightFormat | ActivationFormat], ...]:
    """`formats: {weights: ..., inputs: ...}`: this level's own storage formats."""
    if not node.has("formats"):
        return ()
    f = node.child("formats")
    # auto picks N:M per layer from the array's modes: a memory-wide choice only
    w_options = [v.value for v in WeightFormat if v is not WeightFormat.AUTO]
    out: list[tuple[Operand, WeightFormat | ActivationFormat]] = []
    w = f.choice("weights", WeightFormat, w_options, None)
    if w is not None:
        out.append((Operand.WEIGHTS, w))
    a = f.choice("inputs", ActivationFormat, [v.value for v in ActivationFormat], None)
    if a is not None:
        out.append((Operand.INPUTS, a))
    # final outputs, at the layer's output density (partial sums stay uncompressed)
    o = f.choice("outputs", ActivationFormat, [v.value for v in ActivationFormat], None)
    if o is not None:
        out.append((Operand.OUTPUTS, o))
    f.finish()
    return tuple(out)


MAX_STAGES = 16  # more buffers than any loader keeps in flight (CUTLASS sm80: 3-5)


def _parse_stages(node: Node, key: str, legacy: str, default: int | None) -> int | None:
    """`key` (tile buffers, an integer) or its older boolean spelling `legacy`."""
    older = node.get(legacy, bool, None)
    stages = node.get(
        key, int, default, allowed=f"an integer from 1 to {MAX_STAGES}",
        check=lambda v: 1 <= v <= MAX_STAGES,
    )  # fmt: skip
    if older is None:
        return stages
    if node.has(key):
        raise node.error(legacy, older, f"omitted when {key} is given (its older spelling)")
    return 2 if older else 1


def _parse_holds(node: Node, required: bool = False) -> tuple[Operand, ...]:
    allowed = "a list of weights/inputs/outputs"
    if required:
        holds_raw = node.get("holds", list, allowed=allowed)
    else:
        holds_raw = node.get("holds", list, [op.value for op in ALL_OPERANDS], allowed=allowed)
    holds = []
    for i, raw in enumerate(holds_raw):
        try:
            holds.append(Operand(str(raw).lower()))
        except ValueError:
            raise node.error(f"holds[{i}]", raw, "weights, inputs or outputs") from None
    if not holds or len(set(holds)) != len(holds):
        raise node.error("holds", holds_raw, "a non-empty list of distinct operands")
    return tuple(op for op in ALL_OPERANDS if op in holds)


def _parse_level_energy(node: Node) -> LevelEnergySpec:
    e = node.child("energy", {})
    pj = dict(allowed="a number >= 0 (pJ per access of word_bits)", check=lambda v: v >= 0)
    spec = LevelEnergySpec(
        e.get("read_pj", float, None, **pj),
        e.get("write_pj", float, None, **pj),
        e.get("update_pj", float, None, **pj),
        e.get("leakage_pj_per_cycle", float, None, **pj),
    )
    e.finish()
    return spec


def _parse_memory(top: Node, pe_array: PEArraySpec) -> MemorySpec:
    mem = top.child("memory")
    dram = mem.child("dram")
    levels = {"dram": _parse_level(dram, "dram", LevelKind.DRAM, None)}
    dram.finish()
    host = None
    if "host" in mem.data:
        node = mem.child("host")
        host = _parse_level(node, "host", LevelKind.DRAM, None)
        host = dataclasses.replace(host, holds=_parse_holds(node, required=True))
        for op, fmt in host.formats:
            if op not in host.holds:
                held = ", ".join(o.value for o in host.holds)
                raise node.error(
                    f"formats.{op.value}", fmt, f"a format for an operand it holds ({held})"
                )
        node.finish()
    # On-chip levels besides the GLB (`kind: sram`, with a `parent`): an L2 above
    # it, accumulators or a weight FIFO beside or below it, in one chain.
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
        stages=_parse_stages(mem, "stages", "double_buffering", 2),
        host=host,
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
    weight_bits = pe.multipliers * (pe.w_bits + idx_bits)
    act_bits = lanes * pe.a_bits
    copies = 2 if _overlapped(pe) else 1
    stationary = ROLES[pe.dataflow].stationary
    if stationary is Operand.WEIGHTS:
        bits = copies * weight_bits + act_bits + pe.acc_bits
    elif stationary is Operand.INPUTS:
        bits = copies * act_bits + weight_bits + pe.acc_bits
    else:  # OS: accumulator and its output register, both operands in flight
        bits = act_bits + weight_bits + 2 * pe.acc_bits
    return -(-bits // 8)


def _chain(levels: dict[str, MemLevelSpec], mem: Node) -> list[str]:
    """Level names from DRAM inwards; the hierarchy must be one chain."""
    children: dict[str, list[str]] = {}
    for key, lv in levels.items():
        if lv.parent is not None:
            children.setdefault(lv.parent, []).append(key)
    order, current = ["dram"], "dram"
    while current in children:
        kids = children[current]
        if len(kids) > 1:
            raise SpecError(
                mem.source, f"memory.{kids[1]}.parent", current,
                f"one level per parent (one chain; {kids[0]} already has {current})",
            )  # fmt: skip
        current = kids[0]
        order.append(current)
    unused = sorted(set(levels) - set(order))
    if unused:
        raise SpecError(
            mem.source, f"memory.{unused[0]}", "<not on the chain from dram>", "a parent chain"
        )
    return order


def _parse_energy(top: Node, memory: MemorySpec, pe_array: PEArraySpec, source: str):
    energy = top.child("energy", {})
    name = energy.get("table", str, "default")
    beside = Path(source).parent / name  # a relative table path is relative to the arch file
    path = str(beside) if name != "default" and is_regular_file(beside) else name
    table = load_energy_table(path, source, f"{energy.path}.table")
    tech = energy.get(
        "technology_nm", float, None, allowed="a number > 0 (nm)", check=lambda v: v > 0
    )
    volts = energy.get(
        "supply_v", float, None, allowed="a number > 0 (volts)", check=lambda v: 0 < v < 10
    )
    over = energy.child("overrides", {})
    known = [*(f"mac_{t}" for t in MAC_TYPES), *ENTRIES]
    overrides = []
    for key in list(over.data):
        if key not in known:
            raise over.error(key, over.data[key], f"one of {', '.join(known)}")
        overrides.append((key, over.non_negative(key)))
    over.finish()
    energy.finish()
    if table.ert is not None:
        # named components must be in the ERT (as its lookup finds them: the last
        # name part, array suffixes such as [0..3] dropped)
        named = [(f"memory.{lv.name}.ert_component", lv.ert_component) for lv in memory.all_levels]
        named.append(("pe_array.ert_component", pe_array.ert_component))
        for field, comp in named:
            if comp is not None and table.ert_component_named(comp) is None:
                raise SpecError(
                    source, field, comp, f"a component of {table.file}: {', '.join(table.ert)}"
                )
    return name, table, tech, volts, tuple(overrides)


def _parse_cores(top: Node, memory: MemorySpec) -> tuple[int, tuple[str, ...]]:
    """`cores: {count, shared}`: how many cores and which levels (a prefix of the
    chain from DRAM, never the GLB) they share."""
    names = [lv.name for lv in memory.levels]
    outside = names[: names.index(memory.glb.name)]  # the levels above the GLB
    node = top.child("cores", {})
    count = node.get(
        "count", int, 1, allowed="an integer from 1 to 1048576", check=lambda v: 1 <= v <= 2**20
    )
    allowed = f"a list of levels from dram inwards, a prefix of {outside} (not the GLB)"
    raw = node.get("shared", list, list(outside), allowed=allowed)
    shared = tuple(str(x) for x in raw)
    if list(shared) != outside[: len(shared)] or not shared:
        raise node.error("shared", raw, allowed)
    node.finish()
    return count, shared


def parse_arch(data: object, source: str) -> ArchSpec:
    """Validate a loaded YAML document and build the typed spec."""
    top = Node(data, source)
    array = _parse_pe_array(top)
    memory = _parse_memory(top, array)
    energy_table, table, tech, volts, overrides = _parse_energy(top, memory, array, source)
    cores, shared = _parse_cores(top, memory)
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
        energy=table,
        technology_nm=tech,
        supply_v=volts,
        energy_overrides=overrides,
        cores=cores,
        shared_levels=shared,
    )
    top.finish()
    return spec
