"""Dataflows on real layers: tile skipping from the mask (against a brute-force
fold enumeration), grouped / depthwise convs, conv via im2col on the reference
array, gating vs skipping, and the properties the issue asks for: cycles >=
roofline, sparse <= dense when skipping, effective MACs conserved."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mappings.dataflow import Dataflow, FoldTiming
from simulator.arch import PEArraySpec
from simulator.load import load_arch
from simulator.reference import SystolicArrayRef
from simulator.roofline import roofline
from simulator.simulate import compare_to_dense, simulate_layer
from simulator.sparse_modes import reduction_nonzero
from simulator.tile_model import compute_timing, fold_streams
from simulator.tiling import glb_mapping
from workloads.layers import Conv2d, Gemm, GemmShape
from workloads.pruning import prune_nm
from workloads.sparsity import NM
from workloads.workload import LayerWorkload


def brute_force_folds(mask, tile, rows, cols, win, dataflow):
    """Every fold the array runs, with its stream length, by plain loops."""
    groups, k, n = mask.shape
    _, tn, tk = tile
    folds = Counter()
    for g in range(groups):
        for k0 in range(0, k, tk):
            kk = mask[g, k0 : k0 + tk]
            steps = -(-kk.shape[0] // win)
            step_nz = np.zeros((steps, n), bool)
            for s in range(steps):
                step_nz[s] = kk[s * win : (s + 1) * win].any(axis=0)
            for n0 in range(0, n, tn):
                blk = step_nz[:, n0 : n0 + tn]
                yield_folds(folds, blk, rows, cols, dataflow)
    return folds


def yield_folds(folds, blk, rows, cols, dataflow):
    steps, width = blk.shape
    if dataflow is Dataflow.WS:  # T filled in by the caller (M tiles)
        for r0 in range(0, steps, rows):
            for c0 in range(0, width, cols):
                if blk[r0 : r0 + rows, c0 : c0 + cols].any():
                    folds["ws"] += 1
    elif dataflow is Dataflow.IS:
        for r0 in range(0, steps, rows):
            t = int(blk[r0 : r0 + rows].any(axis=0).sum())
            if t:
                folds[t] += 1
    else:
        for c0 in range(0, width, cols):
            t = int(blk[:, c0 : c0 + cols].any(axis=1).sum())
            if t:
                folds[t] += 1


@st.composite
def masked_layers(draw):
    groups = draw(st.integers(1, 2))
    k, n, m = draw(st.integers(1, 40)), draw(st.integers(1, 12)), draw(st.integers(1, 12))
    density = draw(st.sampled_from([0.0, 0.05, 0.3, 1.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    mask = rng.random((groups, k, n)) < density
    if draw(st.booleans()):  # block structure: zero whole row/column bands
        mask[:, : k // 2] = False
    tile = (draw(st.integers(1, m)), draw(st.integers(1, n)), draw(st.integers(1, k)))
    return GemmShape(m, n, k), mask, tile


@pytest.mark.parametrize("dataflow", list(Dataflow))
@given(case=masked_layers(), rows=st.integers(1, 4), cols=st.integers(1, 4))
def test_tile_skipping_counts_equal_brute_force(dataflow, case, rows, cols):
    gemm, mask, tile = case
    array = PEArraySpec(rows=rows, cols=cols, multipliers=2)
    win = array.window(None)
    nz = [reduction_nonzero(mask[:, k0 : k0 + tile[2]], win) for k0 in range(0, gemm.k, tile[2])]
    streams = fold_streams(gemm, mask.shape[0], tile, array, dataflow, None, nz)
    brute = brute_force_folds(mask, tile, rows, cols, win, dataflow)
    counts = dict(streams.counts)
    if dataflow is Dataflow.OS:
        m_blocks = sum(-(-min(tile[0], gemm.m - i) // rows) for i in range(0, gemm.m, tile[0]))
        assert counts == {t: c * m_blocks for t, c in brute.items()}
    elif dataflow is Dataflow.IS:
        m_blocks = sum(-(-min(tile[0], gemm.m - i) // cols) for i in range(0, gemm.m, tile[0]))
        assert counts == {t: c * m_blocks for t, c in brute.items()}
    else:
        live = brute["ws"]
        expected = Counter()
        for i in range(0, gemm.m, tile[0]):
            expected[min(tile[0], gemm.m - i)] += live
        assert counts == {t: c for t, c in expected.items() if c}
    dense = fold_streams(gemm, mask.shape[0], tile, array, dataflow, None, None)
    assert streams.compute_cycles(array, dataflow) <= dense.compute_cycles(array, dataflow)


def test_untiled_streams_equal_the_closed_form():
    for timing in FoldTiming:
        array = PEArraySpec(rows=4, cols=5, multipliers=2, fold_timing=timing)
        g = GemmShape(37, 29, 53)
        for df in Dataflow:
            streams = fold_streams(g, 3, (g.m, g.n, g.k), array, df, None)
            closed = compute_timing(g, array, df, None, groups=3)
            assert streams.compute_cycles(array, df) == closed.compute_cycles
            assert streams.folds == closed.grid.folds


def test_depthwise_conv_reports_the_utilization_it_gets():
    """A depthwise 3x3 conv: C independent GEMMs of K = 9, N = 1 on 16 x 16 WS:
    one PE column of nine rows busy per fold."""
    arch = load_arch("edge")
    layer = Conv2d("dw", h=30, w=30, c=32, r=3, s=3, k=32, groups=32, padding=1)
    res = simulate_layer(LayerWorkload(layer), arch)
    per_group = compute_timing(layer.gemm(), arch.pe_array, Dataflow.WS, None)
    assert res.folds == 32 * per_group.grid.folds
    assert res.macs == 30 * 30 * 9 * 32
    assert res.utilization < 0.05  # 9 x 1 of 16 x 16 x 2 multiplier slots at best
    dense_conv = Conv2d("full", h=30, w=30, c=32, r=3, s=3, k=32, padding=1)
    assert simulate_layer(LayerWorkload(dense_conv), arch).utilization > 10 * res.utilization


def test_grouped_conv_with_a_real_mask():
    arch = dataclasses.replace(
        load_arch("edge"),
        pe_array=dataclasses.replace(load_arch("edge").pe_array, tile_skipping=True),
    )
    layer = Conv2d("gc", h=10, w=10, c=16, r=3, s=3, k=32, groups=4, padding=1)
    g = layer.gemm()
    rng = np.random.default_rng(1)
    w = rng.integers(-128, 128, size=(4, g.k, g.n))
    w, mask = prune_nm(w, NM(2, 4), axis=-2)
    w[1], mask[1] = 0, False  # one whole group pruned away
    lw = LayerWorkload(layer, weights=w, mask=mask, density=0.375, pattern=NM(2, 4))
    res = simulate_layer(lw, arch)
    assert res.mode == "2:4" and res.skipped_folds > 0
    full = simulate_layer(dataclasses.replace(lw, mask=np.ones_like(mask)), arch)
    assert res.cycles.compute < full.cycles.compute


@pytest.mark.parametrize("dataflow", list(Dataflow))
def test_conv_via_im2col_on_the_reference_array(dataflow):
    layer = Conv2d("c", h=6, w=5, c=3, r=3, s=2, k=4, stride=1, padding=1, batch=2)
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 128, size=(2, 6, 5, 3))
    w = rng.integers(-128, 128, size=(3, 2, 3, 4))
    g = layer.gemm()
    a = layer.lower_activations(x)
    ref = SystolicArrayRef(3, 2, 1, 1, dataflow, FoldTiming.OVERLAPPED)
    run = ref.run_gemm(a, w.reshape(g.k, g.n), dense=True)
    np.testing.assert_array_equal(run.output, a @ w.reshape(g.k, g.n))
    array = PEArraySpec(rows=3, cols=2, fold_timing=FoldTiming.OVERLAPPED)
    assert compute_timing(g, array, dataflow, None).compute_cycles == run.cycles


@pytest.mark.parametrize("dataflow", list(Dataflow))
def test_gating_saves_energy_skipping_saves_cycles(dataflow):
    base = load_arch("edge")
    layer = Gemm("g", 256, 128, 256)
    half = LayerWorkload(layer, activation_density=0.5)
    gate = simulate_layer(half, base, glb_mapping(dataflow, (256, 128, 256), "nmk"))
    full = simulate_layer(LayerWorkload(layer), base, glb_mapping(dataflow, (256, 128, 256), "nmk"))
    assert gate.zero_activations == "gated"
    assert gate.cycles.compute == full.cycles.compute
    assert gate.energy_pj["mac"] == pytest.approx(full.energy_pj["mac"] / 2, rel=0.01)
    assert gate.energy_pj["total"] < full.energy_pj["total"]
    skipping = dataclasses.replace(
        base, pe_array=dataclasses.replace(base.pe_array, activation_skipping=True)
    )
    skip = simulate_layer(half, skipping, glb_mapping(dataflow, (256, 128, 256), "nmk"))
    assert skip.zero_activations == "skipped"
    if dataflow is Dataflow.IS:  # the inputs are stationary: nothing to skip in the stream
        assert skip.cycles.compute == full.cycles.compute
    else:
        assert skip.cycles.compute < full.cycles.compute
        assert skip.cycles.fill_drain == full.cycles.fill_drain


@st.composite
def sparse_layers(draw):
    preset = draw(st.sampled_from(["edge", "vegeta", "a100-sparse", "eyeriss", "sat"]))
    arch = load_arch(preset)
    pe = dataclasses.replace(
        arch.pe_array,
        tile_skipping=draw(st.booleans()),
        activation_skipping=draw(st.booleans()),
        fold_timing=draw(st.sampled_from(list(FoldTiming))),
    )
    arch = dataclasses.replace(arch, pe_array=pe)
    m, n, k = draw(st.integers(1, 96)), draw(st.integers(1, 96)), draw(st.integers(1, 160))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w = rng.integers(-128, 128, size=(k, n))
    kind = draw(st.sampled_from(["nm", "block", "random"]))
    if kind == "nm" and pe.nm_patterns:
        pat = draw(st.sampled_from(pe.nm_patterns))
        w, mask = prune_nm(w, pat, axis=0)
    else:
        pat = None
        mask = rng.random((k, n)) < draw(st.sampled_from([0.0, 0.1, 0.5]))
        if kind == "block":
            mask[:, : n // 2] = False
        w = np.where(mask, w, 0)
    act = draw(st.sampled_from([1.0, 0.5, 0.1]))
    lw = LayerWorkload(
        Gemm("g", m, n, k),
        weights=w,
        mask=mask,
        density=float(mask.mean()) if mask.size else 1.0,
        pattern=pat,
        activation_density=act,
    )
    dataflow = draw(st.sampled_from(list(Dataflow)))
    return arch, lw, dataflow


@given(sparse_layers())
def test_cycles_never_below_the_roofline(case):
    arch, lw, dataflow = case
    from mappings.mapping import Mapping

    res = simulate_layer(lw, arch, Mapping(dataflow))
    bound = roofline(lw, arch)
    assert res.cycles.total >= bound.cycles
    assert res.cycles.compute >= bound.compute_cycles


@given(sparse_layers())
def test_sparse_never_slower_than_dense_when_skipping_and_macs_conserved(case):
    arch, lw, dataflow = case
    pe = dataclasses.replace(arch.pe_array, tile_skipping=True, activation_skipping=True)
    arch = dataclasses.replace(arch, pe_array=pe)
    g = lw.gemm
    tile = (g.m, g.n, g.k)  # the same mapping for both: the effect of sparsity alone
    mapping = glb_mapping(dataflow, tile, "nmk")
    sparse = simulate_layer(lw, arch, mapping)
    dense = simulate_layer(LayerWorkload(lw.layer), arch, mapping)
    assert sparse.cycles.compute <= dense.cycles.compute
    assert sparse.cycles.total <= dense.cycles.total
    assert sparse.dram_bytes <= dense.dram_bytes  # formats: never more than dense (AUTO)
    # effective MACs: the mask's, whatever the dataflow, mapping or skipping
    assert sparse.effective_macs == lw.effective_macs == g.m * int(lw.mask.sum())
    real = round(lw.effective_macs * lw.activation_density)
    table_mac = sparse.energy_pj["mac"] / max(real, 1)
    assume(real > 0)
    assert table_mac == pytest.approx(dense.energy_pj["mac"] / dense.effective_macs)
    assert 0.0 <= sparse.utilization <= 1.0


def test_unsupported_and_unstructured_masks_run_at_the_best_supported_mode():
    arch = load_arch("vegeta")  # {1:4, 2:4, 4:4}
    rng = np.random.default_rng(0)
    w = rng.integers(-128, 128, size=(64, 32))
    layer = Gemm("g", 64, 32, 64)
    for pat, mode in ((NM(1, 8), "1:4"), (NM(1, 4), "1:4"), (NM(2, 4), "2:4"), (NM(3, 4), "dense")):
        pruned, mask = prune_nm(w, pat, axis=0)
        lw = LayerWorkload(layer, weights=pruned, mask=mask, density=pat.density, pattern=pat)
        assert simulate_layer(lw, arch).mode == mode, pat
    unstructured = rng.random((64, 32)) < 0.25
    assert simulate_layer(LayerWorkload(layer, mask=unstructured), arch).mode == "dense"


def test_two_to_four_halves_compute_on_the_same_mapping():
    from workloads.resolve import load_workload
    from workloads.sparsity_spec import parse_sparsity

    wl = load_workload("gemm:512x512x512", parse_sparsity("nm:2:4"))
    mapping = glb_mapping(Dataflow.WS, (512, 64, 128), "nmk")
    comp = compare_to_dense(wl, load_arch("edge"), mapping)
    assert comp.compute_speedup == pytest.approx(2.0, rel=0.01)
    assert comp.sparse.layers[0].mapping == comp.dense.layers[0].mapping
