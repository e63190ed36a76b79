"""Turn a `--workload` argument into a Workload: the one place that knows
every form a workload can take (inline shapes for now; zoo names and files
by type as importers land)."""

from __future__ import annotations

import dataclasses

from workloads.errors import WorkloadError
from workloads.layers import Conv2d, Gemm, Layer
from workloads.specs import SHAPE_FORMS, SparsitySpec, build_workload, parse_shape
from workloads.workload import Workload

WORKLOAD_FORMS = f"an inline shape: {SHAPE_FORMS}"


def with_batch(layer: Layer, batch: int) -> Layer:
    """The layer at batch size `batch` (GEMM: M grows; conv: the batch field)."""
    if batch == 1:
        return layer
    if isinstance(layer, Gemm):
        return dataclasses.replace(layer, m=layer.m * batch, name=f"{layer.name}@b{batch}")
    if isinstance(layer, Conv2d):
        return dataclasses.replace(layer, batch=batch, name=f"{layer.name}@b{batch}")
    raise TypeError(f"no batch rule for {type(layer).__name__}")


def load_workload(text: str, spec: SparsitySpec, *, batch: int = 1, seed: int = 0) -> Workload:
    """A workload from a `--workload` argument, pruned to `spec` (seeded)."""
    if batch < 1:
        raise WorkloadError("--batch", "batch", batch, "an integer >= 1")
    if ":" not in text:
        raise WorkloadError("--workload", "workload", text, WORKLOAD_FORMS)
    layer = with_batch(parse_shape(text), batch)
    return build_workload([layer], spec, seed=seed)
