"""Frozen result records and their JSON form (the CLI/JSON contract of DESIGN.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Cycles:
    """`compute` is the array's own timing (fill and drain included, as
    SCALE-Sim counts it); `memory_stall` is what the memory system adds."""

    compute: int
    fill_drain: int
    memory_stall: int

    @property
    def total(self) -> int:
        return self.compute + self.memory_stall

    def to_dict(self) -> dict[str, int]:
        return {
            "total": self.total,
            "compute": self.compute,
            "fill_drain": self.fill_drain,
            "memory_stall": self.memory_stall,
        }


@dataclass(frozen=True, slots=True)
class LayerResult:
    name: str
    macs: int
    effective_macs: int
    mode: str  # "dense" or the N:M pattern the array ran
    dataflow: str
    folds: int
    cycles: Cycles
    multiplier_slots: int  # PEs x multipliers x total cycles (utilization denominator)
    energy_pj: dict[str, float]
    dram_bytes: int
    glb_bytes: int = 0
    mapping: dict = field(default_factory=dict)  # the mapping that ran (tiles, loop order)
    weight_format: str = "dense"
    zero_activations: str = "dense"  # dense | gated | skipped
    skipped_folds: int = 0  # all-zero weight tiles (or whole streams) the array skipped
    simulated_steps: int = 0  # GLB tiles the memory model stepped (steady state: fewer)
    useful_macs: int | None = None  # nonzero weight x nonzero activation (None: effective_macs)
    # per memory level (DRAM first, PE registers last): accesses per operand and
    # energy per action (simulator.energy.LevelEnergy.to_dict)
    levels: dict = field(default_factory=dict)
    bound: str = "compute"  # compute, or the memory level that limits the layer
    fallback: dict | None = None  # {mode, reason} when the array could not use the sparsity
    compulsory_dram_bytes: int = 0  # every operand once, in its stored format
    operands: dict = field(default_factory=dict)  # where each operand came from / went

    @property
    def utilization(self) -> float:
        """Useful MACs (nonzero weight and activation) over the multiplier slots
        of the cycles taken: at most 1."""
        useful = self.effective_macs if self.useful_macs is None else self.useful_macs
        return useful / self.multiplier_slots if self.multiplier_slots else 0.0

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "macs": self.macs,
            "effective_macs": self.effective_macs,
            "mode": self.mode,
            "dataflow": self.dataflow,
            "folds": self.folds,
            "cycles": self.cycles.to_dict(),
            "utilization": self.utilization,
            "energy_pj": dict(self.energy_pj),
            "dram_bytes": self.dram_bytes,
            "glb_bytes": self.glb_bytes,
            "mapping": dict(self.mapping),
            "weight_format": self.weight_format,
            "zero_activations": self.zero_activations,
            "skipped_folds": self.skipped_folds,
            "useful_macs": self.effective_macs if self.useful_macs is None else self.useful_macs,
            "bound": self.bound,
            "fallback": self.fallback,
            "compulsory_dram_bytes": self.compulsory_dram_bytes,
            "levels": self.levels,
            "operands": self.operands,
        }


@dataclass(frozen=True, slots=True)
class Totals:
    macs: int
    effective_macs: int
    cycles: Cycles
    multiplier_slots: int
    energy_pj: dict[str, float]
    dram_bytes: int
    useful_macs: int = 0
    clock_mhz: float = 0.0

    @property
    def utilization(self) -> float:
        return self.useful_macs / self.multiplier_slots if self.multiplier_slots else 0.0

    @property
    def time_s(self) -> float:
        """Total cycles at the arch's clock."""
        return self.cycles.total / (self.clock_mhz * 1e6) if self.clock_mhz else 0.0

    @classmethod
    def of(cls, layers: Iterable[LayerResult], clock_mhz: float = 0.0) -> Totals:
        layers = list(layers)
        energy: dict[str, float] = {}
        for lr in layers:
            for key, value in lr.energy_pj.items():
                energy[key] = energy.get(key, 0.0) + value
        return cls(
            macs=sum(lr.macs for lr in layers),
            effective_macs=sum(lr.effective_macs for lr in layers),
            cycles=Cycles(
                compute=sum(lr.cycles.compute for lr in layers),
                fill_drain=sum(lr.cycles.fill_drain for lr in layers),
                memory_stall=sum(lr.cycles.memory_stall for lr in layers),
            ),
            multiplier_slots=sum(lr.multiplier_slots for lr in layers),
            energy_pj=energy,
            dram_bytes=sum(lr.dram_bytes for lr in layers),
            useful_macs=sum(
                lr.effective_macs if lr.useful_macs is None else lr.useful_macs for lr in layers
            ),
            clock_mhz=clock_mhz,
        )

    def to_dict(self) -> dict:
        return {
            "macs": self.macs,
            "effective_macs": self.effective_macs,
            "cycles": self.cycles.to_dict(),
            "utilization": self.utilization,
            "energy_pj": dict(self.energy_pj),
            "dram_bytes": self.dram_bytes,
            "useful_macs": self.useful_macs,
            "time_s": self.time_s,
        }


@dataclass(frozen=True, slots=True)
class WorkloadResult:
    arch: str
    workload: str
    sparsity: str
    layers: tuple[LayerResult, ...]
    clock_mhz: float = 0.0
    totals: Totals = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "totals", Totals.of(self.layers, self.clock_mhz))

    def to_dict(self) -> dict:
        return {
            "arch": self.arch,
            "workload": self.workload,
            "sparsity": self.sparsity,
            "layers": [lr.to_dict() for lr in self.layers],
            "totals": self.totals.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    """A sparse run beside the same workload run dense on the same arch."""

    sparse: WorkloadResult
    dense: WorkloadResult
    compare: str = "same"  # same: the dense run used the sparse run's mappings; best: its own

    @property
    def speedup(self) -> float:
        """Dense over sparse total cycles."""
        return self.dense.totals.cycles.total / self.sparse.totals.cycles.total

    @property
    def compute_speedup(self) -> float:
        """Dense over sparse compute cycles."""
        return self.dense.totals.cycles.compute / self.sparse.totals.cycles.compute

    @property
    def energy_saving(self) -> float:
        """Dense over sparse total energy."""
        return self.dense.totals.energy_pj["total"] / self.sparse.totals.energy_pj["total"]

    def to_dict(self) -> dict:
        doc = self.sparse.to_dict()
        doc["totals"]["speedup"] = self.speedup
        doc["totals"]["compute_speedup"] = self.compute_speedup
        doc["totals"]["energy_saving"] = self.energy_saving
        doc["totals"]["compare"] = self.compare
        doc["dense_totals"] = self.dense.totals.to_dict()
        return doc
