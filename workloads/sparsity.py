"""N:M patterns and mask predicates (pure numpy, no hardware knowledge).

Conventions (DESIGN.md): *density* is the nonzero fraction, *sparsity* is
1 - density. An N:M mask has at most N nonzeros in every group of M
consecutive elements along the reduction dimension; a trailing partial
group (K not a multiple of M) is treated as if zero-padded to M.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True, order=True)
class NM:
    """An N:M pattern: at most `n` nonzeros in every group of `m` along K."""

    n: int
    m: int

    def __post_init__(self) -> None:
        if not (isinstance(self.n, int) and isinstance(self.m, int)):
            raise TypeError(f"NM needs ints, got {self.n!r}:{self.m!r}")
        if not 1 <= self.n <= self.m:
            raise ValueError(f"N:M needs 1 <= N <= M, got {self.n}:{self.m}")

    @property
    def is_dense(self) -> bool:
        return self.n == self.m

    @property
    def density(self) -> float:
        return self.n / self.m

    @property
    def index_bits(self) -> int:
        """Bits of one stored index: ceil(log2 M) (0 for M = 1)."""
        return math.ceil(math.log2(self.m)) if self.m > 1 else 0

    def __str__(self) -> str:
        return f"{self.n}:{self.m}"


DENSE = NM(1, 1)


def grouped(mask: np.ndarray, m: int, axis: int = 0) -> np.ndarray:
    """View `mask` as groups of `m` along `axis`: shape (..., groups, m), zero-padded."""
    moved = np.moveaxis(np.asarray(mask), axis, -1)
    k = moved.shape[-1]
    pad = (-k) % m
    if pad:
        moved = np.concatenate([moved, np.zeros((*moved.shape[:-1], pad), moved.dtype)], axis=-1)
    return moved.reshape(*moved.shape[:-1], -1, m)


def satisfies_nm(mask: np.ndarray, pattern: NM, axis: int = 0) -> bool:
    """True if every group of `pattern.m` along `axis` has at most `pattern.n` nonzeros."""
    if pattern.is_dense:
        return True
    counts = np.count_nonzero(grouped(mask, pattern.m, axis), axis=-1)
    return bool(np.all(counts <= pattern.n))


def density(mask: np.ndarray) -> float:
    """Nonzero fraction of a mask or tensor (1.0 for an empty tensor)."""
    arr = np.asarray(mask)
    return float(np.count_nonzero(arr) / arr.size) if arr.size else 1.0


def finest_nm(mask: np.ndarray, ms: tuple[int, ...] = (2, 4, 8, 16), axis: int = -2) -> NM | None:
    """The sparsest N:M (lowest N/M, then smallest M) among group sizes `ms` that
    `mask` satisfies along `axis`, or None if it satisfies none below dense.

    Labels masks that came with a model file (a 2:4-pruned checkpoint reads as 2:4).
    """
    best: NM | None = None
    for m in ms:
        if m > np.shape(mask)[axis]:  # a group wider than the axis is all padding
            continue
        counts = np.count_nonzero(grouped(mask, m, axis), axis=-1)
        n = max(int(counts.max(initial=0)), 1)
        if n < m and (best is None or n / m < best.density):
            best = NM(n, m)
    return best
