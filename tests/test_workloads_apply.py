"""Sparsity specs applied to workloads: real masks, descriptors, channel pruning, training."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workloads.apply import apply_sparsity, prune_channels
from workloads.errors import WorkloadError
from workloads.graph import NETWORK_INPUT, GraphBuilder
from workloads.layers import Conv2d, Gemm, Pass
from workloads.sparsity import NM, satisfies_nm
from workloads.sparsity_spec import Method, parse_sparsity
from workloads.specs import build_workload, parse_shape, with_random_weights
from workloads.training import training_workload
from workloads.workload import Workload
from workloads.zoo import zoo_workload

SPECS = [
    "dense",
    "nm:2:4",
    "nm:1:8",
    "bdwp:2:4",
    "magnitude:0.7",
    "global:0.8",
    "random:0.5",
    "channel:0.5",
    "block:4:0.5",
    "group:8:0.25",
    "nm:2:4+act:0.6",
]


@pytest.mark.parametrize("text", SPECS)
def test_spec_round_trips_through_its_text(text):
    spec = parse_sparsity(text)
    assert str(spec) == text and parse_sparsity(str(spec)) == spec


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("nm:5:4", "N:M"),
        ("nm:0:4", "N:M"),
        ("magnitude:1.0", "S"),
        ("random:-0.1", "S"),
        ("block:0:0.5", "B"),
        ("block:4:2", "S"),
        ("nm:2:4+act:1.5", "S"),
        ("sparse", "sparsity"),
        ("nm:2:4+foo", "sparsity"),
    ],
)
def test_bad_specs_name_the_field(text, field):
    with pytest.raises(WorkloadError) as err:
        parse_sparsity(text)
    assert err.value.field == field and err.value.source == "--sparsity"


def _net() -> Workload:
    """conv -> conv -> fc with real random weights (a chain: every layer prunable)."""
    b = GraphBuilder()
    x = b.add(Conv2d("c1", h=8, w=8, c=3, r=3, s=3, k=16, padding=1), NETWORK_INPUT)
    x = b.add(Conv2d("c2", h=8, w=8, c=16, r=3, s=3, k=8, padding=1), x)
    b.add(Gemm("fc", m=64, n=10, k=8), x)  # a 1x1 classifier per pixel
    wl = b.workload("net")
    return wl.replace_layers(with_random_weights([lw.layer for lw in wl.layers], seed=3))


@pytest.mark.parametrize("text", [s for s in SPECS if not s.startswith("channel")])
def test_real_masks_have_the_density_and_pattern_asked(text):
    spec = parse_sparsity(text)
    wl = apply_sparsity(_net(), spec, seed=1)
    assert wl.sparsity == text
    for lw in wl.layers:
        assert lw.mask is not None and lw.mask.dtype == bool
        assert np.all(lw.weights[~lw.mask] == 0)
        if spec.kind in (Method.NM, Method.BDWP):
            assert satisfies_nm(lw.mask, spec.pattern, axis=-2)
            assert lw.pattern == spec.pattern
        if spec.kind is Method.BDWP:
            assert satisfies_nm(lw.mask, spec.pattern, axis=-1)
        if spec.kind in (Method.MAGNITUDE, Method.RANDOM, Method.BLOCK, Method.GROUP):
            # exact up to whole blocks (fc has only 10 groups of 8: 2.5 removed rounds to 2)
            assert lw.weight_density == pytest.approx(spec.weight_density, abs=0.06)
        if spec.activation_sparsity is not None:
            assert lw.activation_density == pytest.approx(1 - spec.activation_sparsity)
    if spec.kind is Method.GLOBAL:
        total = sum(lw.mask.size for lw in wl.layers)
        kept = sum(int(lw.mask.sum()) for lw in wl.layers)
        assert kept == total - round(spec.sparsity * total)


def test_pruning_only_removes_stored_zeros_stay_zero():
    once = apply_sparsity(_net(), parse_sparsity("magnitude:0.5"))
    twice = apply_sparsity(once, parse_sparsity("nm:2:4"))
    for a, b in zip(once.layers, twice.layers, strict=True):
        assert not np.any(b.mask & ~a.mask)
        assert satisfies_nm(b.mask, NM(2, 4), axis=-2)


def test_shape_only_layers_get_descriptors():
    wl = zoo_workload("bert-base")
    nm = apply_sparsity(wl, parse_sparsity("nm:2:4"))
    mag = apply_sparsity(wl, parse_sparsity("magnitude:0.75"))
    for lw_nm, lw_mag in zip(nm.layers, mag.layers, strict=True):
        assert lw_nm.mask is None and lw_mag.mask is None
        if lw_nm.layer.has_weights:
            assert (lw_nm.density, lw_nm.pattern) == (0.5, NM(2, 4))
            assert (lw_mag.density, lw_mag.pattern) == (0.25, None)  # no structure: runs dense
        else:  # attention matmuls: both operands are activations, nothing to prune
            assert (lw_nm.density, lw_nm.pattern) == (1.0, None)
    assert nm.effective_macs < nm.macs


def test_channel_pruning_gives_a_smaller_dense_net_with_the_same_outputs():
    """Removing filters (and the next layer's matching input channels) computes exactly
    what the unpruned net computes with those filters zeroed."""
    wl = _net()
    pruned = prune_channels(wl, 0.5)
    c1, c2, fc = (lw.layer for lw in pruned.layers)
    assert (c1.k, c2.c, c2.k, fc.k, fc.n) == (8, 8, 4, 4, 10)  # the classifier keeps its 10
    for lw in pruned.layers:
        assert lw.mask.all() and lw.weights.shape == lw.weight_shape
        assert lw.unpruned is not None and lw.dense_layer.macs > lw.macs
    x = np.random.default_rng(0).normal(size=(1, 8, 8, 3))

    def run(layers, zero=None):
        a = x
        for i, lw in enumerate(layers):
            w = lw.weights.astype(np.float64)
            if zero is not None and i < 2:
                w = w.copy()
                w[..., np.setdiff1d(np.arange(w.shape[-1]), zero[i])] = 0
            if isinstance(lw.layer, Conv2d):
                a = (lw.layer.lower_activations(a) @ w).reshape(1, 8, 8, -1)
            else:
                a = a.reshape(64, -1) @ w
            a = np.maximum(a, 0) if i < 2 else a
        return a

    from workloads.pruning import channel_keep

    keep1 = channel_keep(wl.layers[0].weights, 0.5)
    # c2's filters are ranked on its weights restricted to c1's kept channels
    w2 = wl.layers[1].weights.reshape(9, 16, 8)[:, keep1, :].reshape(-1, 8)
    keep2 = channel_keep(w2, 0.5)
    np.testing.assert_allclose(run(pruned.layers), run(wl.layers, zero=[keep1, keep2]))


def test_channel_pruning_follows_the_graph_in_resnet50():
    wl = zoo_workload("resnet50")
    pruned = apply_sparsity(wl, parse_sparsity("channel:0.5"))
    by = {lw.name: lw.layer for lw in pruned.layers}
    # inside a bottleneck: conv1 and conv2 shrink, conv3 reads the smaller conv2
    assert by["layer2.1.conv1"].k == 64 and by["layer2.1.conv2"].c == 64
    assert by["layer2.1.conv2"].k == 64 and by["layer2.1.conv3"].c == 64
    # outputs feeding a residual add keep their width; so does the classifier
    assert by["layer2.1.conv3"].k == 512 and by["layer1.0.downsample"].k == 256
    assert by["fc"].n == 1000
    assert 0.25 * wl.macs < pruned.macs < 0.5 * wl.macs
    assert all(lw.density == 1.0 for lw in pruned.layers)


def test_channel_pruning_passes_through_depthwise_convs():
    wl = apply_sparsity(zoo_workload("mobilenetv2"), parse_sparsity("channel:0.5"))
    by = {lw.name: lw.layer for lw in wl.layers}
    assert by["features.2.expand"].k == 48  # 96 hidden channels halved...
    assert by["features.2.dw"].groups == by["features.2.dw"].c == 48  # ...through the dw conv
    assert by["features.2.project"].c == 48


def test_single_layer_channel_pruning_shrinks_its_filters():
    wl = build_workload([parse_shape("conv:14x14x32:3x3x64")], parse_sparsity("channel:0.25"))
    (lw,) = wl.layers
    assert lw.layer.k == 48 and lw.weights.shape == (288, 48)
    assert lw.dense_layer.k == 64


@given(st.sampled_from(["nm:2:4", "bdwp:2:4", "bdwp:1:4"]), st.integers(0, 100))
def test_training_passes_carry_the_transposed_mask(text, seed):
    spec = parse_sparsity(text)
    wl = training_workload(apply_sparsity(_net(), spec, seed=seed))
    by = {lw.name: lw for lw in wl.layers}
    assert [lw.pass_ for lw in wl.layers[:3]] == [Pass.FORWARD] * 3
    for name in ("c1", "c2", "fc"):
        f, d, w = by[f"{name}/fwd"], by[f"{name}/bwd_data"], by[f"{name}/bwd_weight"]
        np.testing.assert_array_equal(d.mask, f.mask.T)
        assert d.gemm.k == f.gemm.n and d.gemm.n == f.gemm.k and w.gemm.k == f.gemm.m
        assert w.mask is None and w.weight_density == 1.0  # dY is dense: no benefit
        assert satisfies_nm(f.mask, spec.pattern, axis=-2)
        # backward-data reduces over N: only a bidirectional mask is N:M there
        assert satisfies_nm(d.mask, spec.pattern, axis=-2) or spec.kind is Method.NM
    assert wl.macs == 3 * _net().macs


def test_training_descriptors_keep_n_m_on_backward_data_only_when_bidirectional():
    for text, expect in (("nm:2:4", None), ("bdwp:2:4", NM(2, 4))):
        wl = training_workload(apply_sparsity(zoo_workload("vgg16"), parse_sparsity(text)))
        d = wl.layer("conv2_1/bwd_data")
        assert d.pattern == expect and d.density == 0.5
        assert wl.layer("conv2_1/fwd").pattern == NM(2, 4)
        assert wl.layer("conv2_1/bwd_weight").density == 1.0
