"""Pruning methods beyond N:M: exact densities, exact patterns, the right weights kept."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from workloads.pruning import (
    bidirectional_nm_mask,
    block_mask,
    channel_keep,
    cubic_sparsity,
    global_magnitude_masks,
    kept_count,
    magnitude_mask,
    random_mask,
)
from workloads.sparsity import NM, finest_nm, grouped, satisfies_nm

sparsities = st.floats(0.0, 0.99, allow_nan=False)


@st.composite
def weights(draw, max_dim=24, groups=True):
    lead = (draw(st.integers(2, 3)),) if groups and draw(st.booleans()) else ()
    k, n = draw(st.integers(1, max_dim)), draw(st.integers(1, max_dim))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    hi = draw(st.sampled_from([3, 128]))  # a small range makes many ties
    return rng.integers(-hi, hi, size=(*lead, k, n)).astype(np.int8)


@given(weights(), sparsities)
def test_magnitude_keeps_exactly_the_largest(w, s):
    mask = magnitude_mask(w, s)
    assert mask.shape == w.shape
    assert np.count_nonzero(mask) == w.size - round(s * w.size)
    mags = np.abs(w.astype(int))
    if mask.any() and (~mask).any():
        assert mags[mask].min() >= mags[~mask].max()


@given(st.lists(weights(max_dim=12, groups=False), min_size=1, max_size=4), sparsities)
def test_global_magnitude_keeps_the_largest_across_layers(ws, s):
    masks = global_magnitude_masks(ws, s, min_density=0.0)
    total = sum(w.size for w in ws)
    assert sum(np.count_nonzero(m) for m in masks) == total - round(s * total)
    kept = np.concatenate([np.abs(w[m].astype(int)) for w, m in zip(ws, masks, strict=True)])
    dropped = np.concatenate([np.abs(w[~m].astype(int)) for w, m in zip(ws, masks, strict=True)])
    if kept.size and dropped.size:
        assert kept.min() >= dropped.max()


@given(st.lists(weights(max_dim=12, groups=False), min_size=2, max_size=4), sparsities)
def test_global_magnitude_floor_keeps_every_layer_alive(ws, s):
    floor = 0.1
    masks = global_magnitude_masks(ws, s, min_density=floor)
    for w, m in zip(ws, masks, strict=True):
        assert np.count_nonzero(m) >= max(1, int(np.ceil(floor * w.size)))
    # beyond each layer's floor, what is kept is the globally largest
    total_keep = kept_count(sum(w.size for w in ws), s)
    assert sum(np.count_nonzero(m) for m in masks) == max(
        total_keep, sum(max(1, int(np.ceil(floor * w.size))) for w in ws)
    )


def test_global_magnitude_prunes_small_layers_harder():
    big = np.full((10, 10), 100, np.int32)
    small = np.ones((10, 10), np.int32)
    m_big, m_small = global_magnitude_masks([big, small], 0.5, min_density=0.05)
    # plain global pruning would keep all of `big` and none of `small`; the floor keeps 5 alive
    assert np.count_nonzero(m_small) == 5 and np.count_nonzero(m_big) == 95
    assert global_magnitude_masks([big, small], 0.5, min_density=0.0)[1].sum() == 0


@given(st.tuples(st.integers(1, 20), st.integers(1, 20)), sparsities, st.integers(0, 2**32 - 1))
def test_random_mask_density_and_seed(shape, s, seed):
    a = random_mask(shape, s, np.random.default_rng(seed))
    b = random_mask(shape, s, np.random.default_rng(seed))
    np.testing.assert_array_equal(a, b)
    assert np.count_nonzero(a) == kept_count(a.size, s)


@st.composite
def nm_patterns(draw):
    m = draw(st.sampled_from([2, 4, 8]))
    return NM(draw(st.integers(1, m)), m)


@given(weights(), nm_patterns())
def test_bidirectional_nm_holds_for_w_and_w_transpose(w, pattern):
    mask = bidirectional_nm_mask(w, pattern)
    assert mask.shape == w.shape
    assert satisfies_nm(mask, pattern, axis=-2)  # forward: W along K
    assert satisfies_nm(mask, pattern, axis=-1)  # backward-data: W^T along N
    k, n = w.shape[-2:]
    if k % pattern.m == 0 and n % pattern.m == 0:  # full tiles keep exactly N per row and column
        counts = np.count_nonzero(grouped(mask, pattern.m, axis=-2), axis=-1)
        assert np.all(counts == pattern.n)
        assert np.count_nonzero(mask) * pattern.m == pattern.n * mask.size


@given(weights(), st.integers(1, 5), st.integers(1, 5), sparsities)
def test_block_mask_removes_whole_blocks(w, bk, bn, s):
    mask = block_mask(w, (bk, bn), s)
    k, n = w.shape[-2:]
    kt, nt = -(-k // bk), -(-n // bn)
    blocks = 0
    for idx in np.ndindex(*w.shape[:-2], kt, nt):
        *lead, i, j = idx
        tile = mask[(*lead, slice(i * bk, (i + 1) * bk), slice(j * bn, (j + 1) * bn))]
        assert tile.all() or not tile.any()  # a block is kept or removed whole
        blocks += bool(tile.all())
    total = int(np.prod(w.shape[:-2], dtype=int)) * kt * nt
    assert blocks == kept_count(total, s)
    if k % bk == 0 and n % bn == 0:
        assert np.count_nonzero(mask) == blocks * bk * bn


@given(weights(groups=False), st.integers(1, 6), sparsities)
def test_group_sparsity_along_k(w, g, s):
    mask = block_mask(w, (g, 1), s)
    groups = grouped(mask, g, axis=0)  # (N, groups, g), zero-padded
    k = w.shape[0]
    full = groups[:, : k // g]
    assert np.all(full.all(axis=-1) | ~full.any(axis=-1))


@given(weights(groups=False), sparsities)
def test_channel_keep_ranks_by_l1(w, s):
    keep = channel_keep(w, s)
    n = w.shape[1]
    assert len(keep) == max(1, kept_count(n, s)) and np.all(np.diff(keep) > 0)
    norms = np.abs(w.astype(int)).sum(axis=0)
    dropped = np.setdiff1d(np.arange(n), keep)
    if dropped.size:
        assert norms[keep].min() >= norms[dropped].max()


def test_cubic_schedule_of_zhu_and_gupta():
    """s_t = s_f + (s_i - s_f)(1 - (t - t0)/(n dt))^3 (eq. 1 of "To prune, or not to prune")."""
    assert cubic_sparsity(0, 0.9, 10, 110) == 0.0
    assert cubic_sparsity(10, 0.9, 10, 110) == 0.0
    assert cubic_sparsity(60, 0.9, 10, 110) == pytest.approx(0.9 - 0.9 * 0.5**3)
    assert cubic_sparsity(110, 0.9, 10, 110) == pytest.approx(0.9)
    assert cubic_sparsity(500, 0.9, 10, 110) == pytest.approx(0.9)
    steps = [cubic_sparsity(t, 0.8, 0, 100, initial=0.1) for t in range(0, 101, 10)]
    assert steps == sorted(steps)  # monotone, fastest at the start
    assert steps[1] - steps[0] > steps[-1] - steps[-2]


@given(weights(groups=False), nm_patterns())
def test_finest_nm_reads_back_the_pruned_pattern(w, pattern):
    from workloads.pruning import nm_mask

    assume(w.shape[0] >= pattern.m and not pattern.is_dense)
    mask = nm_mask(w, pattern, axis=0)
    found = finest_nm(mask, axis=0)
    assert found is not None and found.density <= pattern.density
    assert satisfies_nm(mask, found, axis=0)


@pytest.mark.parametrize("s", [-0.1, 1.0, 1.5])
def test_sparsity_outside_0_1_is_rejected(s):
    with pytest.raises(ValueError):
        magnitude_mask(np.ones((4, 4)), s)
