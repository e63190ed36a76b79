"""Workloads: the layer IR, sparsity patterns, pruning. Knows nothing of hardware."""

from workloads.errors import InputError, WorkloadError
from workloads.layers import Conv2d, Gemm, GemmShape, Layer
from workloads.pruning import nm_keep_indices, nm_mask, prune_nm
from workloads.sparsity import DENSE, NM, density, satisfies_nm
from workloads.specs import (
    SparsitySpec,
    build_workload,
    parse_shape,
    parse_sparsity,
    sparsify,
)
from workloads.workload import LayerWorkload, Workload

__all__ = [
    "DENSE",
    "NM",
    "Conv2d",
    "Gemm",
    "GemmShape",
    "InputError",
    "Layer",
    "LayerWorkload",
    "SparsitySpec",
    "Workload",
    "WorkloadError",
    "build_workload",
    "density",
    "nm_keep_indices",
    "nm_mask",
    "parse_shape",
    "parse_sparsity",
    "prune_nm",
    "satisfies_nm",
    "sparsify",
]
