"""`sparsim verify` end to end, its exit codes and progress bar; the RTL config matrix."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest

import hw.verify
from hw.configs import BLOCKS, CONFIGS, DENSE_NM, NM_PATTERNS, SIZES, RtlConfig, configs
from sparsim.cli import main
from sparsim.cli.verify import ProgressBar


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sparsim", *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.rtl
def test_verify_one_block_end_to_end() -> None:
    proc = run_cli("verify", "nm_compressor", "--cases", "20", "--seed", "5")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "seed 5 (replay: sparsim verify nm_compressor --seed 5 --cases 20)" in out
    row = re.search(r"^nm_compressor\s+(\d+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s.*pass$", out, re.M)
    assert row is not None, out
    n_configs, cases, cycles, per_second = (int(g.replace(",", "")) for g in row.groups())
    assert n_configs == len(configs("nm_compressor"))
    # 4 random tests x 20 groups + 4 directed groups, per configuration
    assert cases == n_configs * (4 * 20 + 4)
    assert cycles >= cases and per_second > 0
    assert proc.stderr == "", "no progress bar when stderr is not a terminal"


def test_verify_exits_1_on_a_mismatch(monkeypatch, capsys) -> None:
    def mismatching(build, bench, **kwargs):
        raise AssertionError("cycle 3: w_o = [1, 2], expected [2, 1]")

    monkeypatch.setenv("SPARSIM_SEED", "0")  # --seed sets it; restored after the test
    monkeypatch.setattr(hw.verify, "build_rtl", lambda block, **options: None)
    monkeypatch.setattr(hw.verify, "run_cocotb", mismatching)
    assert main(["verify", "pingpong_buf", "--seed", "1", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^pingpong_buf .* FAIL \(2 of 2\)$", out, re.M), out
    assert "cycle 3: w_o = [1, 2], expected [2, 1]" in out


def test_verify_bad_block_is_bad_input(capsys) -> None:
    assert main(["verify", "no_such_block"]) == 2
    err = capsys.readouterr().err
    assert "no_such_block" in err and "nm_compressor" in err


def test_verify_help_has_examples(capsys) -> None:
    assert main(["verify", "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "sparsim verify nm_compressor --seed 7" in out


def test_progress_bar_draws_only_when_enabled() -> None:
    config = RtlConfig("nm_pe", {"N": 2, "M": 4})
    shown, hidden = io.StringIO(), io.StringIO()
    for out, on in ((shown, True), (hidden, False)):
        bar = ProgressBar(out, enabled=on, width=10)
        bar(1, 4, config, "run")
        bar.close()
    assert "[##--------] 1/4 nm_pe 2of4: running" in shown.getvalue()
    assert hidden.getvalue() == ""


@pytest.mark.parametrize("block", ["ws_array", "is_array", "os_array"])
def test_ci_matrix_covers_every_size_and_pattern(block: str) -> None:
    """Every size and every N:M at least once per array type in the default run."""
    ci = [c for c in CONFIGS if c.block == block and not c.slow]
    assert {c.params["Rows"] for c in ci} == set(SIZES)
    assert {(c.params["N"], c.params["M"]) for c in ci} >= set(NM_PATTERNS)
    if block != "os_array":
        assert {c.params["Overlapped"] for c in ci} == {0, 1}
    assert {c.params["AccWidth"] for c in ci} == {16, 32}


def test_slow_matrix_is_the_full_cross_product() -> None:
    for block in ("ws_array", "is_array", "os_array"):
        every = configs(block, slow=True)
        keys = {
            (c.params["Rows"], c.params["N"], c.params["M"], c.params.get("Overlapped"))
            for c in every
        }
        timings = (0, 1) if block != "os_array" else (None,)
        want = {(s, n, m, t) for s in SIZES for n, m in (*NM_PATTERNS, DENSE_NM) for t in timings}
        assert keys == want
        assert len(every) == len(want), "one build per parameter set"
    assert set(BLOCKS) == {
        "nm_pe",
        "nm_compressor",
        "pingpong_buf",
        "ws_array",
        "is_array",
        "os_array",
        "accel_top",
    }
