"""blockdiag:NB: Monarch-style block-diagonal weights (a spec, a mask, a pruned workload)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from workloads.apply import apply_sparsity
from workloads.errors import WorkloadError
from workloads.pruning import blockdiag_mask
from workloads.sparsity_spec import Method, parse_sparsity
from workloads.specs import build_workload, parse_shape


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


def test_pruned_workload_keeps_only_diagonal_blocks():
    wl = build_workload([parse_shape("gemm:4x64x32")], parse_sparsity("dense"), seed=3)
    pruned = apply_sparsity(wl, parse_sparsity("blockdiag:4"))
    lw = pruned.layers[0]
    assert pruned.sparsity == "blockdiag:4"
    assert lw.density == pytest.approx(0.25)
    assert np.array_equal(lw.mask, blockdiag_mask(lw.mask.shape, 4))
    assert not np.any(lw.weights[~lw.mask])
