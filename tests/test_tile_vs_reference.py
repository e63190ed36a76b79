"""The tile model's closed-form compute cycles equal the cycle-by-cycle
reference, and the reference computes the right numbers (A @ W, wrapped)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from mappings.dataflow import Dataflow
from simulator.arch import PEArraySpec
from simulator.reference import WSArrayRef, wrap
from simulator.tile_model import compute_timing
from workloads.layers import GemmShape
from workloads.pruning import prune_nm
from workloads.sparsity import NM, satisfies_nm

PE_CONFIGS = [(1, 1), (1, 2), (1, 4), (2, 4), (2, 8), (4, 8)]


@st.composite
def cases(draw):
    n, m = draw(st.sampled_from(PE_CONFIGS))
    dense = n == m or draw(st.booleans())
    return {
        "rows": draw(st.integers(1, 4)),
        "cols": draw(st.integers(1, 4)),
        "n": n,
        "m": m,
        "dense": dense,
        "gemm": GemmShape(
            draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(1, 20))
        ),
        "acc_bits": draw(st.sampled_from([16, 32])),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


def _operands(case):
    rng = np.random.default_rng(case["seed"])
    g = case["gemm"]
    a = rng.integers(-128, 128, size=(g.m, g.k))
    w = rng.integers(-128, 128, size=(g.k, g.n))
    # sparse mode needs weights that satisfy the PE's N:M along K
    if not case["dense"]:
        w, _ = prune_nm(w, NM(case["n"], case["m"]), axis=0)
    # all-zero groups and extremes appear often enough on their own at these sizes,
    # but force some: zero a random column and pin one extreme pair
    if g.n > 1:
        w[:, rng.integers(g.n)] = 0
    a[0, 0], w[0, 0] = -128, -128 if case["dense"] or w[0, 0] else 0
    return a, w


@given(cases())
def test_reference_output_is_the_gemm(case):
    a, w = _operands(case)
    ref = WSArrayRef(case["rows"], case["cols"], case["n"], case["m"], case["acc_bits"])
    run = ref.run_gemm(a, w, dense=case["dense"])
    expected = np.vectorize(lambda v: wrap(int(v), case["acc_bits"]))(a @ w)
    np.testing.assert_array_equal(run.output, expected)


@given(cases())
def test_tile_model_cycles_equal_reference(case):
    a, w = _operands(case)
    n, m = case["n"], case["m"]
    ref = WSArrayRef(case["rows"], case["cols"], n, m, case["acc_bits"])
    run = ref.run_gemm(a, w, dense=case["dense"])
    array = PEArraySpec(
        rows=case["rows"],
        cols=case["cols"],
        multipliers=n,
        nm_patterns=() if n == m else (NM(n, m),),
    )
    pattern = None if case["dense"] else NM(n, m)
    timing = compute_timing(case["gemm"], array, Dataflow.WS, pattern)
    assert timing.compute_cycles == run.cycles
    assert timing.grid.folds == len(run.fold_cycles)
    assert set(run.fold_cycles) == {timing.cycles_per_fold}


def test_sparse_mode_halves_folds_for_2_4():
    """2:4 on a 2-multiplier PE reduces 4 K elements per cycle instead of 2."""
    array = PEArraySpec(rows=4, cols=4, multipliers=2, nm_patterns=(NM(2, 4),))
    g = GemmShape(8, 8, 64)
    dense = compute_timing(g, array, Dataflow.WS, None)
    sparse = compute_timing(g, array, Dataflow.WS, NM(2, 4))
    assert dense.grid.folds == 2 * sparse.grid.folds
    assert dense.cycles_per_fold == sparse.cycles_per_fold == 4 + 4 + 4 - 2 + 8


def test_reference_rejects_a_mask_that_breaks_the_pattern():
    ref = WSArrayRef(1, 1, 1, 4)
    w = np.array([[1], [2], [0], [0]])
    try:
        ref.run_gemm(np.ones((1, 4), int), w, dense=False)
    except ValueError as err:
        assert "nonzeros > N" in str(err)
    else:
        raise AssertionError("a 2-nonzero window must not run on a 1:4 PE")
    assert not satisfies_nm(w, NM(1, 4))
