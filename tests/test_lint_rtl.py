"""Every RTL file is clean under `verilator --lint-only -Wall` (waivers: hw/rtl/lint.vlt)."""

from __future__ import annotations

import pytest

from hw.sim import RTL_DIR, lint_rtl, rtl_files

SOURCES = rtl_files()


def test_rtl_folder_has_sources() -> None:
    assert SOURCES, f"no *.sv files in {RTL_DIR}"


@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_lint_clean(source) -> None:
    diagnostics = lint_rtl(source)
    assert diagnostics == "", f"verilator --lint-only -Wall {source.name}:\n{diagnostics}"
