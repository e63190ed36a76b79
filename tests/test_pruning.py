"""N:M magnitude pruning: pattern, density, kept magnitudes, tie-breaking."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from workloads.pruning import nm_keep_indices, nm_mask, prune_nm
from workloads.sparsity import NM, density, grouped, satisfies_nm


@st.composite
def nm_cases(draw):
    m = draw(st.sampled_from([1, 2, 4, 8, 16]))
    n = draw(st.integers(1, m))
    k = draw(st.integers(1, 40))
    cols = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    small_range = draw(st.booleans())  # many ties when values come from a small range
    rng = np.random.default_rng(seed)
    hi = 3 if small_range else 128
    w = rng.integers(-hi, hi, size=(k, cols)).astype(np.int8)
    return NM(n, m), w


@given(nm_cases())
def test_mask_satisfies_pattern_and_keeps_n_per_full_group(case):
    pattern, w = case
    mask = nm_mask(w, pattern, axis=0)
    assert satisfies_nm(mask, pattern, axis=0)
    counts = np.count_nonzero(grouped(mask, pattern.m, 0), axis=-1)
    full_groups = w.shape[0] // pattern.m
    assert np.all(counts[..., :full_groups] == pattern.n)
    if w.shape[0] % pattern.m == 0:
        assert density(mask) == pattern.density


@given(nm_cases())
def test_vectorised_mask_equals_the_per_group_rule(case):
    """nm_mask is the documented rule (the RTL compressor's) applied group by group."""
    pattern, w = case
    mask = nm_mask(w, pattern, axis=0)
    k = w.shape[0]
    for c in range(w.shape[1]):
        for start in range(0, k, pattern.m):
            group = w[start : start + pattern.m, c]
            padded = np.concatenate([group, np.zeros(pattern.m - len(group), w.dtype)])
            keep = [i for i in nm_keep_indices(padded, pattern.n) if i < len(group)]
            expected = np.zeros(len(group), bool)
            expected[keep] = True
            np.testing.assert_array_equal(mask[start : start + pattern.m, c], expected)


@given(nm_cases())
def test_kept_weights_are_the_largest_magnitudes(case):
    pattern, w = case
    pruned, mask = prune_nm(w, pattern, axis=0)
    mags = np.abs(w.astype(int))
    for col in range(w.shape[1]):
        for start in range(0, w.shape[0], pattern.m):
            kept = mags[start : start + pattern.m, col][mask[start : start + pattern.m, col]]
            dropped = mags[start : start + pattern.m, col][~mask[start : start + pattern.m, col]]
            if kept.size and dropped.size:
                assert kept.min() >= dropped.max()
    assert np.all(pruned[~mask] == 0)
    assert np.all(pruned[mask] == w[mask])


def test_tie_breaking_lower_index_wins_and_minus_128_beats_127():
    assert list(nm_keep_indices(np.array([5, -5, 5, 5]), 2)) == [0, 1]
    assert list(nm_keep_indices(np.array([127, 1, -128, 0]), 1)) == [2]
    assert list(nm_keep_indices(np.array([0, 0, 0, 0]), 2)) == [0, 1]
    assert list(nm_keep_indices(np.array([0, 3, 0, -3]), 2)) == [1, 3]


def test_pruning_along_another_axis():
    w = np.arange(32).reshape(4, 8) - 16
    mask = nm_mask(w, NM(2, 4), axis=1)
    assert satisfies_nm(mask, NM(2, 4), axis=1)
    assert np.count_nonzero(mask) == 16
    # row 0 is -16..-9: each group of 4 keeps its two most negative (largest |w|)
    assert list(np.flatnonzero(mask[0])) == [0, 1, 4, 5]


def test_nm_rejects_bad_patterns():
    for n, m in [(0, 4), (5, 4), (-1, 2)]:
        try:
            NM(n, m)
        except ValueError:
            continue
        raise AssertionError(f"NM({n},{m}) must be rejected")
