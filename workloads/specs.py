"""Parsing of the CLI's inline workload shapes and sparsity specs, and building
a workload with real (seeded random int8) weights pruned to the spec."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from workloads.errors import WorkloadError
from workloads.layers import Conv2d, Gemm, Layer
from workloads.pruning import prune_nm
from workloads.sparsity import NM
from workloads.workload import LayerWorkload, Workload

SHAPE_FORMS = "gemm:MxNxK (e.g. gemm:1024x1024x1024) or conv:HxWxC:RxSxK[:stride]"
SPARSITY_FORMS = "dense, nm:N:M (1 <= N <= M)"

_GEMM = re.compile(r"^gemm:(\d+)x(\d+)x(\d+)$")
_CONV = re.compile(r"^conv:(\d+)x(\d+)x(\d+):(\d+)x(\d+)x(\d+)(?::(\d+))?$")


def parse_shape(text: str, source: str = "--workload") -> Layer:
    """Parse an inline shape (`gemm:MxNxK`, `conv:HxWxC:RxSxK[:stride]`) into a layer."""
    if mt := _GEMM.match(text):
        m, n, k = map(int, mt.groups())
        if min(m, n, k) < 1:
            raise WorkloadError(source, "gemm dimensions", text, "positive integers")
        return Gemm(name=text, m=m, n=n, k=k)
    if mt := _CONV.match(text):
        h, w, c, r, s, k = map(int, mt.groups()[:6])
        stride = int(mt.group(7) or 1)
        if min(h, w, c, r, s, k, stride) < 1 or r > h or s > w:
            raise WorkloadError(
                source, "conv dimensions", text, "positive integers with R <= H and S <= W"
            )
        return Conv2d(name=text, h=h, w=w, c=c, r=r, s=s, k=k, stride=stride)
    raise WorkloadError(source, "workload", text, SHAPE_FORMS)


@dataclass(frozen=True, slots=True)
class SparsitySpec:
    """What to prune to: `dense` or an N:M pattern along the reduction dimension."""

    kind: str  # "dense" | "nm"
    pattern: NM | None = None

    def __str__(self) -> str:
        return "dense" if self.kind == "dense" else f"nm:{self.pattern.n}:{self.pattern.m}"


def parse_sparsity(text: str, source: str = "--sparsity") -> SparsitySpec:
    parts = text.strip().lower().split(":")
    if parts == ["dense"]:
        return SparsitySpec("dense")
    if parts[0] == "nm" and len(parts) == 3 and all(p.isdigit() for p in parts[1:]):
        n, m = int(parts[1]), int(parts[2])
        if not 1 <= n <= m:
            raise WorkloadError(source, "N:M", text, "1 <= N <= M (e.g. nm:2:4)")
        return SparsitySpec("nm", NM(n, m))
    raise WorkloadError(source, "sparsity", text, SPARSITY_FORMS)


def random_int8_weights(layer: Layer, rng: np.random.Generator) -> np.ndarray:
    """Uniform random int8 weights in GEMM view (K x N), the full range -128..127."""
    g = layer.gemm()
    return rng.integers(-128, 128, size=(g.k, g.n), dtype=np.int8)


def sparsify(layer: Layer, weights: np.ndarray, spec: SparsitySpec) -> LayerWorkload:
    """Prune real weights to `spec` (magnitude N:M along K) and keep the mask."""
    if spec.kind == "dense":
        return LayerWorkload(layer, weights=weights, mask=np.ones(weights.shape, bool))
    pruned, mask = prune_nm(weights, spec.pattern, axis=0)
    return LayerWorkload(
        layer, weights=pruned, mask=mask, density=spec.pattern.density, pattern=spec.pattern
    )


def build_workload(
    layers: list[Layer], spec: SparsitySpec, seed: int = 0, name: str | None = None
) -> Workload:
    """Random int8 weights (seeded) for each layer, pruned to `spec`."""
    rng = np.random.default_rng(seed)
    lws = tuple(sparsify(layer, random_int8_weights(layer, rng), spec) for layer in layers)
    return Workload(name or "+".join(lw.name for lw in lws), lws, sparsity=str(spec))
