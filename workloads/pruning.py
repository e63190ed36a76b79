"""Pruning methods that produce real masks on real weight tensors.

Tie-breaking rule (shared with the RTL N:M compressor `hw/rtl/nm_compressor.sv`
and `simulator.reference.nm_compress`): inside a group the kept positions are
the N with the largest magnitude |w|; among equal magnitudes the *lower index*
wins. Kept positions are reported in ascending index order. For int8 this
means -128 (magnitude 128) beats 127.
"""

from __future__ import annotations

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
