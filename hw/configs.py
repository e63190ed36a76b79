"""The RTL configurations that get verified: one list for pytest and `sparsim verify`.

Every block (a top in hw/rtl/) has a cocotb bench (hw/tb/tb_<block>.py) and
a list of parameter sets. The CI matrix (`slow=False`) covers every array
size (2x2, 4x4, 8x8) and every N:M (1:4, 2:4, 2:8, 4:8) at least once per
array type, both fold timings and both accumulator widths (16 bits makes the
sums wrap); dense mode runs in every array and PE configuration (about a
third of the GEMMs). The full cross product, with dense hardware (N = M)
added, is `slow=True`: `pytest --slow` or `-m slow` runs it. Parameters not
named take the RTL's defaults (DataWidth 8, AccWidth 32); the benches read
every parameter back from the DUT.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from hw.accel_config import ARCH_DIR, accel_parameters, load_accel_arch


@dataclass(frozen=True, slots=True)
class RtlConfig:
    """One build of one block: a top, its parameters, and whether CI runs it."""

    block: str
    params: Mapping[str, int] = field(default_factory=dict)
    slow: bool = False
    arch: str = ""  # accel_top: the arch YAML (hw/arch/<arch>.yaml) the params come from
    # Only the top's ports and the parameters visible through VPI (not every
    # signal: cocotb's default --public-flat-rw halves the model's speed), for
    # benches that read nothing inside the DUT.
    top_only: bool = False

    def build_options(self, *, optimize: bool = False) -> dict:
        """Keyword arguments of hw.sim.build_rtl for this configuration.

        `optimize`: compile the model's C++ with the optimizer, a build several
        times longer for a simulation about twice as fast (long runs and
        bench/rtl_speed.py; CI runs are too short to gain from it).
        """
        args = ("--no-public-flat-rw", "--public-params", "--public-depth", "1")
        return {
            "parameters": self.params,
            "fast_build": not optimize,
            "build_args": args if self.top_only else (),
        }

    @property
    def env(self) -> dict[str, str]:
        """Extra environment for the bench (accel_top: $SPARSIM_ARCH)."""
        return {"SPARSIM_ARCH": str(ARCH_DIR / f"{self.arch}.yaml")} if self.arch else {}

    @property
    def bench(self) -> str:
        """The cocotb test module."""
        return f"hw.tb.tb_{self.block}"

    @property
    def id(self) -> str:
        """A short name for test ids and tables, e.g. `4x4-2of4-ov-acc16`."""
        if self.arch:
            return self.arch
        p = self.params
        parts = []
        if "Rows" in p:
            parts.append(f"{p['Rows']}x{p['Cols']}")
        if "N" in p:
            parts.append(f"{p['N']}of{p['M']}")
        if p.get("Overlapped"):
            parts.append("ov")
        if "AccWidth" in p:
            parts.append(f"acc{p['AccWidth']}")
        if "Depth" in p:
            parts.append(f"w{p['Width']}d{p['Depth']}")
        return "-".join(parts) or "default"


def _frozen(params: dict[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(params))


NM_PATTERNS = ((1, 4), (2, 4), (2, 8), (4, 8))
SIZES = (2, 4, 8)
# Dense hardware in the slow cross product: every weight kept, N multipliers.
DENSE_NM = (4, 4)

# WS: (size, (N, M), Overlapped, AccWidth); OS: (size, (N, M), AccWidth).
WS_CI = (
    (2, (1, 4), 1, 32),
    (4, (2, 4), 0, 16),
    (8, (2, 8), 1, 32),
    (2, (4, 8), 0, 16),
)
# IS: (size, (N, M), Overlapped, AccWidth), like WS.
IS_CI = (
    (2, (2, 4), 1, 16),
    (4, (1, 4), 0, 32),
    (8, (4, 8), 1, 32),
    (2, (2, 8), 0, 16),
)
OS_CI = (
    (2, (2, 8), 16),
    (4, (1, 4), 32),
    (8, (4, 8), 16),
    (2, (2, 4), 32),
)


def _array_params(size: int, nm: tuple[int, int], acc: int) -> dict[str, int]:
    return {"Rows": size, "Cols": size, "N": nm[0], "M": nm[1], "AccWidth": acc}


def _stationary_configs(block: str, ci_table) -> list[RtlConfig]:
    """WS / IS arrays: the CI rows, then the rest of the cross product as slow."""
    ci = {(s, nm, ov): acc for s, nm, ov, acc in ci_table}
    out = [
        RtlConfig(block, _frozen({**_array_params(s, nm, acc), "Overlapped": ov}))
        for (s, nm, ov), acc in ci.items()
    ]
    for i, (s, nm, ov) in enumerate(itertools.product(SIZES, (*NM_PATTERNS, DENSE_NM), (0, 1))):
        if (s, nm, ov) not in ci:
            params = {**_array_params(s, nm, 16 if i % 2 else 32), "Overlapped": ov}
            out.append(RtlConfig(block, _frozen(params), slow=True))
    return out


def _os_configs() -> list[RtlConfig]:
    ci = {(s, nm): acc for s, nm, acc in OS_CI}
    out = [RtlConfig("os_array", _frozen(_array_params(s, nm, acc))) for (s, nm), acc in ci.items()]
    for i, (s, nm) in enumerate(itertools.product(SIZES, (*NM_PATTERNS, DENSE_NM))):
        if (s, nm) not in ci:
            params = _array_params(s, nm, 16 if i % 2 else 32)
            out.append(RtlConfig("os_array", _frozen(params), slow=True))
    return out


def _accel_config(arch: str, slow: bool = False) -> RtlConfig:
    """The top built from hw/arch/<arch>.yaml (the tile model reads the same file)."""
    params = accel_parameters(load_accel_arch(arch))
    return RtlConfig("accel_top", params, slow, arch, top_only=True)


# The accelerator top: one arch per fold timing and array size.
ACCEL_ARCHS = ("accel-8x8-2of4", "accel-4x4-1of4", "accel-2x2-4of8")
ACCEL_SLOW_ARCHS = ("accel-4x4-2of4", "accel-2x2-dense")

CONFIGS: tuple[RtlConfig, ...] = (
    # The PE: M must be a power of two (or 1) for sparse mode (see nm_pe.sv).
    *(RtlConfig("nm_pe", _frozen({"N": n, "M": m})) for n, m in ((1, 1), *NM_PATTERNS)),
    *(RtlConfig("nm_compressor", _frozen({"N": n, "M": m})) for n, m in (*NM_PATTERNS, (4, 4))),
    RtlConfig("nm_compressor", _frozen({"N": 3, "M": 16}), slow=True),
    RtlConfig("nm_compressor", _frozen({"N": 2, "M": 6}), slow=True),
    # A one-word bank (every word closes a tile) and an odd depth.
    RtlConfig("pingpong_buf", _frozen({"Width": 16, "Depth": 1})),
    RtlConfig("pingpong_buf", _frozen({"Width": 24, "Depth": 6})),
    RtlConfig("pingpong_buf", _frozen({"Width": 128, "Depth": 16}), slow=True),
    *_stationary_configs("ws_array", WS_CI),
    *_stationary_configs("is_array", IS_CI),
    *_os_configs(),
    *(_accel_config(a) for a in ACCEL_ARCHS),
    *(_accel_config(a, slow=True) for a in ACCEL_SLOW_ARCHS),
)

BLOCKS: tuple[str, ...] = tuple(dict.fromkeys(c.block for c in CONFIGS))


def configs(block: str | None = None, *, slow: bool = False) -> list[RtlConfig]:
    """The configurations of `block` (all blocks if None); the slow ones only if `slow`."""
    if block is not None and block not in BLOCKS:
        raise ValueError(f"unknown RTL block {block!r}; blocks: {', '.join(BLOCKS)}")
    return [c for c in CONFIGS if (block is None or c.block == block) and (slow or not c.slow)]


def pytest_params(block: str) -> list:
    """`pytest.param`s for every configuration of `block`, slow ones marked."""
    import pytest

    return [
        pytest.param(c, id=c.id, marks=(pytest.mark.slow,) if c.slow else ())
        for c in CONFIGS
        if c.block == block
    ]


__all__ = ["BLOCKS", "CONFIGS", "RtlConfig", "configs", "pytest_params"]
