"""What `sparsim run` tells the user: fallbacks (table line + JSON per layer),
energy saving, per-layer rows and CSV, --compare best, the progress bar,
"did you mean"."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from sparsim import api
from sparsim.cli import main
from sparsim.cli.common import ProgressBar, progress_enabled

DATA = Path(__file__).resolve().parent / "data" / "scalesim"


def run_json(capsys, *args: str) -> dict:
    assert main(["run", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("arch", "sparsity", "reason"),
    [
        ("tpu-v1", "nm:2:4", "no sparse mode"),
        ("edge", "magnitude:0.9", "unstructured sparsity (density 0.10) satisfies none"),
        (str(DATA / "sa128_ws.cfg"), "nm:2:4", "no sparse mode"),
        ("edge", "nm:3:4", "3:4 satisfies none of the array's patterns (2:4)"),
    ],
)
def test_a_layer_that_falls_back_says_so(arch, sparsity, reason, capsys):
    args = ["--arch", arch, "--workload", "gemm:64x128x128", "--sparsity", sparsity]
    doc = run_json(capsys, *args)
    fb = doc["layers"][0]["fallback"]
    assert fb["mode"] == "dense" == doc["layers"][0]["mode"] and reason in fb["reason"]
    assert main(["run", *args]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("fallback:")]
    assert len(lines) == 1 and "ran dense" in lines[0] and reason in lines[0]


def test_a_coarser_supported_pattern_is_a_fallback_too(capsys):
    doc = run_json(capsys, "--workload", "gemm:64x128x128", "--sparsity", "nm:1:8")
    assert doc["layers"][0]["fallback"]["mode"] == "2:4"
    assert "1:8 is not supported" in doc["layers"][0]["fallback"]["reason"]


def test_a_layer_run_at_its_own_pattern_has_no_fallback(capsys):
    doc = run_json(capsys, "--workload", "resnet50", "--sparsity", "nm:2:4")
    assert all(lr["fallback"] is None for lr in doc["layers"])
    assert main(["run", "--workload", "gemm:64x64x64"]) == 0  # dense: nothing to fall back from
    assert "fallback" not in capsys.readouterr().out


def test_table_lines_group_layers_and_report_energy_saving(capsys):
    assert main(["run", "--arch", "tpu-v1", "--workload", "resnet50", "--sparsity", "nm:2:4"]) == 0
    out = capsys.readouterr().out
    assert "fallback: 54 of 54 layers ran dense" in out
    assert "energy saving 1.000x" in out and "total speedup 1.000x" in out


def test_layers_and_csv(tmp_path, capsys):
    path = tmp_path / "layers.csv"
    args = ["run", "--workload", "resnet50", "--sparsity", "nm:2:4", "--layers", "--csv", str(path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "layer1.0.conv2" in out and "total cycles" in out
    rows = list(csv.DictReader(path.open()))
    doc = run_json(capsys, "--workload", "resnet50", "--sparsity", "nm:2:4")
    assert [r["layer"] for r in rows] == [lr["name"] for lr in doc["layers"]]
    first, layer = rows[0], doc["layers"][0]
    assert int(first["total_cycles"]) == layer["cycles"]["total"]
    assert float(first["speedup"]) == pytest.approx(
        int(first["dense_total_cycles"]) / layer["cycles"]["total"]
    )
    assert path.stat().st_mode & 0o777 in (0o644, 0o664, 0o666)


def test_compare_best_reports_both_figures(capsys):
    args = ["--workload", "gemm:64x256x256", "--sparsity", "nm:2:4", "--dataflow", "best"]
    same = run_json(capsys, *args)
    best = run_json(capsys, *args, "--compare", "best")
    assert best["compare"] == "best" and "compare" not in same
    # the same-mapping figures of --compare best are the default run's
    assert best["totals"]["same_mapping"]["speedup"] == pytest.approx(same["totals"]["speedup"])
    t, d = best["totals"], best["dense_totals"]
    assert t["speedup"] == d["cycles"]["total"] / t["cycles"]["total"]
    assert main(["run", *args, "--compare", "best"]) == 0
    out = capsys.readouterr().out
    assert "each at its own best mapping" in out and "on the sparse run's mappings" in out


def test_compare_best_within_a_fixed_dataflow_keeps_it():
    wl = api.load_workload("gemm:64x256x256", "nm:2:4")
    res = api.run(wl, "edge", "os", compare="best")
    assert {lr.dataflow for lr in (*res.sparse.layers, *res.dense.layers)} == {"os"}


def test_progress_bar_waits_and_stays_off_the_pipe():
    out = io.StringIO()
    bar = ProgressBar(out, enabled=True, width=4, delay_s=0.0)
    bar(1, 2)
    bar.close()
    assert "[##--] 1/2" in out.getvalue()
    late = io.StringIO()
    bar = ProgressBar(late, enabled=True, delay_s=3600)  # a short run: never drawn
    bar(1, 2)
    bar.close()
    assert late.getvalue() == ""
    assert not progress_enabled(False, io.StringIO())  # not a terminal
    seen = []
    api.run(
        api.load_workload("gemm:8x8x8", "nm:2:4"), "edge", progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(1, 2), (2, 2)]


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["rnu", "--workload", "gemm:8x8x8"], "did you mean 'run'?"),
        (["run", "--workload", "gemm:8x8x8", "--sparsty", "nm:2:4"], "did you mean '--sparsity'?"),
        (["run", "--workload", "gemm:8x8x8", "--arch", "tpu-v2"], "did you mean 'tpu-v1'?"),
        (["run", "--workload", "resnt50"], "did you mean 'resnet50'?"),
        (["run", "--workload", "gemm:8x8x8", "--dataflow", "wss"], "did you mean 'ws'?"),
        (["run", "--workload", "gemm:8x8x8", "--compare", "bset"], "did you mean 'best'?"),
        (["verify", "nm_pee"], "did you mean 'nm_pe'?"),
    ],
)
def test_did_you_mean(args, hint, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert hint in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--input-shape", "0x7"], "--input-shape"),
        (["--input-shape", "big"], "HxW"),
        (["--plot"], "with -o DIR"),
    ],
)
def test_bad_new_flags_exit_2(args, needle, capsys):
    assert main(["run", "--workload", "gemm:8x8x8", *args]) == 2
    assert needle in capsys.readouterr().err


def test_output_onto_a_file_exits_2(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert main(["run", "--workload", "gemm:8x8x8", "-o", str(tmp_path / "f")]) == 2
    assert "folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["f"]
