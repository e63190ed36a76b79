"""Invariants of the running path (simulate / compare_to_dense), as properties over
presets, shapes, sparsity patterns, batch sizes and dataflows."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mappings.dataflow import Dataflow, FoldTiming
from mappings.mapping import LOOP_ORDERS, Mapping
from simulator.arch import load_arch
from simulator.reference import SystolicArrayRef, wrap
from simulator.simulate import compare_to_dense, simulate, simulate_layer
from simulator.tiling import glb_mapping
from workloads.layers import Gemm
from workloads.pruning import prune_nm
from workloads.resolve import load_workload
from workloads.sparsity import NM
from workloads.sparsity_spec import parse_sparsity
from workloads.workload import LayerWorkload, Workload

PRESETS = ["edge", "vegeta", "sat", "eyeriss", "tpu-v1", "a100-sparse", "tpu-v1-2of4"]
SPARSITY = ["nm:2:4", "nm:1:4", "nm:2:8", "magnitude:0.5", "random:0.75", "block:4:0.5"]


def shapes():
    return st.sampled_from(
        ["gemm:64x96x128", "gemm:1x512x300", "gemm:200x64x72", "conv:14x14x32:3x3x48",
         "conv:28x28x16:1x1x40", "gemm:33x17x129"]
    )  # fmt: skip


def _arch(name: str, dataflow: Dataflow):
    arch = load_arch(name)
    return dataclasses.replace(arch, pe_array=dataclasses.replace(arch.pe_array, dataflow=dataflow))


@settings(deadline=None)
@given(
    st.sampled_from(PRESETS), shapes(), st.sampled_from(SPARSITY), st.sampled_from(list(Dataflow))
)
def test_sparse_never_slower_than_dense_on_the_same_mapping(preset, shape, sparsity, dataflow):
    arch = _arch(preset, dataflow)
    wl = load_workload(shape, parse_sparsity(sparsity), seed=1)
    comp = compare_to_dense(wl, arch)
    assert comp.sparse.totals.cycles.compute <= comp.dense.totals.cycles.compute
    assert comp.sparse.totals.cycles.total <= comp.dense.totals.cycles.total
    for res in (comp.sparse, comp.dense):
        assert 0.0 <= res.totals.utilization <= 1.0 + 1e-12
        for lr in res.layers:
            assert lr.dram_bytes >= lr.compulsory_dram_bytes * (1 - 1e-9)
            assert lr.utilization <= 1.0 + 1e-12


@settings(deadline=None)
@given(
    st.sampled_from(["edge", "vegeta", "tpu-v1", "sat"]),
    st.sampled_from(["gemm:8x256x512", "conv:14x14x64:3x3x64", "gemm:16x768x768"]),
    st.sampled_from([1, 2, 4, 8]),
)
def test_per_sample_cycles_do_not_grow_with_the_batch(preset, shape, batch):
    arch = load_arch(preset)
    one = simulate(load_workload(shape, parse_sparsity("dense"), batch=batch), arch)
    two = simulate(load_workload(shape, parse_sparsity("dense"), batch=2 * batch), arch)
    assert two.totals.cycles.total / (2 * batch) <= one.totals.cycles.total / batch * 1.0001


@settings(deadline=None)
@given(
    st.sampled_from(["edge", "vegeta", "eyeriss", "sat"]),
    st.sampled_from(list(Dataflow)),
    st.booleans(),
    st.lists(st.floats(0.05, 1.0), min_size=2, max_size=2),
)
def test_energy_does_not_grow_as_activations_get_sparser(preset, dataflow, skip, densities):
    """Gating saves the MAC and the reads only the zero operand needed; skipping
    also the cycles: either way, fewer nonzero activations never cost more."""
    arch = _arch(preset, dataflow)
    pe = dataclasses.replace(arch.pe_array, zero_gating=True, activation_skipping=skip)
    arch = dataclasses.replace(arch, pe_array=pe)
    lo, hi = sorted(densities)
    assume(hi - lo > 0.01)
    layer = Gemm("g", 96, 64, 256)
    mapping = glb_mapping(dataflow, (96, 64, 256), "nmk")
    sparse = simulate_layer(LayerWorkload(layer, activation_density=lo), arch, mapping)
    dense = simulate_layer(LayerWorkload(layer, activation_density=hi), arch, mapping)
    assert sparse.energy_pj["total"] <= dense.energy_pj["total"] * (1 + 1e-9)
    assert sparse.energy_pj["mac"] <= dense.energy_pj["mac"]
    assert sparse.utilization <= 1.0 + 1e-12 and dense.utilization <= 1.0 + 1e-12


def test_skipped_all_zero_tiles_move_no_bytes():
    arch = load_arch("edge")
    pe = dataclasses.replace(arch.pe_array, tile_skipping=True)
    arch = dataclasses.replace(arch, pe_array=pe)
    layer = Gemm("g", 64, 64, 256)
    rng = np.random.default_rng(0)
    w = rng.integers(-128, 128, size=(256, 64))
    w[:, 32:] = 0  # half the N columns: whole weight tiles of zeros
    lw = LayerWorkload.from_weights(layer, w)
    mapping = glb_mapping(Dataflow.WS, (64, 32, 256), "nmk")
    half = simulate_layer(lw, arch, mapping)
    full = simulate_layer(LayerWorkload.from_weights(layer, rng.integers(1, 128, size=(256, 64))),
                          arch, mapping)  # fmt: skip
    assert half.skipped_folds > 0
    hw = half.levels["dram"]["accesses"]["weights"]["reads_bytes"]
    fw = full.levels["dram"]["accesses"]["weights"]["reads_bytes"]
    assert hw <= fw / 2 + 64


@st.composite
def tiled_cases(draw):
    n, m = draw(st.sampled_from([(1, 1), (2, 2), (1, 2), (2, 4), (1, 4)]))
    dense = n == m or draw(st.booleans())
    g = tuple(draw(st.integers(1, 10)) for _ in range(3))
    tile = tuple(draw(st.integers(1, d)) for d in g)
    return {
        "rows": draw(st.integers(1, 3)),
        "cols": draw(st.integers(1, 3)),
        "n": n, "m": m, "dense": dense, "gemm": g, "tile": tile,
        "order": draw(st.sampled_from(LOOP_ORDERS)),
        "dataflow": draw(st.sampled_from(list(Dataflow))),
        "timing": draw(st.sampled_from(list(FoldTiming))),
        "seed": draw(st.integers(0, 2**16)),
    }  # fmt: skip


@settings(deadline=None)
@given(tiled_cases())
def test_tiled_compute_cycles_equal_the_reference_stepping_the_tile_sequence(case):
    """simulate_layer's compute cycles for a layer cut into GLB tiles equal
    simulator.reference stepping those tiles' folds in the loop nest's order."""
    mm, nn, kk = case["gemm"]
    tm, tn, tk = case["tile"]
    n, m = case["n"], case["m"]
    rng = np.random.default_rng(case["seed"])
    a = rng.integers(-128, 128, size=(mm, kk))
    w = rng.integers(-128, 128, size=(kk, nn))
    if not case["dense"]:
        w, _ = prune_nm(w, NM(n, m), axis=0)
    base = load_arch("edge")
    pe = dataclasses.replace(
        base.pe_array, rows=case["rows"], cols=case["cols"], multipliers=n,
        nm_patterns=() if n == m else (NM(n, m),), dataflow=case["dataflow"],
        fold_timing=case["timing"], tile_skipping=False, activation_skipping=False,
    )  # fmt: skip
    arch = dataclasses.replace(base, pe_array=pe)
    layer = Gemm("g", mm, nn, kk)
    lw = (
        LayerWorkload(layer)
        if case["dense"]
        else LayerWorkload(layer, mask=w != 0, density=float(np.mean(w != 0)), pattern=NM(n, m))
    )
    assume(case["dense"] or simulate_layer(lw, arch).mode != "dense")
    # a K tile cuts no N:M group (the mapper's tiles are multiples of the window)
    assume(case["dense"] or tk % m == 0 or tk == kk)
    order = case["order"]
    res = simulate_layer(lw, arch, glb_mapping(case["dataflow"], case["tile"], order))
    # the tile sequence of the loop nest: loops outer to inner in `order`
    ranges = {
        "m": [(i, min(i + tm, mm)) for i in range(0, mm, tm)],
        "n": [(i, min(i + tn, nn)) for i in range(0, nn, tn)],
        "k": [(i, min(i + tk, kk)) for i in range(0, kk, tk)],
    }
    tiles = []
    for combo in itertools.product(*(ranges[d] for d in order)):
        r = dict(zip(order, combo, strict=True))
        tiles.append((*r["m"], *r["n"], *r["k"]))
    ref = SystolicArrayRef(case["rows"], case["cols"], n, m, case["dataflow"], case["timing"])
    run = ref.run_tiles(a, w, tiles, dense=case["dense"])
    assert res.cycles.compute == run.cycles
    np.testing.assert_array_equal(run.output, np.vectorize(lambda v: wrap(int(v), 32))(a @ w))


def test_the_dense_baseline_runs_the_sparse_runs_mappings():
    wl = load_workload("resnet50", parse_sparsity("nm:2:4"))
    wl = Workload(wl.name, wl.layers[:6], wl.sparsity)
    comp = compare_to_dense(wl, load_arch("vegeta"))
    for s, d in zip(comp.sparse.layers, comp.dense.layers, strict=True):
        assert s.mapping == d.mapping
        assert s.cycles.total <= d.cycles.total
    best = compare_to_dense(wl, load_arch("vegeta"), compare="best")
    assert best.to_dict()["totals"]["compare"] == "best"
    assert Mapping.from_dict(comp.sparse.layers[0].mapping).dataflow is Dataflow.WS
