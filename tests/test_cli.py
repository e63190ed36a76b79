"""The `sparsim` CLI contract (DESIGN.md): JSON fields, exit codes, messages."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sparsim.cli import main

LAYER_FIELDS = {
    "name",
    "macs",
    "effective_macs",
    "cycles",
    "utilization",
    "energy_pj",
    "dram_bytes",
}
CYCLE_FIELDS = {"total", "compute", "memory_stall", "fill_drain"}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sparsim", *args], capture_output=True, text=True, timeout=300
    )


def test_json_contract_and_2_4_compute_speedup():
    """Acceptance: 1024-cube GEMM, 2:4 on edge, compute_speedup in [1.9, 2.0]."""
    proc = run_cli(
        "run",
        "--arch",
        "edge",
        "--workload",
        "gemm:1024x1024x1024",
        "--sparsity",
        "nm:2:4",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert {"arch", "workload", "layers", "totals", "dense_totals"} <= set(doc)
    for record in [*doc["layers"], doc["totals"], doc["dense_totals"]]:
        assert LAYER_FIELDS - {"name"} <= set(record)
        assert set(record["cycles"]) >= CYCLE_FIELDS
        c = record["cycles"]
        assert c["total"] == c["compute"] + c["memory_stall"]
        assert "total" in record["energy_pj"] and len(record["energy_pj"]) > 1
    totals, dense = doc["totals"], doc["dense_totals"]
    assert 1.9 <= totals["compute_speedup"] <= 2.0
    assert totals["compute_speedup"] == dense["cycles"]["compute"] / totals["cycles"]["compute"]
    assert totals["speedup"] == dense["cycles"]["total"] / totals["cycles"]["total"]
    assert totals["effective_macs"] == totals["macs"] // 2
    assert doc["layers"][0]["mode"] == "2:4"


def test_blockdiag_runs_as_a_grouped_gemm_against_the_original_layer(capsys):
    """blockdiag:4 is 4 GEMMs of 256x128x128: a quarter of the MACs, faster on a dense array;
    the baseline is the unpruned 256x512x512 layer on the same hardware."""
    args = ("--arch", "edge", "--workload", "gemm:256x512x512", "--sparsity", "blockdiag:4")
    proc = run_cli("run", *args, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    totals, dense = doc["totals"], doc["dense_totals"]
    assert dense["macs"] == 256 * 512 * 512 and totals["macs"] == dense["macs"] // 4
    assert totals["effective_macs"] == totals["macs"]
    assert totals["speedup"] > 1.5
    assert totals["speedup"] == dense["cycles"]["total"] / totals["cycles"]["total"]
    assert doc["layers"][0]["mode"] == "dense"
    # not an artefact of running the dense layer on the grouped layer's mapping
    assert main(["run", *args, "--compare", "best", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["speedup"] > 1.5


def test_dense_run_has_no_baseline(capsys):
    assert main(["run", "--workload", "gemm:64x64x64", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "dense_totals" not in doc and "speedup" not in doc["totals"]


def test_unsupported_pattern_runs_at_best_supported_speed(capsys):
    """1:8 weights on a 2:4-only array run as 2:4 (2x, not 8x)."""
    assert main(["run", "--workload", "gemm:256x256x512", "--sparsity", "nm:1:8", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["layers"][0]["mode"] == "2:4"
    assert doc["totals"]["compute_speedup"] == pytest.approx(2.0, rel=0.01)


def test_pattern_no_supported_mode_satisfies_runs_dense(capsys):
    """3:4 weights do not satisfy 2:4: dense mode, compute speedup 1."""
    assert main(["run", "--workload", "gemm:64x64x64", "--sparsity", "nm:3:4", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["layers"][0]["mode"] == "dense"
    assert doc["totals"]["compute_speedup"] == 1.0
    assert doc["totals"]["effective_macs"] < doc["totals"]["macs"]


def test_output_dir_and_table(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(["run", "--workload", "conv:14x14x32:3x3x32", "--sparsity", "nm:2:4", "-o", str(out)])
        == 0
    )
    text = capsys.readouterr().out
    assert "compute speedup" in text and "fill/drain" in text
    doc = json.loads((out / "result.json").read_text())
    assert doc["dense_totals"]["macs"] == 12 * 12 * 32 * 9 * 32
    assert json.loads((out / "arch.resolved.json").read_text())["name"] == "edge"


def test_presets_lists_edge(capsys):
    assert main(["presets"]) == 0
    assert "edge" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "--workload", "gemm:10x10"], "gemm:MxNxK"),
        (["run", "--workload", "gemm:0x10x10"], "positive"),
        (["run", "--workload", "gemm:8x8x8", "--sparsity", "nm:5:4"], "1 <= N <= M"),
        (["run", "--workload", "gemm:8x8x8", "--sparsity", "sparse"], "nm:N:M"),
        (["run", "--workload", "gemm:8x8x8", "--arch", "nope"], "a preset"),
        (["run", "--workload", "gemm:8x8x8", "--arch", "missing.yaml"], "existing"),
        (["run", "--workload", "gemm:8x8x8", "--batch", "0"], "--batch"),
        (["run", "--workload", "gemm:8x8x8", "--dataflow", "xs"], "invalid choice"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_a_message(args, needle, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_bad_input_in_a_subprocess_has_no_traceback(tmp_path):
    bad = tmp_path / "arch.yaml"
    bad.write_text("name: x\npe_array: {rows: 4, cols: 4, dataflow: diagonal}\nmemory: {}\n")
    proc = run_cli("run", "--arch", str(bad), "--workload", "gemm:8x8x8")
    assert proc.returncode == 2
    assert str(bad) in proc.stderr and "pe_array.dataflow" in proc.stderr
    assert "ws, os, is" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_input_does_not_touch_existing_results(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--workload", "gemm:16x16x16", "-o", str(out)]) == 0
    before = (out / "result.json").read_text()
    assert main(["run", "--workload", "gemm:16x16x16", "--sparsity", "nm:9:4", "-o", str(out)]) == 2
    assert (out / "result.json").read_text() == before


def test_help_shows_examples():
    proc = run_cli("run", "--help")
    assert proc.returncode == 0 and "examples:" in proc.stdout


def test_demo_writes_json_and_png(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "speedup" in text
    doc = json.loads((tmp_path / "demo.json").read_text())
    assert len(doc["runs"]) == 2
    assert (tmp_path / "demo.png").read_bytes()[:4] == b"\x89PNG"


def test_scalesim_files_read_as_they_are(capsys):
    """`--arch FILE.cfg --workload FILE.csv`: SCALE-Sim's Total Cycles, exactly."""
    from pathlib import Path

    data = Path(__file__).resolve().parent / "data" / "scalesim"
    args = ["run", "--arch", str(data / "sa128_ws.cfg"), "--workload"]
    assert main([*args, str(data / "resnet50_scalesim.csv"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"]["cycles"]["compute"] == 916_490  # SCALE-Sim 3.0.0, peers README
    assert len(doc["layers"]) == 54


def test_dataflow_best_uses_the_mapper(capsys):
    assert main(["run", "--workload", "gemm:1x512x512", "--dataflow", "best", "--json"]) == 0
    best = json.loads(capsys.readouterr().out)
    for df in ("ws", "os", "is"):
        assert main(["run", "--workload", "gemm:1x512x512", "--dataflow", df, "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert best["totals"]["cycles"]["total"] <= doc["totals"]["cycles"]["total"]
    assert best["layers"][0]["mapping"]["tiles"]
    args = ["run", "--workload", "gemm:64x64x64", "--sparsity", "nm:2:4", "--dataflow", "best"]
    assert main([*args, "--objective", "energy", "--json"]) == 0
    assert "dense_totals" in json.loads(capsys.readouterr().out)


def test_presets_lists_every_preset(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for name in ("edge", "tpu-v1", "a100-sparse", "sat", "vegeta", "eyeriss"):
        assert name in out


def test_io_on_chip_keeps_the_workloads_activations_on_chip(capsys):
    args = ["run", "--arch", "tpu-v1", "--workload", "gemm:2048x2048x2048", "--json"]
    assert main([*args, "--io-on-chip"]) == 0
    layer = json.loads(capsys.readouterr().out)["layers"][0]
    assert layer["operands"]["inputs"]["from"] == "glb"
    assert layer["operands"]["outputs"]["to"] == "glb"
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["layers"][0]["operands"]["inputs"]["from"] == "host"
    # the mapper searches under the same network schedule
    assert main([*args, "--io-on-chip", "--dataflow", "best"]) == 0
    best = json.loads(capsys.readouterr().out)["layers"][0]
    assert best["operands"]["inputs"]["from"] == "glb"
    assert best["cycles"]["total"] <= layer["cycles"]["total"]
