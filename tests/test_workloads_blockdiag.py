"""blockdiag:NB: Monarch-style block-diagonal weights (a spec, a mask, a pruned workload)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from simulator.simulate import dense_baseline
from workloads.apply import apply_sparsity, prune_layer
from workloads.errors import ImportNote, WorkloadError
from workloads.layers import Conv2d, Gemm, GemmShape
from workloads.pruning import blockdiag_mask
from workloads.sparsity_spec import Method, parse_sparsity
from workloads.specs import build_workload, parse_shape
from workloads.workload import LayerWorkload, Workload
from workloads.zoo import zoo_workload


@given(
    k=st.integers(1, 40),
    n=st.integers(1, 40),
    blocks=st.integers(1, 8),
    groups=st.integers(1, 3),
)
def test_mask_is_exactly_the_diagonal_blocks(k, n, blocks, groups):
    assume(blocks <= min(k, n))
    mask = blockdiag_mask((groups, k, n), blocks)
    bk, bn = -(-k // blocks), -(-n // blocks)
    rows, cols = np.nonzero(mask[0])
    # every kept weight joins input block i to output block i, and nothing else
    assert np.array_equal(rows // bk, cols // bn)
    expected = sum(
        len(range(i * bk, min(k, (i + 1) * bk))) * len(range(i * bn, min(n, (i + 1) * bn)))
        for i in range(blocks)
    )
    assert int(mask[0].sum()) == expected
    assert all(np.array_equal(mask[g], mask[0]) for g in range(groups))
    if k % blocks == 0 and n % blocks == 0:
        assert mask.mean() == pytest.approx(1 / blocks)


def test_spec_parses_prints_and_rejects():
    spec = parse_sparsity("blockdiag:4")
    assert spec.kind is Method.BLOCKDIAG and spec.block == 4
    assert str(spec) == "blockdiag:4" and spec.weight_density == 0.25
    for bad in ("blockdiag:0", "blockdiag:x", "blockdiag"):
        with pytest.raises(WorkloadError):
            parse_sparsity(bad)


def test_pruned_gemm_is_lowered_to_its_diagonal_blocks():
    wl = build_workload([parse_shape("gemm:4x64x32")], parse_sparsity("dense"), seed=3)
    pruned = apply_sparsity(wl, parse_sparsity("blockdiag:4"))
    lw, original = pruned.layers[0], wl.layers[0]
    assert pruned.sparsity == "blockdiag:4"
    assert (lw.layer.groups, lw.gemm) == (4, GemmShape(4, 16, 8))
    assert lw.unpruned == original.layer and lw.dense_layer == original.layer
    assert lw.density == 1.0 and lw.mask.all()
    for i in range(4):  # block i: input rows 8i.., output columns 16i..
        np.testing.assert_array_equal(
            lw.weights[i], original.weights[8 * i : 8 * i + 8, 16 * i : 16 * i + 16]
        )


def _blockwise_input(x: np.ndarray, blocks: int) -> np.ndarray:
    """(G, M, K) grouped-GEMM input -> (G * blocks, M, K / blocks): block i of group g
    reads input columns i*K/blocks.. of that group."""
    g, m, k = x.shape
    return x.reshape(g, m, blocks, k // blocks).transpose(0, 2, 1, 3).reshape(-1, m, k // blocks)


def _grouped_gemm_out(x: np.ndarray, w: np.ndarray, groups_out: int) -> np.ndarray:
    """(G', M, K') @ (G', K', N') -> (groups_out, M, N), the G' / groups_out blocks of each
    output group side by side."""
    out = np.einsum("gmk,gkn->gmn", x, w)
    g, m, n = out.shape
    per = g // groups_out
    return out.reshape(groups_out, per, m, n).transpose(0, 2, 1, 3).reshape(groups_out, m, -1)


def _one(lw: LayerWorkload) -> Workload:
    return Workload("t", (lw,))


@given(
    m=st.integers(1, 6),
    kb=st.integers(1, 5),
    nb=st.integers(1, 5),
    blocks=st.integers(1, 5),
    groups=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_lowered_gemm_computes_the_masked_dense_layer(m, kb, nb, blocks, groups, seed):
    rng = np.random.default_rng(seed)
    layer = Gemm("fc", m, nb * blocks, kb * blocks, groups=groups)
    w = rng.integers(-8, 8, (groups, kb * blocks, nb * blocks))
    lw = LayerWorkload.from_weights(layer, w if groups > 1 else w[0])
    spec = parse_sparsity(f"blockdiag:{blocks}")
    masked = prune_layer(lw, spec, np.random.default_rng(0))
    assert np.array_equal(masked.mask.reshape(w.shape), blockdiag_mask(w.shape, blocks) & (w != 0))
    lowered = apply_sparsity(_one(lw), spec).layers[0]
    x = rng.integers(-8, 8, (groups, m, kb * blocks))
    dense_out = np.einsum("gmk,gkn->gmn", x, masked.weights.reshape(w.shape))
    out = _grouped_gemm_out(
        _blockwise_input(x, blocks), lowered.weights.reshape(-1, kb, nb), groups
    )
    np.testing.assert_array_equal(out, dense_out)
    assert lowered.layer.groups == groups * blocks and lowered.dense_layer == layer
    assert lowered.macs * blocks == layer.macs
    assert lowered.macs == m * int(np.count_nonzero(blockdiag_mask(w.shape, blocks)))
    assert lowered.effective_macs == masked.effective_macs


def _conv_out(layer: Conv2d, ifmap: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The conv through its own im2col, output channels of the groups side by side."""
    cols = layer.lower_activations(ifmap)
    if layer.groups == 1:
        return cols @ w
    return np.concatenate([cols[g] @ w[g] for g in range(layer.groups)], axis=-1)


@given(
    hw=st.integers(3, 7),
    cb=st.integers(1, 3),
    kb=st.integers(1, 3),
    rs=st.sampled_from([(1, 1), (3, 3), (1, 3)]),
    stride=st.integers(1, 2),
    blocks=st.integers(1, 4),
    groups=st.integers(1, 2),
    seed=st.integers(0, 2**16),
)
def test_lowered_conv_is_a_grouped_conv_computing_the_masked_one(
    hw, cb, kb, rs, stride, blocks, groups, seed
):
    rng = np.random.default_rng(seed)
    c, k = cb * blocks * groups, kb * blocks * groups
    layer = Conv2d("conv", hw, hw, c, *rs, k, stride=stride, padding=1, groups=groups)
    w = rng.integers(-8, 8, LayerWorkload(layer).weight_shape)
    lw = LayerWorkload.from_weights(layer, w)
    spec = parse_sparsity(f"blockdiag:{blocks}")
    masked = prune_layer(lw, spec, np.random.default_rng(0))
    # the blocks run over channels: row (tap, channel), column filter, within each group
    taps = rs[0] * rs[1]
    chan = np.tile(np.arange(c // groups), taps) // cb
    block_diag = chan[:, None] == (np.arange(k // groups) // kb)[None, :]
    assert np.array_equal(masked.mask, np.broadcast_to(block_diag, w.shape) & (w != 0))
    lowered = apply_sparsity(_one(lw), spec).layers[0]
    assert lowered.layer == dataclasses.replace(layer, groups=groups * blocks)
    assert lowered.dense_layer == layer
    ifmap = rng.integers(-8, 8, (1, hw, hw, c))
    np.testing.assert_array_equal(
        _conv_out(lowered.layer, ifmap, lowered.weights), _conv_out(layer, ifmap, masked.weights)
    )
    assert lowered.macs * blocks == layer.macs
    assert lowered.macs == layer.gemm().m * int(
        np.count_nonzero(np.broadcast_to(block_diag, w.shape))
    )


def test_layers_blocks_do_not_divide_keep_the_mask_and_say_so():
    wl = build_workload([parse_shape("gemm:4x10x64")], parse_sparsity("dense"), seed=1)
    with pytest.warns(ImportNote, match=r"blockdiag:4: 1 weight layer.*gemm:4x10x64"):
        pruned = apply_sparsity(wl, parse_sparsity("blockdiag:4"))
    lw = pruned.layers[0]
    assert lw.layer == wl.layers[0].layer and lw.unpruned is None
    before = wl.layers[0].mask if wl.layers[0].mask is not None else True
    assert np.array_equal(lw.mask, blockdiag_mask((64, 10), 4) & before)


def test_shape_only_layers_lower_with_descriptors_and_attention_stays():
    wl = zoo_workload("bert-base")
    pruned = apply_sparsity(wl, parse_sparsity("blockdiag:4"))
    for before, after in zip(wl.layers, pruned.layers, strict=True):
        if not before.layer.has_weights:
            assert after.layer == before.layer and after.unpruned is None
            continue
        assert after.weights is None and after.density == before.density
        assert after.layer.groups == 4 * before.layer.groups
        assert after.macs * 4 == before.macs and after.dense_layer == before.layer
    assert dense_baseline(pruned).macs == wl.macs
