"""Pruning methods that produce real masks on real weight tensors.

Tie-breaking rule (shared with the RTL N:M compressor `hw/rtl/nm_compressor.sv`
and `simulator.reference.nm_compress`): inside a group the kept positions are
the N with the largest magnitude |w|; among equal magnitudes the *lower index*
wins. Kept positions are reported in ascending index order. For int8 this
means -128 (magnitude 128) beats 127.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from workloads.sparsity import NM, grouped


def nm_keep_indices(group: np.ndarray, n: int) -> np.ndarray:
    """Indices (ascending) of the `n` entries kept in one group by the tie-breaking rule."""
    mags = np.abs(np.asarray(group).astype(np.float64))
    # Stable sort on -|w| keeps the lower index first among equal magnitudes.
    order = np.argsort(-mags, kind="stable")
    return np.sort(order[:n])


def nm_mask(weights: np.ndarray, pattern: NM, axis: int = 0) -> np.ndarray:
    """Boolean N:M mask of `weights` along `axis` (the reduction dimension).

    Vectorised form of `nm_keep_indices` applied to every group.
    """
    w = np.asarray(weights)
    if pattern.is_dense:
        return np.ones(w.shape, dtype=bool)
    g = grouped(np.abs(w.astype(np.float64)), pattern.m, axis)
    # Padding of a partial last group is zero-magnitude and sits at the highest
    # indices, so it is only kept when the real entries run out; it is dropped below.
    order = np.argsort(-g, axis=-1, kind="stable")
    keep = np.zeros(g.shape, dtype=bool)
    np.put_along_axis(keep, order[..., : pattern.n], True, axis=-1)
    moved_shape = np.moveaxis(w, axis, -1).shape
    keep = keep.reshape(*moved_shape[:-1], -1)[..., : moved_shape[-1]]
    return np.moveaxis(keep, -1, axis)


def prune_nm(weights: np.ndarray, pattern: NM, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Magnitude N:M pruning along `axis`: returns (pruned weights, mask)."""
    mask = nm_mask(weights, pattern, axis)
    return np.where(mask, weights, 0).astype(np.asarray(weights).dtype), mask


# --- Unstructured, structured and scheduled pruning -------------------------------------
#
# Every method returns a boolean mask of the weights' shape. Shapes are GEMM
# views: (K, N) or (groups, K, N), reduction along axis -2. "sparsity" is the
# fraction removed (DESIGN.md), in [0, 1). Ties between equal magnitudes are
# broken as in N:M pruning: the lower (flat) index wins, so results are
# deterministic and counts are exact.


def check_sparsity(sparsity: float) -> float:
    if not 0.0 <= float(sparsity) < 1.0:
        raise ValueError(f"sparsity = {sparsity!r}; allowed: 0 <= S < 1 (fraction removed)")
    return float(sparsity)


def kept_count(size: int, sparsity: float) -> int:
    """Entries kept when `sparsity` of `size` are removed (rounded to the nearest entry)."""
    return size - round(check_sparsity(sparsity) * size)


def _top_mask(scores: np.ndarray, keep: int) -> np.ndarray:
    """Flat bool mask of the `keep` largest scores, lower index first among ties."""
    flat = scores.ravel()
    order = np.argsort(-flat, kind="stable")
    mask = np.zeros(flat.shape, dtype=bool)
    mask[order[:keep]] = True
    return mask.reshape(scores.shape)


def _magnitudes(weights: np.ndarray) -> np.ndarray:
    return np.abs(np.asarray(weights).astype(np.float64))


def magnitude_mask(weights: np.ndarray, sparsity: float) -> np.ndarray:
    """Per-layer magnitude pruning: keep the largest |w| (Han et al., 2015)."""
    w = np.asarray(weights)
    return _top_mask(_magnitudes(w), kept_count(w.size, sparsity))


