"""Every RTL file is clean under `verilator --lint-only -Wall` (waivers: hw/rtl/lint.vlt).

Each file is linted as the top with its default parameters (its submodules
resolve from hw/rtl/ with -y), then every configuration that gets verified
(hw.configs, slow ones included: lint is cheap) and a few corner parameter
sets that elaborate other generate branches (one row or column, N = M = 1,
a group size that is not a power of two, one-word banks).
"""

from __future__ import annotations

import pytest

from hw.configs import CONFIGS
from hw.sim import RTL_DIR, lint_rtl, rtl_files

SOURCES = rtl_files()

CORNERS: tuple[tuple[str, dict[str, int]], ...] = (
    ("nm_dot", {"N": 3, "M": 5}),
    ("nm_pe_os", {"N": 1, "M": 1}),
    ("nm_compressor", {"N": 1, "M": 1}),
    ("nm_compressor", {"N": 3, "M": 5}),
    ("delay_line", {"Depth": 0}),
    ("pingpong_buf", {"Width": 1, "Depth": 3}),
    ("ws_array", {"Rows": 1, "Cols": 1, "N": 1, "M": 1}),
    ("ws_array", {"Rows": 3, "Cols": 1, "N": 3, "M": 5, "Overlapped": 1}),
    ("nm_pe_is", {"N": 1, "M": 1}),
    ("is_array", {"Rows": 1, "Cols": 1, "N": 1, "M": 1}),
    ("is_array", {"Rows": 3, "Cols": 1, "N": 3, "M": 5, "Overlapped": 1}),
    ("os_array", {"Rows": 1, "Cols": 3, "N": 1, "M": 1}),
    ("os_array", {"Rows": 2, "Cols": 1, "N": 3, "M": 6, "AccWidth": 12}),
    ("nm_pe", {"N": 3, "M": 5, "Gating": 1}),
    ("ws_array", {"Rows": 2, "Cols": 3, "N": 1, "M": 2, "Gating": 1}),
    ("accel_top", {"Rows": 2, "Cols": 3, "N": 1, "M": 1, "Overlapped": 0, "Gating": 0}),
    ("accel_top", {"Rows": 3, "Cols": 1, "N": 2, "M": 8, "WDepth": 1, "ADepth": 2, "ODepth": 5}),
)
PARAMETER_SETS = [
    *((c.block, dict(c.params)) for c in CONFIGS),
    *CORNERS,
]


def test_rtl_folder_has_sources() -> None:
    assert SOURCES, f"no *.sv files in {RTL_DIR}"


def test_every_verified_block_has_a_source() -> None:
    names = {s.stem for s in SOURCES}
    missing = {block for block, _ in PARAMETER_SETS} - names
    assert not missing, f"configurations name blocks with no hw/rtl/<block>.sv: {missing}"


@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_lint_clean(source) -> None:
    diagnostics = lint_rtl(source)
    assert diagnostics == "", f"verilator --lint-only -Wall {source.name}:\n{diagnostics}"


@pytest.mark.parametrize(
    ("block", "params"),
    PARAMETER_SETS,
    ids=[f"{b}-" + "-".join(f"{k}{v}" for k, v in p.items()) for b, p in PARAMETER_SETS],
)
def test_lint_clean_with_parameters(block: str, params: dict[str, int]) -> None:
    diagnostics = lint_rtl(RTL_DIR / f"{block}.sv", params)
    assert diagnostics == "", f"verilator --lint-only -Wall {block} {params}:\n{diagnostics}"
