"""A convolution's sliding window over its GEMM tiles (workloads.window) against
brute force: the input elements each tile touches, Timeloop's delta between
successive tiles, and the simulator's counts built on them."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from test_accesses import one_level_edge

from mappings.dataflow import Dataflow, Operand
from mappings.mapping import LOOP_ORDERS
from simulator.simulate import plan_layer, simulate_layer
from simulator.tiling import LoopNest, analytic_traffic, enumerate_steps, glb_mapping
from workloads import window as window_module
from workloads.layers import Conv2d, Gemm, Pass, PassLayer, input_window
from workloads.window import InputWindow
from workloads.workload import LayerWorkload


@st.composite
def windows(draw):
    return InputWindow(
        batch=draw(st.integers(1, 2)),
        out_h=draw(st.integers(1, 5)),
        out_w=draw(st.integers(1, 5)),
        channels=draw(st.integers(1, 4)),
        r=draw(st.integers(1, 3)),
        s=draw(st.integers(1, 3)),
        stride_h=draw(st.integers(1, 3)),
        stride_w=draw(st.integers(1, 3)),
        dilation_h=draw(st.integers(1, 2)),
        dilation_w=draw(st.integers(1, 2)),
    )


def chain(draw, extent: int, window: int = 1) -> tuple[int, ...]:
    """1-2 nested tile sizes, sometimes whole windows (a channel block)."""
    sizes = []
    for _ in range(draw(st.integers(1, 2))):
        top = sizes[-1] if sizes else extent
        if window > 1 and top >= window and draw(st.booleans()):
            sizes.append(window * draw(st.integers(1, max(1, top // window))))
        else:
            sizes.append(draw(st.integers(1, top)))
    return tuple(sizes)


@st.composite
def tiled(draw):
    w = draw(windows())
    return w, chain(draw, w.rows), chain(draw, w.reduction, w.r * w.s)


def row_sets(w: InputWindow, sizes: tuple[int, ...]) -> list[list[tuple[int, int, int]]]:
    """Rows (n, p, q), q innermost, cut into nested contiguous tiles."""
    tiles = [list(range(w.rows))]
    for t in sizes:
        tiles = [tile[i : i + t] for tile in tiles for i in range(0, len(tile), t)]
    pq = w.out_h * w.out_w
    return [[(m // pq, m % pq // w.out_w, m % w.out_w) for m in tile] for tile in tiles]


def reduction_sets(w: InputWindow, sizes: tuple[int, ...]) -> list[list[tuple[int, int, int]]]:
    """The reduction (c, r, s) as the docstring of workloads.window cuts it: a tile
    of whole windows is a channel block; else a range of (r, s, c) in its block."""
    segs: list[tuple[str, list]] = [("block", list(range(w.channels)))]
    window = w.r * w.s
    for t in sizes:
        new = []
        for kind, items in segs:
            if kind == "block" and t % window == 0:
                per = t // window
                new += [("block", items[i : i + per]) for i in range(0, len(items), per)]
                continue
            if kind == "block":
                items = [(c, r, s) for r in range(w.r) for s in range(w.s) for c in items]
            new += [("range", items[i : i + t]) for i in range(0, len(items), t)]
        segs = new
    out = []
    for kind, items in segs:
        if kind == "block":
            items = [(c, r, s) for c in items for r in range(w.r) for s in range(w.s)]
        out.append(items)
    return out


def touched(w: InputWindow, rows, red) -> set[tuple[int, int, int, int]]:
    return {
        (n, c, p * w.stride_h + r * w.dilation_h, q * w.stride_w + s * w.dilation_w)
        for (n, p, q), (c, r, s) in itertools.product(rows, red)
    }


def bounding_box(points) -> set[tuple[int, int, int, int]]:
    lo = [min(p[i] for p in points) for i in range(4)]
    hi = [max(p[i] for p in points) for i in range(4)]
    return set(itertools.product(*(range(a, b + 1) for a, b in zip(lo, hi, strict=True))))


@given(tiled())
def test_each_tile_footprint_is_the_box_of_the_inputs_it_touches(case):
    """Every tile's footprint equals the bounding box of the input elements its
    rows and reduction range touch, counted by brute force; it holds at least
    every element touched (equal when the window covers the box densely)."""
    w, m_chain, k_chain = case
    rows, red = row_sets(w, m_chain), reduction_sets(w, k_chain)
    boxes = w.boxes(m_chain, k_chain)
    assert boxes.shape == (len(rows), len(red))
    for (i, rs), (j, ks) in itertools.product(enumerate(rows), enumerate(red)):
        pts = touched(w, rs, ks)
        assert boxes[i, j] == len(bounding_box(pts))
        assert boxes[i, j] >= len(pts)
    total, largest = w.footprints(m_chain, k_chain)
    assert total == pytest.approx(float(boxes.sum()))
    assert largest >= boxes.max()
    # the reduction tiles partition the reduction, the row tiles the rows
    assert sorted(x for ks in red for x in ks) == sorted(
        itertools.product(range(w.channels), range(w.r), range(w.s))
    )


@given(windows())
def test_one_tile_of_the_whole_layer_is_the_input_tensor(w):
    total, largest = w.footprints((w.rows,), (w.reduction,))
    assert total == largest == w.elements
    everything = touched(w, row_sets(w, (w.rows,))[0], reduction_sets(w, (w.reduction,))[0])
    assert w.elements == len(bounding_box(everything))
    assert w.distinct_elements == len(everything)


@given(tiled())
def test_a_backward_weight_pass_reads_the_same_boxes_transposed(case):
    w, m_chain, k_chain = case
    t = dataclasses.replace(w, transposed=True)
    assert (t.boxes(k_chain, m_chain) == w.boxes(m_chain, k_chain)).all()
    assert t.footprints(k_chain, m_chain) == w.footprints(m_chain, k_chain)


def timeloop_fetches(w: InputWindow, tiles, inner: str, fresh_runs: bool) -> int:
    """Timeloop v3's delta rule stepped over the tiles of a one-level tiling, the
    `inner` axis innermost, on the boxes as sets of elements. `fresh_runs`: each
    run of the inner loop starts with its whole tile (sparsim's convention);
    else the state carries across runs as Timeloop's does."""
    m_tiles, k_tiles = tiles
    order = (
        [(i, j) for j in range(len(k_tiles)) for i in range(len(m_tiles))]
        if inner == "m"
        else [(i, j) for i in range(len(m_tiles)) for j in range(len(k_tiles))]
    )
    run_len = len(m_tiles) if inner == "m" else len(k_tiles)
    prev: set = set()
    prev_move = None  # None: null (after a reset, or at the start)
    fetched = 0
    for pos, (i, j) in enumerate(order):
        box = bounding_box(touched(w, m_tiles[i], k_tiles[j]))
        if fresh_runs and pos % run_len == 0:
            prev, prev_move = set(), None
        move = None
        if prev:
            move = tuple(x - y for x, y in zip(min(box), min(prev), strict=True))
        if prev_move is None:
            fetched += len(box - prev)
            prev_move = move
        elif move == prev_move:
            fetched += len(box - prev)
        else:
            fetched += len(box)
            prev_move = None
        prev = box
    return fetched


@given(windows(), st.data(), st.sampled_from("mk"))
def test_successive_tiles_fetch_what_timeloop_fetches(w, data, inner):
    """The footprints less the slid-over overlap equal Timeloop's delta rule
    stepped element by element within each run of the innermost loop, each run
    starting with its whole tile; that is Timeloop's count whenever there is one
    run (Timeloop carries its state across runs, which differs only where a
    run's wrap happens to repeat the move before or a run ends on a reset)."""
    tm = data.draw(st.integers(1, w.rows))
    tk = data.draw(st.integers(1, w.reduction))
    tiles = (row_sets(w, (tm,)), reduction_sets(w, (tk,)))
    total, _ = w.footprints((tm,), (tk,))
    ours = total - w.sliding_overlap((tm,), (tk,), inner, 0)
    assert ours == timeloop_fetches(w, tiles, inner, fresh_runs=True)
    if len(tiles[1 if inner == "m" else 0]) == 1:
        assert ours == timeloop_fetches(w, tiles, inner, fresh_runs=False)
    # the per-tile form the memory timing steps sums to the same count
    per_tile = sum(
        w.tile_fetch((tm, tk), (i, j), inner)
        for i in range(len(tiles[0]))
        for j in range(len(tiles[1]))
    )
    assert per_tile == pytest.approx(ours)


def test_res2a_dram_inputs_are_timeloops():
    """ResNet-50 res2a_branch2b under Timeloop's Eyeriss mapping (DRAM loops Q 8,
    C 4; GLB tile C 16 x R 3 x S 3 x P 56 x Q 7): 8 x 4 tiles of 16 x 58 x 9."""
    w = Conv2d("res2a", 58, 58, 64, 3, 3, 64).input_window()
    assert w.elements == 58 * 58 * 64
    total, largest = w.footprints((392,), (144,))
    assert largest == 16 * 9 * 58
    assert total == 8 * 4 * 16 * 9 * 58 == 267_264
    # the same rows with the reduction cut at one filter tap: no halo shared
    assert w.footprints((392,), (64,))[0] == 3136 * 576


@st.composite
def conv_nests(draw):
    h, wd = draw(st.integers(3, 9)), draw(st.integers(3, 9))
    c, k = draw(st.integers(1, 8)), draw(st.integers(1, 16))
    r, s = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, pad = draw(st.integers(1, 2)), draw(st.integers(0, 1))
    assume((h + 2 * pad - r) // stride >= 0 and (wd + 2 * pad - s) // stride >= 0)
    layer = Conv2d("c", h, wd, c, r, s, k, stride=stride, padding=pad)
    g = layer.gemm()
    tile = tuple(draw(st.integers(max(1, -(-d // 6)), d)) for d in (g.m, g.n, g.k))
    return layer, tile, draw(st.sampled_from(LOOP_ORDERS)), draw(st.sampled_from(list(Dataflow)))


@given(conv_nests())
def test_conv_dram_inputs_equal_the_steps_the_memory_model_walks(case):
    """A conv under one GLB tiling: the DRAM input bytes the access model counts
    equal the input loads of the steps the memory simulation walks, and the
    closed form `analytic_traffic`; never below the compulsory input."""
    layer, tile, order, df = case
    arch = one_level_edge()
    lw = LayerWorkload(layer)
    res = simulate_layer(lw, arch, glb_mapping(df, tile, order))
    plan = plan_layer(lw, arch)
    assert plan.sizes.window == input_window(layer)
    nest = LoopNest(plan.gemm, plan.groups, tile, order)
    loads = sum(
        b * s.weight
        for s in enumerate_steps(nest, plan.sizes, None)
        for op, b in s.loads
        if op is Operand.INPUTS
    )
    dram = res.levels["dram"]["accesses"]["inputs"]["reads_bytes"]
    assert dram == pytest.approx(loads)
    assert dram == pytest.approx(analytic_traffic(nest, plan.sizes).inputs)
    assert dram >= plan.sizes.compulsory_inputs * (1 - 1e-9)
    g = plan.gemm
    whole = simulate_layer(lw, arch, glb_mapping(df, (g.m, g.n, g.k), order))
    assert whole.levels["dram"]["accesses"]["inputs"]["reads_bytes"] == pytest.approx(
        plan.sizes.inputs
    )
    assert whole.compulsory_dram_bytes >= plan.sizes.compulsory_inputs


def test_only_convolution_inputs_have_a_window():
    conv = Conv2d("c", 8, 8, 4, 3, 3, 8, padding=1)
    assert input_window(Gemm("g", 4, 4, 4)) is None
    assert input_window(PassLayer(conv, Pass.BACKWARD_DATA)) is None
    assert input_window(PassLayer(conv, Pass.FORWARD)) == conv.input_window()
    assert input_window(PassLayer(conv, Pass.BACKWARD_WEIGHT)).transposed
    # padded: the window reads the padded ifmap (Timeloop's input tensor)
    assert conv.input_window().elements == 10 * 10 * 4


@given(windows(), st.data())
def test_aligned_tiles_with_unit_stride_read_exactly_their_box(w, data):
    """Whole-row tiles of the outputs and channel blocks under the whole window,
    stride and dilation 1 (the tiles a Timeloop nest cuts): the footprint is the
    number of distinct input elements the tile touches, counted by brute force."""
    w = dataclasses.replace(w, stride_h=1, stride_w=1, dilation_h=1, dilation_w=1)
    rows_per = data.draw(st.sampled_from([d for d in range(1, w.out_h + 1) if w.out_h % d == 0]))
    chans = data.draw(st.sampled_from([d for d in range(1, w.channels + 1) if w.channels % d == 0]))
    m_chain, k_chain = (rows_per * w.out_w,), (chans * w.r * w.s,)
    boxes = w.boxes(m_chain, k_chain)
    rows, red = row_sets(w, m_chain), reduction_sets(w, k_chain)
    for (i, rs), (j, ks) in itertools.product(enumerate(rows), enumerate(red)):
        assert boxes[i, j] == len(touched(w, rs, ks))


@given(
    st.integers(1, 3 * window_module.SMALL_GROUPING),
    st.integers(1, 40),
    st.booleans(),
    st.integers(0, 2**31 - 1),
)
def test_span_grouping_sums_as_numpy_unique_and_bincount(rows, spread, whole, seed):
    """Both ways `_grouped` sums (Python below SMALL_GROUPING rows, integer codes
    above) give np.unique(axis=0) + np.bincount's keys, order and sums exactly."""
    rng = np.random.default_rng(seed)
    keys = rng.integers(-2, spread, size=(rows, 2))
    weights = rng.integers(1, 1000, size=rows) if whole else rng.random(rows) * 100
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=weights.astype(float), minlength=len(uniq))
    expected = [((int(k[0]), int(k[1])), float(w)) for k, w in zip(uniq, sums, strict=True)]
    assert window_module._grouped(keys, weights) == expected


@given(windows(), st.lists(st.integers(1, 60), min_size=1, max_size=3), st.data())
def test_few_row_tiles_are_cut_as_numpy_cuts_them(w, chain, data):
    """Row parts of few tiles (built tile by tile) equal the numpy enumeration's."""
    depth = data.draw(st.integers(0, len(chain)))
    few = window_module._few_row_parts(w, tuple(chain), depth)
    assume(few is not None)
    starts, ends, run = window_module.tile_ranges(w.rows, tuple(chain), depth)
    radices = (w.batch, w.out_h, w.out_w)
    (n_lo, p_lo, q_lo), (n, p, q) = window_module.digit_ranges(starts, ends - 1, radices)
    expected = (n_lo, n + 1, p_lo * w.stride_h, p * w.stride_h, q_lo * w.stride_w,
                q * w.stride_w, run)  # fmt: skip
    got = (few.lo, few.size, few.y_lo, few.y_span, few.x_lo, few.x_span, few.run)
    for a, b in zip(got, expected, strict=True):
        assert a.dtype == b.dtype and a.tolist() == b.tolist()


@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(0, 2)), max_size=40),
    st.integers(0, 2**31 - 1),
)
def test_few_tiles_take_timeloops_deltas_as_numpy_does(moves, seed):
    """`_delta_list` (few tiles) marks the same deltas and resets as the numpy rule."""
    assume(len(moves) >= 2)
    rng = np.random.default_rng(seed)
    lo, y, x = (np.cumsum([m[i] for m in moves]) for i in range(3))
    run = np.sort(rng.integers(0, 3, size=len(moves)))
    parts = window_module._Parts(lo, lo, y, y, x, x, run)
    small = window_module.FEW_TILES
    try:
        window_module.FEW_TILES = 0  # the numpy rule
        expected = window_module._delta_pairs(parts).tolist()
    finally:
        window_module.FEW_TILES = small
    assert window_module._delta_list(parts) == expected


@given(windows(), st.lists(st.integers(1, 60), min_size=1, max_size=3), st.booleans())
def test_few_tile_axis_sums_are_numpys(w, chain, rows):
    """`_axis_sums` of few tiles (Python integers) equals the numpy float sums."""
    few = window_module._axis_sums.__wrapped__(w, tuple(chain), rows)
    small = window_module.FEW_TILES
    try:
        window_module.FEW_TILES = 0  # the numpy sums
        expected = window_module._axis_sums.__wrapped__(w, tuple(chain), rows)
    finally:
        window_module.FEW_TILES = small
    assert few == expected