def global_magnitude_masks(
    weights: Sequence[np.ndarray], sparsity: float, min_density: float = 0.01
) -> list[np.ndarray]:
    """Global magnitude pruning: one |w| threshold across all layers.

    Each layer first keeps its largest `ceil(min_density * size)` weights (at
    least one), so no layer collapses to nothing (the failure global pruning
    is known for at high sparsity); the rest of the budget goes to the
    largest remaining |w| of the whole network.
    """
    if not 0.0 <= min_density <= 1.0:
        raise ValueError(f"min_density = {min_density!r}; allowed: 0 <= d <= 1")
    if not weights:  # nothing with real weights: nothing to rank
        return []
    mags = [_magnitudes(w).ravel() for w in weights]
    sizes = [m.size for m in mags]
    total_keep = kept_count(sum(sizes), sparsity)
    # min_density = 0 is plain global magnitude pruning (no floor)
    floors = [min(s, max(1, math.ceil(min_density * s))) if min_density else 0 for s in sizes]
    reserved = [_top_mask(m, f) for m, f in zip(mags, floors, strict=True)]
    budget = max(total_keep - sum(int(r.sum()) for r in reserved), 0)
    scores = np.concatenate([np.where(r, -np.inf, m) for m, r in zip(mags, reserved, strict=True)])
    chosen = _top_mask(scores, budget) if scores.size else scores.astype(bool)
    chosen &= np.isfinite(scores)
    out, start = [], 0
    for w, r, size in zip(weights, reserved, sizes, strict=True):
        out.append((r | chosen[start : start + size]).reshape(np.shape(w)))
        start += size
    return out


def random_mask(shape: tuple[int, ...], sparsity: float, rng: np.random.Generator) -> np.ndarray:
    """Exactly `round(sparsity * size)` entries removed, chosen uniformly at random."""
    size = math.prod(shape)
    mask = np.zeros(size, dtype=bool)
    mask[rng.permutation(size)[: kept_count(size, sparsity)]] = True
    return mask.reshape(shape)


