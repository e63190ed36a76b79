"""Saved workloads (JSON + .npz) round-trip, and `sparsim prune` writes what `run` reads."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sparsim.api import save_workload
from sparsim.cli import main
from workloads.apply import apply_sparsity
from workloads.errors import WorkloadError
from workloads.saved import read_workload, workload_from_doc, workload_to_doc
from workloads.sparsity_spec import parse_sparsity
from workloads.specs import build_workload, parse_shape
from workloads.training import training_workload
from workloads.zoo import zoo_workload


def _same(a, b):
    assert a.name == b.name and a.sparsity == b.sparsity
    assert [lw.layer for lw in a.layers] == [lw.layer for lw in b.layers]
    for x, y in zip(a.layers, b.layers, strict=True):
        assert (x.density, x.pattern, x.activation_density, x.bidirectional, x.unpruned) == (
            y.density,
            y.pattern,
            y.activation_density,
            y.bidirectional,
            y.unpruned,
        )
        for arr_x, arr_y in ((x.weights, y.weights), (x.mask, y.mask)):
            assert (arr_x is None) == (arr_y is None)
            if arr_x is not None:
                np.testing.assert_array_equal(arr_x, arr_y)
                assert arr_x.dtype == arr_y.dtype
    assert (a.graph is None) == (b.graph is None)
    if a.graph is not None:
        assert set(a.graph.edges) == set(b.graph.edges)


@pytest.mark.parametrize(
    "make",
    [
        lambda: build_workload([parse_shape("conv:10x10x8:3x3x16")], parse_sparsity("bdwp:2:4")),
        lambda: apply_sparsity(zoo_workload("resnet50"), parse_sparsity("channel:0.5+act:0.3")),
        lambda: training_workload(
            apply_sparsity(zoo_workload("bert-base"), parse_sparsity("nm:1:4"))
        ),
        lambda: build_workload(  # lowered to grouped layers, the originals kept for the baseline
            [parse_shape("gemm:8x64x32"), parse_shape("conv:10x10x8:3x3x16")],
            parse_sparsity("blockdiag:4"),
        ),
        lambda: apply_sparsity(zoo_workload("bert-base"), parse_sparsity("blockdiag:2")),
    ],
)
def test_round_trip(make, tmp_path):
    wl = make()
    if "blockdiag" in wl.sparsity:
        assert any(lw.unpruned is not None and lw.layer.groups > 1 for lw in wl.layers)
    written = save_workload(wl, tmp_path / "wl.json")
    assert written[0] == tmp_path / "wl.json"
    assert (tmp_path / "wl.npz").exists() == any(lw.mask is not None for lw in wl.layers)
    _same(wl, read_workload(tmp_path / "wl.json"))
    assert not list(tmp_path.glob(".*"))  # temp files and the journal renamed away


def _doc():
    wl = build_workload([parse_shape("gemm:8x8x8")], parse_sparsity("nm:2:4"))
    return workload_to_doc(wl, "x.npz")


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d.update(format_version=99), "format_version"),
        (lambda d: d.pop("format_version"), "format_version"),
        (lambda d: d.update(colour="red"), "colour"),
        (lambda d: d["layers"][0].update(type="lstm"), "layers[0].type"),
        (lambda d: d["layers"][0]["params"].update(m=-1), "layers[0].params"),
        (lambda d: d["layers"][0]["params"].update(m="8"), "layers[0].params.m"),
        (lambda d: d["layers"][0]["params"].update(q=1), "layers[0].params.q"),
        (lambda d: d["layers"][0].update(density=2), "layers[0].density"),
        (lambda d: d["layers"][0].update(pattern="5:4"), "layers[0].pattern"),
        (lambda d: d.update(edges=[["a", "b"]]), "edges"),
    ],
)
def test_bad_documents_name_the_field(edit, field):
    doc, arrays = _doc()
    edit(doc)
    with pytest.raises(WorkloadError) as err:
        workload_from_doc(doc, arrays, "x.json")
    assert err.value.field == field and err.value.source == "x.json"


def test_arrays_of_the_wrong_shape_are_rejected():
    doc, arrays = _doc()
    arrays["layer0.mask"] = np.ones((4, 4), bool)
    with pytest.raises(WorkloadError, match="GEMM view"):
        workload_from_doc(doc, arrays, "x.json")


def test_prune_then_run(tmp_path, capsys):
    out = tmp_path / "p.json"
    assert main(["prune", "gemm:256x256x512", "--method", "nm:1:8", "-o", str(out)]) == 0
    assert "1:8" in capsys.readouterr().out
    assert main(["run", "--workload", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["sparsity"] == "nm:1:8" and doc["layers"][0]["mode"] == "2:4"
    assert doc["totals"]["effective_macs"] == doc["totals"]["macs"] // 8


def test_prune_global_with_floor_and_json_summary(capsys):
    args = ["prune", "conv:16x16x32:3x3x64", "--method", "global:0.95", "--min-density", "0.2"]
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["layers"][0]["weight_density"] == pytest.approx(0.2, abs=0.01)


def test_prune_help_has_examples(capsys):
    assert main(["prune", "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "sparsim prune model.onnx --method nm:2:4" in out
