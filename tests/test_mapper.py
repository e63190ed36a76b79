"""The mapper: dataflow x tiling x loop order search, pruned by the bound."""

from __future__ import annotations

import pytest

from mappings.dataflow import Dataflow
from mappings.mapper import best_mapping, simulate_best
from mappings.mapping import Mapping
from simulator.load import load_arch
from simulator.roofline import roofline
from simulator.simulate import simulate_layer
from workloads.layers import Conv2d, Gemm
from workloads.resolve import load_workload
from workloads.sparsity_spec import parse_sparsity
from workloads.workload import LayerWorkload, Workload


@pytest.mark.parametrize(
    "layer",
    [
        Gemm("gemv", 1, 1024, 1024),
        Gemm("gemm", 512, 256, 384),
        Conv2d("conv", h=28, w=28, c=64, r=3, s=3, k=64, padding=1),
    ],
)
def test_best_mapping_beats_every_default(layer):
    arch = load_arch("edge")
    lw = LayerWorkload(layer)
    found = best_mapping(lw, arch, "cycles")
    assert found.evaluated <= 6 and found.candidates >= found.evaluated
    for df in Dataflow:
        assert found.result.cycles.total <= simulate_layer(lw, arch, Mapping(df)).cycles.total
    assert found.result.cycles.total >= roofline(lw, arch).cycles


def test_gemv_avoids_weight_stationary():
    """M = 1: WS streams one vector per fold (all preload, fill and drain)."""
    found = best_mapping(LayerWorkload(Gemm("gemv", 1, 2048, 2048)), load_arch("edge"))
    assert found.mapping.dataflow is not Dataflow.WS


@pytest.mark.parametrize("objective", ["energy", "edp"])
def test_other_objectives(objective):
    arch = load_arch("eyeriss")
    lw = LayerWorkload(Gemm("g", 196, 128, 576))
    found = best_mapping(lw, arch, objective)
    key = {"energy": lambda r: r.energy_pj["total"],
           "edp": lambda r: r.energy_pj["total"] * r.cycles.total}[objective]  # fmt: skip
    for df in Dataflow:
        assert key(found.result) <= key(simulate_layer(lw, arch, Mapping(df))) * (1 + 1e-9)


def test_simulate_best_on_a_scalesim_arch_keeps_scalesims_loop_nest(tmp_path):
    cfg = tmp_path / "a.cfg"
    data = __import__("pathlib").Path(__file__).resolve().parent / "data" / "scalesim"
    cfg.write_text((data / "sa128_ws.cfg").read_text())
    wl = load_workload(str(data / "resnet50_scalesim.csv"), parse_sparsity("dense"))
    wl = Workload("first", wl.layers[:3])
    res, chosen = simulate_best(wl, load_arch(cfg))
    for lr in res.layers:
        tile = lr.mapping["tiles"][0]
        assert (tile["m"], tile["n"], tile["k"]) == tuple(
            getattr(wl.layer(lr.name).gemm, d) for d in "mnk"
        )
    assert set(chosen) == {lw.name for lw in wl.layers}


def test_the_mapper_searches_under_the_network_schedule():
    """`--dataflow best` keeps activations on chip as `simulate` does: each layer
    is never worse than under the default mapping with the same residency."""
    from simulator.simulate import simulate

    tpu = load_arch("tpu-v1")
    wl = load_workload("resnet50", parse_sparsity("dense"))
    wl = Workload(
        wl.name, wl.layers[:12], graph=wl.graph.subgraph([lw.name for lw in wl.layers[:12]])
    )
    best, _ = simulate_best(wl, tpu)
    default = simulate(wl, tpu)
    for b, d in zip(best.layers, default.layers, strict=True):
        assert b.operands == d.operands
        assert b.cycles.total <= d.cycles.total
    assert best.layers[1].operands["inputs"]["from"] == "glb"