def _tiles(a: np.ndarray, bk: int, bn: int, fill: float) -> np.ndarray:
    """(..., K, N) -> (..., K/bk, N/bn, bk, bn), padded with `fill`."""
    k, n = a.shape[-2:]
    pk, pn = (-k) % bk, (-n) % bn
    if pk or pn:
        a = np.pad(a, [(0, 0)] * (a.ndim - 2) + [(0, pk), (0, pn)], constant_values=fill)
    lead = a.shape[:-2]
    t = a.reshape(*lead, (k + pk) // bk, bk, (n + pn) // bn, bn)
    return np.swapaxes(t, -3, -2)


def _untile(t: np.ndarray, k: int, n: int) -> np.ndarray:
    lead = t.shape[:-4]
    kt, nt, bk, bn = t.shape[-4:]
    a = np.swapaxes(t, -3, -2).reshape(*lead, kt * bk, nt * bn)
    return a[..., :k, :n]


def block_mask(weights: np.ndarray, block: tuple[int, int], sparsity: float) -> np.ndarray:
    """Block sparsity: remove whole bk x bn blocks of the (K, N) view with the lowest
    mean |w| (edge blocks are scored on their real entries). `block=(g, 1)` is
    group (vector) sparsity along the reduction dimension (Mao et al., 2017)."""
    bk, bn = block
    if bk < 1 or bn < 1:
        raise ValueError(f"block = {block!r}; allowed: positive sizes")
    w = np.asarray(weights)
    k, n = w.shape[-2:]
    sums = _tiles(_magnitudes(w), bk, bn, 0.0).sum(axis=(-2, -1))
    counts = _tiles(np.ones((k, n)), bk, bn, 0.0).sum(axis=(-2, -1))
    keep_blocks = _top_mask(sums / counts, kept_count(sums.size, sparsity))
    tiles = np.broadcast_to(keep_blocks[..., None, None], (*keep_blocks.shape, bk, bn))
    return np.ascontiguousarray(_untile(tiles, k, n))


def channel_keep(weights: np.ndarray, sparsity: float, axis: int = -1) -> np.ndarray:
    """Indices (ascending) of the channels kept by L1-norm filter pruning (Li et al., 2017).

    `axis=-1` ranks output channels (the N columns of the GEMM view); at least
    one channel is kept.
    """
    w = np.moveaxis(_magnitudes(weights), axis, -1)
    norms = w.reshape(-1, w.shape[-1]).sum(axis=0)
    keep = max(1, kept_count(norms.size, sparsity))
    return np.flatnonzero(_top_mask(norms, keep))


def bidirectional_nm_mask(weights: np.ndarray, pattern: NM) -> np.ndarray:
    """A transposable N:M mask: N:M along K (rows, for W) and along N (for W^T).

    Used for sparse training, where backward-data multiplies by W^T and reduces
    over N (Hubara et al., 2021, "Accelerated sparse neural training"; SAT's
    bidirectional weight pruning). Each M x M tile of the (K, N) view keeps at
    most N entries in every row and every column: greedily by magnitude; a
    full tile where greedy ends short of N per row is solved as N successive
    maximum-weight perfect matchings, which always exist, so full tiles hold
    exactly N per row and per column (density N/M).
    """
    w = np.asarray(weights)
    if pattern.is_dense:
        return np.ones(w.shape, dtype=bool)
    n, m = pattern.n, pattern.m
    k_dim, n_dim = w.shape[-2:]
    tiles = _tiles(_magnitudes(w), m, m, -1.0)  # padding ranks below every real weight
    real = _tiles(np.ones((k_dim, n_dim), bool), m, m, False)
    real = np.broadcast_to(real, tiles.shape)
    flat = tiles.reshape(-1, m * m)
    valid = real.reshape(-1, m * m)
    t_count = flat.shape[0]
    order = np.argsort(-flat, axis=1, kind="stable")
    keep = np.zeros(flat.shape, dtype=bool)
    rows = np.zeros((t_count, m), dtype=np.int64)
    cols = np.zeros((t_count, m), dtype=np.int64)
    t_idx = np.arange(t_count)
    for j in range(m * m):
        idx = order[:, j]
        r, c = idx // m, idx % m
        ok = (rows[t_idx, r] < n) & (cols[t_idx, c] < n) & valid[t_idx, idx]
        keep[t_idx, idx] = ok
        rows[t_idx, r] += ok
        cols[t_idx, c] += ok
    short = np.flatnonzero(valid.all(axis=1) & (keep.sum(axis=1) < n * m))
    if short.size:
        from scipy.optimize import linear_sum_assignment  # only for the rare short tiles

        for t in short:
            mag = flat[t].reshape(m, m)
            used = np.zeros((m, m), dtype=bool)
            for _ in range(n):
                cost = np.where(used, np.inf, -mag)
                cost = np.where(np.isinf(cost), 1e300, cost)
                r_i, c_i = linear_sum_assignment(cost)
                used[r_i, c_i] = True
            keep[t] = used.ravel()
    return _untile(keep.reshape(tiles.shape), k_dim, n_dim).copy()


def blockdiag_mask(shape: tuple[int, ...], blocks: int) -> np.ndarray:
    """Block-diagonal weights (one factor of Monarch, Dao et al., ICML 2022): the (K, N)
    view cut into `blocks` x `blocks` blocks of ceil(K/blocks) x ceil(N/blocks), only
    the diagonal ones kept, so input block i feeds output block i alone (density
    about 1/blocks). Structural: it depends on the shape, not on the values; a
    leading groups axis gets the same mask per group."""
    if blocks < 1:
        raise ValueError(f"blocks = {blocks!r}; allowed: a positive integer")
    k, n = shape[-2:]
    bk, bn = -(-k // blocks), -(-n // blocks)
    row_block = np.arange(k) // bk
    col_block = np.arange(n) // bn
    mask = row_block[:, None] == col_block[None, :]
    return np.ascontiguousarray(np.broadcast_to(mask, tuple(shape)))


def cubic_sparsity(
    step: int, final: float, begin_step: int, end_step: int, initial: float = 0.0
) -> float:
    """Gradual pruning schedule of Zhu & Gupta (2017), "To prune, or not to prune", eq. 1:
    s_t = s_f + (s_i - s_f) (1 - (t - t_0) / (n dt))^3, held at s_i before t_0 and s_f after."""
    check_sparsity(final)
    check_sparsity(initial)
    if end_step <= begin_step:
        return final if step >= begin_step else initial
    frac = min(max((step - begin_step) / (end_step - begin_step), 0.0), 1.0)
    return final + (initial - final) * (1.0 - frac) ** 3
