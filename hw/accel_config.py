"""The accelerator top's RTL parameters, derived from an arch YAML.

One record drives the model and the RTL (as Gemmini's header comes from its
Scala config): `accel_parameters(arch)` turns `ArchSpec.pe_array` and the GLB
into accel_top's parameters, the build uses them, and the bench runs the tile
model on the same `ArchSpec`, so the two cannot drift.

Mapping (errors name the YAML field and what the RTL supports):
  pe_array.rows / cols          -> Rows / Cols
  pe_array.multipliers          -> N (multipliers per PE)
  pe_array.nm_patterns          -> M = multipliers * m / n of its one pattern
                                   (none: dense hardware, M = N)
  pe_array.data_bits / acc_bits -> DataWidth / AccWidth
  pe_array.fold_timing          -> Overlapped (shadow weights and a swap bit)
  pe_array.zero_gating          -> Gating (a zero operand gates the multiplier)
  memory.glb.capacity_bytes     -> WDepth / ADepth / ODepth: the GLB split in
                                   thirds (weights, activations, outputs); each
                                   operand third is two banks (ping-pong).
The top is weight stationary (pe_array.dataflow: ws).
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from mappings.dataflow import Dataflow, FoldTiming
from simulator.arch import ArchSpec
from simulator.load import load_arch
from simulator.spec_reader import SpecError

ARCH_DIR = Path(__file__).resolve().parent / "arch"


def _index_bits(m: int) -> int:
    return max(1, (m - 1).bit_length())


def accel_parameters(arch: ArchSpec) -> MappingProxyType:
    """accel_top's parameters for `arch`; SpecError on what the RTL cannot build."""
    pe = arch.pe_array
    where = arch.file or arch.name
    if pe.dataflow is not Dataflow.WS:
        raise SpecError(where, "pe_array.dataflow", str(pe.dataflow), "ws (the RTL top)")
    if len(pe.nm_patterns) > 1 or pe.nm_any:
        raise SpecError(
            where,
            "pe_array.nm_patterns",
            ", ".join(map(str, pe.nm_patterns)),
            "at most one N:M pattern (the RTL PE has one sparse mode)",
        )
    n = pe.multipliers
    m = pe.window(pe.nm_patterns[0]) if pe.nm_patterns else n
    capacity = arch.glb.capacity_bytes
    if capacity is None:
        raise SpecError(where, "memory.glb.capacity_kib", "unbounded", "a capacity")
    third = capacity // 3
    w_word = -(-n * (pe.data_bits + _index_bits(m)) // 8)
    a_word = -(-m * pe.data_bits // 8)
    o_word = -(-pe.acc_bits // 8)
    return MappingProxyType(
        {
            "Rows": pe.rows,
            "Cols": pe.cols,
            "N": n,
            "M": m,
            "DataWidth": pe.data_bits,
            "AccWidth": pe.acc_bits,
            "Overlapped": int(pe.fold_timing is FoldTiming.OVERLAPPED),
            "Gating": int(pe.zero_gating),
            "WDepth": third // 2 // w_word,
            "ADepth": third // 2 // a_word,
            "ODepth": third // o_word,
        }
    )


def load_accel_arch(name: str) -> ArchSpec:
    """An arch of hw/arch/ by file stem (e.g. `accel-8x8-2of4`)."""
    return load_arch(ARCH_DIR / f"{name}.yaml")


__all__ = ["ARCH_DIR", "accel_parameters", "load_accel_arch"]
