"""Layer IR: GEMM and conv layers, and their GEMM view.

GEMM naming follows DESIGN.md: `m` rows of the output, `n` columns of the
output, `k` the reduction. Weights of every layer are seen as a K x N matrix
(reduction along axis 0), activations as M x K. A conv lowers to that GEMM
by im2col: M = output pixels x batch, N = filters, K = R*S*C with the
channel innermost, so N:M groups run along input channels as on sparse
tensor cores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class GemmShape:
    """Output is m x n; k is the reduction dimension."""

    m: int
    n: int
    k: int

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k


@dataclass(frozen=True, slots=True)
class Gemm:
    name: str
    m: int
    n: int
    k: int

    def gemm(self) -> GemmShape:
        return GemmShape(self.m, self.n, self.k)

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k

    @property
    def input_elements(self) -> int:
        """Elements of the activation tensor as stored (what crosses DRAM)."""
        return self.m * self.k

    def lower_activations(self, activations: np.ndarray) -> np.ndarray:
        """The M x K activation matrix (already in GEMM form)."""
        return np.asarray(activations).reshape(self.m, self.k)


@dataclass(frozen=True, slots=True)
class Conv2d:
    """A 2-D convolution; ifmap h x w x c, filters r x s x c x k, no groups (yet)."""

    name: str
    h: int
    w: int
    c: int
    r: int
    s: int
    k: int
    stride: int = 1
    padding: int = 0
    batch: int = 1

    @property
    def out_h(self) -> int:
        return (self.h + 2 * self.padding - self.r) // self.stride + 1

    @property
    def out_w(self) -> int:
        return (self.w + 2 * self.padding - self.s) // self.stride + 1

    def gemm(self) -> GemmShape:
        return GemmShape(self.batch * self.out_h * self.out_w, self.k, self.r * self.s * self.c)

    @property
    def macs(self) -> int:
        return self.gemm().macs

    @property
    def input_elements(self) -> int:
        """Elements of the ifmap as stored; im2col's R*S-fold copies are made on chip."""
        return self.batch * self.h * self.w * self.c

    def lower_activations(self, ifmap: np.ndarray) -> np.ndarray:
        """im2col: (batch, h, w, c) ifmap -> (batch*P*Q, R*S*C), channel innermost."""
        x = np.asarray(ifmap).reshape(self.batch, self.h, self.w, self.c)
        p = self.padding
        if p:
            x = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
        cols = np.empty((self.batch, self.out_h, self.out_w, self.r, self.s, self.c), x.dtype)
        for i in range(self.r):
            for j in range(self.s):
                cols[:, :, :, i, j, :] = x[
                    :,
                    i : i + self.stride * self.out_h : self.stride,
                    j : j + self.stride * self.out_w : self.stride,
                    :,
                ]
        return cols.reshape(self.batch * self.out_h * self.out_w, self.r * self.s * self.c)


Layer = Gemm | Conv2d
