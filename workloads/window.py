"""A convolution's sliding window over its GEMM tiles: which input elements a
tile reads. The one place this geometry lives; accesses, capacity and the
memory timing ask it (through `simulator.formats.OperandBytes`).

The GEMM of one group: rows m = (n, p, q), q innermost (the order of
`Conv2d.lower_activations`). The reduction k: a K tile that is a whole number
of filter windows (tk = C_t x R x S) is a block of C_t channels under the
whole window (the im2col of a C_t-channel slab: Timeloop's and Eyeriss' nests
tile C with R and S inside, and the array still sees the block's columns in
the lowering's (r, s, c) order); any other K tile is a contiguous range of
the (r, s, c) order (channel innermost) inside its parent tile's block.

A tile's footprint is the bounding box N_t x C_t x H_t x W_t of the input it
touches, H_t = (P_t - 1) stride + (R_t - 1) dilation + 1 (W alike), over the
padded input. That is Timeloop's count: its input tensor is the padded one,
and its tiles are axis-aligned boxes (with a stride beyond the window the
rows it skips are inside the box).

Successive tiles (Timeloop v3, `nest-analysis.cpp` `ComputeDeltas` with
`SaveAndSubtractIfSameStride`): a level fetches only the part of a tile the
tile before did not hold when the tile moved by the same translation as the
move before (or the move before reset); a new translation resets (the whole
tile again). So a loop sliding a window over its tiles fetches each halo
once, and wrapping to the next row, channel block or image starts anew. Each
run of the innermost loop starts with its whole tile: Timeloop carries its
state across runs, which differs only where a run's wrap happens to repeat
the move before, or a run ends on a reset (row tiles wrapping rows unevenly).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np


def tile_ranges(
    extent: int, chain: tuple[int, ...], depth: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """[start, end) of every tile of the innermost size in `chain` (sizes outer
    to inner, each outer tile cut into tiles of the next size from its own
    start, edge tiles shorter), in loop order; and the index of each one's
    ancestor at `depth` (0: the whole extent; 1: the tiles of chain[0]; ...)."""
    starts, ends = np.zeros(1, np.int64), np.full(1, extent, np.int64)
    anc = np.zeros(1, np.int64)
    for i, t in enumerate(chain):
        if i == depth:
            anc = np.arange(len(starts))
        parent, offset = _cut(ends - starts, t)
        new_starts = starts[parent] + offset
        ends = np.minimum(new_starts + t, ends[parent])
        starts, anc = new_starts, anc[parent]
    if depth >= len(chain):
        anc = np.arange(len(starts))
    return starts, ends, anc


def _cut(lengths: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Ranges of the given lengths, each cut into pieces of `t` from its start
    (the last one shorter): per piece, the index of its range and its offset in it."""
    if len(lengths) == 1:  # one range: a plain arange (cheaper than repeat and cumsum)
        offset = np.arange(0, int(lengths[0]), t, dtype=np.int64)
        return np.zeros(len(offset), np.int64), offset
    counts = -(-lengths // t)
    parent = np.repeat(np.arange(len(lengths)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    return parent, t * (np.arange(int(counts.sum())) - first)


def digit_ranges(
    j0: np.ndarray, j1: np.ndarray, radices: tuple
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per digit (most significant first) of a mixed-radix number, its least
    value and its span (max - min) over the contiguous range j0..j1 (inclusive):
    the first digit where the ends differ spans from one end's digit to the
    other's; every less significant digit covers its whole radix (least 0)."""
    d0, d1 = [], []
    for r in reversed(radices):
        j0, a = np.divmod(j0, r)
        j1, b = np.divmod(j1, r)
        d0.append(a)
        d1.append(b)
    d0.reverse()
    d1.reverse()
    # the most significant digit: nothing above it differs
    lows, spans = [d0[0]], [d1[0] - d0[0]]
    crossed = d0[0] != d1[0]
    for i in range(1, len(radices)):
        a, b, r = d0[i], d1[i], radices[i]
        lows.append(np.where(crossed, 0, a))
        spans.append(np.where(crossed, np.asarray(r) - 1, b - a))
        if i < len(radices) - 1:
            crossed = crossed | (a != b)
    return lows, spans


@dataclass(frozen=True, slots=True, eq=False)
class _Parts:
    """Per tile along one GEMM axis, its share of the input box: the range along
    the axis it alone decides (images or channels: [lo, lo + size)) and its
    parts of the height and width ranges (lo, span), which the other axis's
    tile adds to."""

    lo: np.ndarray
    size: np.ndarray
    y_lo: np.ndarray
    y_span: np.ndarray
    x_lo: np.ndarray
    x_span: np.ndarray
    run: np.ndarray  # the ancestor tile a run of successive tiles shares


def _delta_pairs(parts: _Parts) -> np.ndarray:
    """Per tile, whether Timeloop fetches it as a delta against the tile before
    (same run, and the move is the move before, or the move before reset)."""
    n = len(parts.lo)
    if n < 2:
        return np.zeros(n, bool)
    if n < FEW_TILES:  # numpy's per-call overhead dominates: the same rule in Python
        return np.array(_delta_list(parts), bool)
    same_run = parts.run[1:] == parts.run[:-1]
    delta = np.zeros(n, bool)
    delta[1:] = same_run
    # a tile two or more into its run resets when its move differs from the one
    # before, unless the tile before reset (then it is a delta whatever the move)
    moved_otherwise = np.zeros(n - 2, bool)
    for corner in (parts.lo, parts.y_lo, parts.x_lo):
        move = np.diff(corner)  # move[i - 1]: tile i - 1 -> i
        moved_otherwise |= move[1:] != move[:-1]
    changed = np.zeros(n, bool)
    changed[2:] = moved_otherwise & same_run[1:] & same_run[:-1]
    if not changed.any():
        return delta  # every tile of a run moved as the one before: no resets
    # within a block of consecutive changes the resets alternate (reset, delta, ...)
    starts = changed & ~np.concatenate(([False], changed[:-1]))
    block = np.cumsum(starts)
    first = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    reset = changed & ((np.arange(n) - first) % 2 == 0) & (block > 0)
    return delta & ~reset


def _few_row_parts(window: InputWindow, chain: tuple[int, ...], depth: int) -> _Parts | None:
    """`InputWindow._row_parts` tile by tile when the tiles are few (numpy's
    per-call overhead dominates there), else None. The same integers: tiles as
    `tile_ranges` cuts them, least digits and digit spans as `digit_ranges`
    takes them."""
    starts, ends, anc = [0], [window.rows], [0]
    for i, t in enumerate(chain):
        if i == depth:
            anc = list(range(len(starts)))
        if sum(-(-(e - s) // t) for s, e in zip(starts, ends, strict=True)) >= FEW_ROW_TILES:
            return None
        cut = [
            (s, min(s + t, e), a)
            for s0, e, a in zip(starts, ends, anc, strict=True)
            for s in range(s0, e, t)
        ]
        starts, ends, anc = [c[0] for c in cut], [c[1] for c in cut], [c[2] for c in cut]
    if depth >= len(chain):
        anc = list(range(len(starts)))
    radices = (window.batch, window.out_h, window.out_w)
    cols: list[list[int]] = [[] for _ in range(6)]
    for s, e in zip(starts, ends, strict=True):
        d0, d1, j0, j1 = [], [], s, e - 1
        for r in reversed(radices):
            j0, a = divmod(j0, r)
            j1, b = divmod(j1, r)
            d0.append(a)
            d1.append(b)
        d0.reverse()
        d1.reverse()
        spans, crossed = [], False
        for a, b, r in zip(d0, d1, radices, strict=True):
            spans.append(r - 1 if crossed else b - a)
            crossed = crossed or a != b
        low, crossed = [], False
        for a, span in zip(d0, spans, strict=True):
            low.append(0 if crossed else a)
            crossed = crossed or span > 0
        for col, v in zip(cols, (*low, *spans), strict=True):
            col.append(v)
    n_lo, p_lo, q_lo, n, p, q = (np.array(c, np.int64) for c in cols)
    return _Parts(
        n_lo, n + 1, p_lo * window.stride_h, p * window.stride_h,
        q_lo * window.stride_w, q * window.stride_w, np.array(anc, np.int64),
    )  # fmt: skip


def _delta_list(parts: _Parts) -> list[bool]:
    """`_delta_pairs` tile by tile (few tiles)."""
    lo, y, x, run = (a.tolist() for a in (parts.lo, parts.y_lo, parts.x_lo, parts.run))
    delta = [False] + [run[i] == run[i - 1] for i in range(1, len(run))]
    out = list(delta)
    first, changed_before = 0, False  # the start of the current block of changes
    for i in range(2, len(run)):
        changed = (
            delta[i]
            and delta[i - 1]
            and (
                lo[i] - lo[i - 1] != lo[i - 1] - lo[i - 2]
                or y[i] - y[i - 1] != y[i - 1] - y[i - 2]
                or x[i] - x[i - 1] != x[i - 1] - x[i - 2]
            )
        )
        if changed and not changed_before:
            first = i
        if changed and (i - first) % 2 == 0:
            out[i] = False  # a reset: the whole tile again
        changed_before = changed
    return out


# the tiles of an axis are enumerated (numpy arrays): beyond this many GEMM rows
# or reduction elements a layer's input is counted as a plain matrix instead
MAX_EXTENT = 1 << 24


@dataclass(frozen=True, slots=True)
class InputWindow:
    """One group's sliding window (see the module docstring). `transposed`: the
    operand's rows index the forward reduction (a backward-weight pass reads X^T)."""

    batch: int
    out_h: int
    out_w: int
    channels: int
    r: int
    s: int
    stride_h: int = 1
    stride_w: int = 1
    dilation_h: int = 1
    dilation_w: int = 1
    transposed: bool = False
    # hashed and sized once: every cache of the geometry below keys on the window,
    # and every footprint in bytes divides by its elements
    _hash: int = field(init=False, repr=False, compare=False)
    _elements: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        key = (
            self.batch, self.out_h, self.out_w, self.channels, self.r, self.s,
            self.stride_h, self.stride_w, self.dilation_h, self.dilation_w, self.transposed,
        )  # fmt: skip
        # (frozen: set once, here)
        object.__setattr__(self, "_hash", hash(key))
        object.__setattr__(self, "_elements", self.batch * self.channels * self.height * self.width)

    def __hash__(self) -> int:
        return self._hash

    @property
    def height(self) -> int:
        return (self.out_h - 1) * self.stride_h + (self.r - 1) * self.dilation_h + 1

    @property
    def width(self) -> int:
        return (self.out_w - 1) * self.stride_w + (self.s - 1) * self.dilation_w + 1

    @property
    def elements(self) -> int:
        """The whole input one group reads: N x C x H x W (padded, as touched)."""
        return self._elements

    @property
    def distinct_elements(self) -> int:
        """Input elements some output reads (what must cross at least once): less
        than `elements` when a stride skips rows or columns the box holds."""

        def axis(out: int, taps: int, stride: int, dilation: int) -> int:
            at = np.arange(out)[:, None] * stride + np.arange(taps)[None, :] * dilation
            return len(np.unique(at))

        return (
            self.batch
            * self.channels
            * axis(self.out_h, self.r, self.stride_h, self.dilation_h)
            * axis(self.out_w, self.s, self.stride_w, self.dilation_w)
        )

    @property
    def enumerable(self) -> bool:
        """Whether its tiles can be enumerated (`MAX_EXTENT`)."""
        return max(self.rows, self.reduction) <= MAX_EXTENT

    @property
    def rows(self) -> int:
        """GEMM extent of the output positions (n, p, q)."""
        return self.batch * self.out_h * self.out_w

    @property
    def reduction(self) -> int:
        """GEMM extent of the reduction (c, r, s)."""
        return self.channels * self.r * self.s

    def _row_parts(self, chain: tuple[int, ...], depth: int = 0) -> _Parts:
        few = _few_row_parts(self, chain, depth)
        if few is not None:
            return few
        starts, ends, run = tile_ranges(self.rows, chain, depth)
        radices = (self.batch, self.out_h, self.out_w)
        (n_lo, p_lo, q_lo), (n, p, q) = digit_ranges(starts, ends - 1, radices)
        return _Parts(
            n_lo, n + 1, p_lo * self.stride_h, p * self.stride_h,
            q_lo * self.stride_w, q * self.stride_w, run,
        )  # fmt: skip

    def _reduction_parts(self, chain: tuple[int, ...], depth: int = 0) -> _Parts:
        window = self.r * self.s
        c0 = np.zeros(1, np.int64)
        cb = np.full(1, self.channels, np.int64)
        run = np.zeros(1, np.int64)
        ranged = None  # (j0, j1) inside each tile's block, once a tile cuts the window
        for i, t in enumerate(chain):
            if i == depth:
                run = np.arange(len(c0))
            if ranged is None and t % window == 0:  # blocks of whole windows
                per = t // window
                parent, off = _cut(cb, per)
                c0, cb, run = c0[parent] + off, np.minimum(per, cb[parent] - off), run[parent]
                continue
            j0, j1 = ranged if ranged is not None else (np.zeros_like(c0), cb * window)
            parent, offset = _cut(j1 - j0, t)
            s0 = j0[parent] + offset
            ranged = (s0, np.minimum(s0 + t, j1[parent]))
            c0, cb, run = c0[parent], cb[parent], run[parent]
        if depth >= len(chain):
            run = np.arange(len(c0))
        if ranged is None:
            zero = np.zeros_like(c0)
            return _Parts(
                c0, cb, zero, np.full_like(cb, (self.r - 1) * self.dilation_h),
                zero, np.full_like(cb, (self.s - 1) * self.dilation_w), run,
            )  # fmt: skip
        j0, j1 = ranged
        radices = (self.r, self.s, cb)
        (r_lo, s_lo, c_lo), (r, s, c) = digit_ranges(j0, j1 - 1, radices)
        return _Parts(
            c0 + c_lo, c + 1, r_lo * self.dilation_h, r * self.dilation_h,
            s_lo * self.dilation_w, s * self.dilation_w, run,
        )  # fmt: skip

    def _parts(self, m_chain: tuple[int, ...], k_chain: tuple[int, ...]):
        if self.transposed:
            m_chain, k_chain = k_chain, m_chain
        return self._row_parts(m_chain), self._reduction_parts(k_chain)

    def boxes(self, m_chain: tuple[int, ...], k_chain: tuple[int, ...]) -> np.ndarray:
        """Every tile's footprint: [row tile, reduction tile] of the forward conv
        (the operand's (m, k) swapped when `transposed`), tiles in loop order."""
        rows, red = self._parts(m_chain, k_chain)
        return (
            (rows.size[:, None] * red.size[None, :])
            * (rows.y_span[:, None] + red.y_span[None, :] + 1)
            * (rows.x_span[:, None] + red.x_span[None, :] + 1)
        )

    def footprints(self, m_chain: tuple[int, ...], k_chain: tuple[int, ...]) -> tuple[float, float]:
        """(the sum of every tile's footprint, the largest (a bound: per axis the
        largest)) over the tiles the chains of tile sizes (outer to inner, in the
        whole GEMM) cut the GEMM's (m, k) into. A box is N C (a + b)(c + d) with
        a, c from the row tile and b, d from the reduction tile, so the sum over
        every pair is a few sums per axis (remembered per chain)."""
        if self.transposed:
            m_chain, k_chain = k_chain, m_chain
        n, na, nc, nac, n_max, a_max, c_max = _axis_sums(self, m_chain, True)
        ch, chb, chd, chbd, ch_max, b_max, d_max = _axis_sums(self, k_chain, False)
        total = nac * ch + na * chd + nc * chb + n * chbd
        largest = n_max * ch_max * (a_max + b_max) * (c_max + d_max)
        return float(total), float(largest)

    def sliding_overlap(
        self, m_chain: tuple[int, ...], k_chain: tuple[int, ...], axis: str, depth: int
    ) -> float:
        """The elements successive tiles share and a level does not fetch again,
        summed, when the innermost moving loop above the level runs over the
        GEMM's `axis` ("m" or "k"), its run of tiles inside the tiles of chain
        depth `depth` (Timeloop's delta rule, module docstring)."""
        moving_rows = (axis == "m") != self.transposed
        m_c, k_c = (k_chain, m_chain) if self.transposed else (m_chain, k_chain)
        mov_chain, other_chain = (m_c, k_c) if moving_rows else (k_c, m_c)
        pairs = _slid_pairs(self, mov_chain, depth, moving_rows)
        if pairs is None:
            return 0.0
        total = 0.0
        groups = _span_groups(self, other_chain, not moving_rows)
        if isinstance(pairs, list):  # few tiles (`_slid_pairs`): whole numbers, exact sums
            for (ys, xs), weight in groups:
                total += weight * float(
                    sum(
                        count * sh * max(a + ys + 1, 0) * max(b + xs + 1, 0)
                        for (sh, a, b), count in pairs
                    )
                )
            return total
        shared, oy, ox = pairs
        # the fixed tile of the other axis widens both overlaps by its span
        for (ys, xs), weight in groups:
            total += weight * float(
                (shared * np.maximum(oy + ys + 1, 0) * np.maximum(ox + xs + 1, 0)).sum()
            )
        return total

    def tile_fetch(self, tile: tuple[int, int], index: tuple[int, int], axis: str | None) -> float:
        """Elements a level fetches for the tile at `index` = (m tile, k tile) of a
        one-level tiling by `tile` = (tm, tk): its footprint, less what the tile
        before shares when the innermost moving loop runs over `axis` (None:
        no sliding) and Timeloop's rule takes it as a delta."""
        tm, tk = tile
        im, ik = index
        if self.transposed:
            tm, tk, im, ik = tk, tm, ik, im
            axis = None if axis is None else ("k" if axis == "m" else "m")
        rows = _row_parts(self, (tm,), 0)
        red = _reduction_parts(self, (tk,), 0)
        box = (
            rows.size[im] * red.size[ik]
            * (rows.y_span[im] + red.y_span[ik] + 1)
            * (rows.x_span[im] + red.x_span[ik] + 1)
        )  # fmt: skip
        if axis is None:
            return float(box)
        mov, i, j = (rows, im, ik) if axis == "m" else (red, ik, im)
        other = red if axis == "m" else rows
        if not _deltas(mov)[i]:
            return float(box)
        lo = max(mov.lo[i], mov.lo[i - 1])
        hi = min(mov.lo[i] + mov.size[i], mov.lo[i - 1] + mov.size[i - 1])
        oy = min(mov.y_lo[i] + mov.y_span[i], mov.y_lo[i - 1] + mov.y_span[i - 1]) - max(
            mov.y_lo[i], mov.y_lo[i - 1]
        )
        ox = min(mov.x_lo[i] + mov.x_span[i], mov.x_lo[i - 1] + mov.x_span[i - 1]) - max(
            mov.x_lo[i], mov.x_lo[i - 1]
        )
        shared = (
            max(hi - lo, 0) * other.size[j]
            * max(oy + other.y_span[j] + 1, 0) * max(ox + other.x_span[j] + 1, 0)
        )  # fmt: skip
        return float(box - shared)


@functools.lru_cache(maxsize=1024)
def _row_parts(window: InputWindow, chain: tuple[int, ...], depth: int) -> _Parts:
    return window._row_parts(chain, depth)


@functools.lru_cache(maxsize=1024)
def _reduction_parts(window: InputWindow, chain: tuple[int, ...], depth: int) -> _Parts:
    return window._reduction_parts(chain, depth)


@functools.lru_cache(maxsize=1024)
def _axis_sums(window: InputWindow, chain: tuple[int, ...], rows: bool) -> tuple[float, ...]:
    """Per axis, what `InputWindow.footprints` combines: rows: sums of N, N a,
    N c, N a c and the largest N, a, c; reduction: of C, C b, C d, C b d and the
    largest C, b, d (a, b: height parts, c, d: width parts)."""
    parts = _row_parts(window, chain, 0) if rows else _reduction_parts(window, chain, 0)
    if len(parts.size) < FEW_TILES:  # few tiles: whole numbers, summed exactly either way
        size, y, x = parts.size.tolist(), parts.y_span.tolist(), parts.x_span.tolist()
        if not rows:
            y, x = [v + 1 for v in y], [v + 1 for v in x]
        return (
            float(sum(size)),
            float(sum(c * a for c, a in zip(size, y, strict=True))),
            float(sum(c * b for c, b in zip(size, x, strict=True))),
            float(sum(c * a * b for c, a, b in zip(size, y, x, strict=True))),
            float(max(size)), float(max(y)), float(max(x)),
        )  # fmt: skip
    size = parts.size.astype(float)
    y, x = parts.y_span.astype(float), parts.x_span.astype(float)
    if not rows:
        y, x = y + 1.0, x + 1.0
    return (
        float(size.sum()), float((size * y).sum()), float((size * x).sum()),
        float((size * y * x).sum()), float(size.max()), float(y.max()), float(x.max()),
    )  # fmt: skip


@functools.lru_cache(maxsize=1024)
def _slid_pairs(window: InputWindow, chain: tuple[int, ...], depth: int, rows: bool):
    """Over the tiles fetched as a delta along one axis: the images (channels)
    they share with the tile before, and how far their height and width parts
    overlap it (may be negative: apart), as three arrays, or for few tiles as
    ((shared, oy, ox), how many) pairs; None when no tile is a delta."""
    mov = _row_parts(window, chain, depth) if rows else _reduction_parts(window, chain, depth)
    delta = _deltas(mov)
    if not delta.any():
        return None
    if len(delta) < FEW_TILES:
        # few tiles: the distinct (shared, oy, ox) with how many deltas have them (the
        # sums are of whole numbers: exact in any order)
        lo, size = mov.lo.tolist(), mov.size.tolist()
        y_lo, y_span = mov.y_lo.tolist(), mov.y_span.tolist()
        x_lo, x_span = mov.x_lo.tolist(), mov.x_span.tolist()
        counted: dict[tuple[float, int, int], int] = {}
        for i in np.nonzero(delta)[0].tolist():
            j = i - 1
            key = (
                float(max(min(lo[i] + size[i], lo[j] + size[j]) - max(lo[i], lo[j]), 0)),
                min(y_lo[i] + y_span[i], y_lo[j] + y_span[j]) - max(y_lo[i], y_lo[j]),
                min(x_lo[i] + x_span[i], x_lo[j] + x_span[j]) - max(x_lo[i], x_lo[j]),
            )
            counted[key] = counted.get(key, 0) + 1
        return list(counted.items())
    i = np.nonzero(delta)[0]
    lo = np.maximum(mov.lo[i], mov.lo[i - 1])
    hi = np.minimum(mov.lo[i] + mov.size[i], mov.lo[i - 1] + mov.size[i - 1])
    shared = np.maximum(hi - lo, 0).astype(float)
    oy = np.minimum(mov.y_lo[i] + mov.y_span[i], mov.y_lo[i - 1] + mov.y_span[i - 1])
    oy = oy - np.maximum(mov.y_lo[i], mov.y_lo[i - 1])
    ox = np.minimum(mov.x_lo[i] + mov.x_span[i], mov.x_lo[i - 1] + mov.x_span[i - 1])
    ox = ox - np.maximum(mov.x_lo[i], mov.x_lo[i - 1])
    return shared, oy, ox


@functools.lru_cache(maxsize=1024)
def _span_groups(window: InputWindow, chain: tuple[int, ...], rows: bool):
    """The tiles along one axis grouped by their (height, width) spans, with
    their images (channels) summed."""
    parts = _row_parts(window, chain, 0) if rows else _reduction_parts(window, chain, 0)
    if len(parts.size) < SMALL_GROUPING:  # (as `_grouped` does, without stacking the keys)
        y, x = parts.y_span.tolist(), parts.x_span.tolist()
        return _summed_in_order(zip(y, x, strict=True), parts.size.astype(float).tolist())
    return _grouped(np.stack([parts.y_span, parts.x_span], axis=1), parts.size)


@functools.lru_cache(maxsize=256)
def _deltas(parts: _Parts) -> np.ndarray:
    """`_delta_pairs` of cached parts (hashed by identity)."""
    return _delta_pairs(parts)


# tiles along an axis below which the window's geometry goes tile by tile in Python
# (numpy's per-call overhead dominates; measured on res2a): row parts, deltas and overlaps
# (row parts: even at 8 tiles once `_cut` made the numpy enumeration cheaper)
FEW_ROW_TILES = 8
FEW_TILES = 64
SMALL_GROUPING = 256  # rows below which `_grouped` sums in Python (numpy's overhead dominates)


def _summed_in_order(keys, weights: list[float]) -> list[tuple[tuple[int, int], float]]:
    """(key, summed weight) over the distinct keys, sorted, each sum in key order."""
    sums: dict[tuple[int, int], float] = {}
    for key, w in zip(keys, weights, strict=True):
        sums[key] = sums.get(key, 0.0) + w
    return sorted(sums.items())


def _grouped(keys: np.ndarray, weights: np.ndarray) -> list[tuple[tuple[int, int], float]]:
    """(key, summed weight) over the distinct rows of `keys` (n x 2), in the rows'
    lexicographic order, each sum taken in row order (as np.bincount does)."""
    if len(keys) < SMALL_GROUPING:
        return _summed_in_order(map(tuple, keys.tolist()), weights.astype(float).tolist())
    # each row coded as one integer that sorts as the row does (np.unique over
    # rows, axis=0, is several times slower)
    first, second = keys[:, 0].astype(np.int64), keys[:, 1].astype(np.int64)
    f0, s0 = int(first.min()), int(second.min())
    width = int(second.max()) - s0 + 1
    uniq, inverse = np.unique((first - f0) * width + (second - s0), return_inverse=True)
    sums_ = np.bincount(inverse.ravel(), weights=weights.astype(float), minlength=len(uniq))
    return [
        ((int(code) // width + f0, int(code) % width + s0), float(w))
        for code, w in zip(uniq, sums_, strict=True)
    ]


__all__ = ["MAX_EXTENT", "InputWindow", "digit_ranges", "tile_ranges"]
