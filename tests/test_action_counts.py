"""simulator.action_counts equals the reference stepping the same tile sequence.

Each GLB tile of a tiled GEMM runs on SystolicArrayRef (WS) as its own GEMM;
the PEs count live and gated multiplier slots as they step (NMPE), and the
per-edge trace gives the PE weight-register writes (chain shifts, swaps).
Summed over the tiles they equal `ws_action_counts`; `ws_folds` gives the
reference's folds per tile and the tile model's fold streams.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from mappings.dataflow import Dataflow, FoldTiming
from simulator.action_counts import ws_action_counts, ws_folds
from simulator.arch import PEArraySpec
from simulator.reference import SystolicArrayRef
from simulator.tile_model import fold_streams
from workloads.layers import GemmShape
from workloads.pruning import prune_nm
from workloads.sparsity import NM

PE_CONFIGS = [(1, 1), (1, 4), (2, 4), (2, 8), (4, 8)]


@st.composite
def tiled_cases(draw):
    n_mult, m_lanes = draw(st.sampled_from(PE_CONFIGS))
    dense = n_mult == m_lanes or draw(st.booleans())
    rows, cols = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    m, n, k = draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(1, 20))
    groups = -(-k // m_lanes)
    tile = (
        draw(st.integers(1, m)),
        draw(st.integers(1, n)),
        m_lanes * draw(st.integers(1, groups)),
    )
    return {
        "pe": (n_mult, m_lanes),
        "dense": dense,
        "array": (rows, cols),
        "shape": (m, n, k),
        "tile": tile,
        "timing": draw(st.sampled_from(list(FoldTiming))),
        "seed": draw(st.integers(0, 2**32 - 1)),
        "zeros": draw(st.sampled_from([0.0, 0.3, 0.7])),
    }


@given(tiled_cases())
def test_action_counts_equal_reference_per_tile(case):
    (n_mult, m_lanes), (rows, cols), (m, n, k) = case["pe"], case["array"], case["shape"]
    rng = np.random.default_rng(case["seed"])
    a = rng.integers(-128, 128, size=(m, k))
    a[rng.random((m, k)) < case["zeros"]] = 0
    w = rng.integers(-128, 128, size=(k, n))
    w[rng.random((k, n)) < 0.2] = 0
    pattern = None if case["dense"] else NM(n_mult, m_lanes)
    if pattern is not None:
        w, _ = prune_nm(w, pattern, axis=0)
    spec = PEArraySpec(
        rows=rows,
        cols=cols,
        multipliers=n_mult,
        nm_patterns=() if n_mult == m_lanes else (NM(n_mult, m_lanes),),
        fold_timing=case["timing"],
    )
    tm, tn, tk = case["tile"]
    live = gated = weight_writes = folds = 0
    for n0 in range(0, n, tn):
        for k0 in range(0, k, tk):
            for m0 in range(0, m, tm):
                ref = SystolicArrayRef(rows, cols, n_mult, m_lanes, Dataflow.WS, case["timing"])
                sub_a, sub_w = a[m0 : m0 + tm, k0 : k0 + tk], w[k0 : k0 + tk, n0 : n0 + tn]
                run = ref.run_gemm(sub_a, sub_w, case["dense"], trace=True)
                folds += len(run.fold_cycles)
                for row in ref.cells:
                    for cell in row:
                        live += cell.pe.live_macs
                        gated += cell.pe.gated_macs
                for edge in run.trace:
                    weight_writes += rows * sum(t.load for t in edge.top)
                    weight_writes += cols * sum(lin.swap for lin in edge.left)
    counts = ws_action_counts(a, w, case["tile"], spec, pattern)
    assert (counts.macs, counts.gated_macs) == (live, gated)
    assert counts.pe_weight_writes == weight_writes
    assert counts.macs == int(((a != 0).astype(int) @ (w != 0).astype(int)).sum())
    sequence = ws_folds(m, n, k, case["tile"], spec, pattern)
    assert len(sequence) == folds
    streams = fold_streams(GemmShape(m, n, k), 1, case["tile"], spec, Dataflow.WS, pattern)
    assert streams.folds == folds
    assert sorted(f.stream_len for f in sequence)[-1] <= case["tile"][0]
    assert sequence[-1].stream_len == streams.last_stream_len
