"""Parsing of the CLI's inline workload shapes and sparsity specs, and building
a workload with real (seeded random int8) weights pruned to the spec."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from workloads.apply import apply_sparsity
from workloads.errors import WorkloadError
from workloads.layers import Conv2d, Gemm, Layer
from workloads.sparsity_spec import SPARSITY_FORMS, Method, SparsitySpec, parse_sparsity
from workloads.workload import LayerWorkload, Workload

__all__ = [
    "SHAPE_FORMS",
    "SPARSITY_FORMS",
    "Method",
    "SparsitySpec",
    "build_workload",
    "parse_shape",
    "parse_sparsity",
    "random_int8_weights",
    "sparsify",
    "with_random_weights",
]

SHAPE_FORMS = "gemm:MxNxK (e.g. gemm:1024x1024x1024) or conv:HxWxC:RxSxK[:stride]"
_N = "([0-9]{1,12})"  # ASCII digits only ('²' is a digit to \d), at most 12 of them
_GEMM = re.compile(rf"gemm:{_N}x{_N}x{_N}")
_CONV = re.compile(rf"conv:{_N}x{_N}x{_N}:{_N}x{_N}x{_N}(?::{_N})?")


def parse_shape(text: str, source: str = "--workload") -> Layer:
    """Parse an inline shape (`gemm:MxNxK`, `conv:HxWxC:RxSxK[:stride]`) into a layer."""
    if mt := _GEMM.fullmatch(text):
        m, n, k = map(int, mt.groups())
        if min(m, n, k) < 1:
            raise WorkloadError(source, "gemm dimensions", text, "positive integers")
        return Gemm(name=text, m=m, n=n, k=k)
    if mt := _CONV.fullmatch(text):
        h, w, c, r, s, k = map(int, mt.groups()[:6])
        stride = int(mt.group(7) or 1)
        if min(h, w, c, r, s, k, stride) < 1 or r > h or s > w:
            raise WorkloadError(
                source, "conv dimensions", text, "positive integers with R <= H and S <= W"
            )
        return Conv2d(name=text, h=h, w=w, c=c, r=r, s=s, k=k, stride=stride)
    raise WorkloadError(source, "workload", text, SHAPE_FORMS)


def random_int8_weights(layer: Layer, rng: np.random.Generator) -> np.ndarray:
    """Uniform random int8 weights in GEMM view ((groups,) K x N), the full range -128..127."""
    g = layer.gemm()
    shape = (g.k, g.n) if layer.groups == 1 else (layer.groups, g.k, g.n)
    return rng.integers(-128, 128, size=shape, dtype=np.int8)


def sparsify(layer: Layer, weights: np.ndarray, spec: SparsitySpec, seed: int = 0) -> LayerWorkload:
    """Prune the real weights of one layer to `spec` and keep the mask."""
    lw = LayerWorkload(layer, weights=weights, mask=np.ones(weights.shape, bool))
    return apply_sparsity(Workload(layer.name, (lw,)), spec, seed=seed).layers[0]


def with_random_weights(layers: Sequence[Layer], seed: int = 0) -> list[LayerWorkload]:
    """Seeded random int8 weights (all kept) for every layer that has weights."""
    rng = np.random.default_rng(seed)
    out = []
    for layer in layers:
        if layer.has_weights:
            w = random_int8_weights(layer, rng)
            out.append(LayerWorkload(layer, weights=w, mask=np.ones(w.shape, bool)))
        else:
            out.append(LayerWorkload(layer))
    return out


def build_workload(
    layers: Sequence[Layer],
    spec: SparsitySpec,
    seed: int = 0,
    name: str | None = None,
    min_density: float = 0.01,
) -> Workload:
    """Random int8 weights (seeded) for each layer, pruned to `spec`."""
    lws = tuple(with_random_weights(layers, seed))
    base = Workload(name or "+".join(lw.name for lw in lws), lws)
    return apply_sparsity(base, spec, seed=seed, min_density=min_density)
