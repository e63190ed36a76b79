"""A workload: layers with their real weights and masks, or a density descriptor."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workloads.layers import GemmShape, Layer
from workloads.sparsity import NM


@dataclass(frozen=True, slots=True, eq=False)
class LayerWorkload:
    """One layer as the simulator sees it.

    `weights` (K x N, GEMM view) and `mask` (bool, same shape) are present when
    the layer came from real weights; otherwise `density` alone describes it.
    `pattern` is the N:M pattern the layer was pruned to, if any (the mask is
    what counts: the simulator checks which supported pattern it satisfies).
    """

    layer: Layer
    weights: np.ndarray | None = None
    mask: np.ndarray | None = None
    density: float = 1.0
    pattern: NM | None = None

    def __post_init__(self) -> None:
        g = self.gemm
        for name, arr in (("weights", self.weights), ("mask", self.mask)):
            if arr is not None and arr.shape != (g.k, g.n):
                raise ValueError(f"{self.name}: {name} shape {arr.shape} != (K, N) = {(g.k, g.n)}")

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def gemm(self) -> GemmShape:
        return self.layer.gemm()

    @property
    def macs(self) -> int:
        return self.gemm.macs

    @property
    def weight_nonzeros(self) -> int:
        """Nonzero weights kept by the mask (statistical estimate without one)."""
        g = self.gemm
        if self.mask is not None:
            return int(np.count_nonzero(self.mask))
        return round(self.density * g.k * g.n)

    @property
    def effective_macs(self) -> int:
        """MACs whose weight is kept (nonzero in the mask)."""
        return self.gemm.m * self.weight_nonzeros


@dataclass(frozen=True, slots=True, eq=False)
class Workload:
    name: str
    layers: tuple[LayerWorkload, ...]
    sparsity: str = "dense"

    @property
    def macs(self) -> int:
        return sum(lw.macs for lw in self.layers)
