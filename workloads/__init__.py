"""Workloads: the layer IR, network graph, importers, zoo, sparsity and pruning.

Knows nothing of hardware. Importers that need optional packages (onnx,
torch) live in their own modules and import those packages lazily:
`workloads.onnx_import`, `workloads.torch_import`, `workloads.state_dict`,
`workloads.scalesim_csv`, `workloads.saved`, `workloads.digits`.
"""

from workloads.activations import (
    delta_density,
    relu_density,
    threshold_density,
    with_activation_density,
)
from workloads.apply import apply_sparsity, prune_channels, prune_layer
from workloads.errors import InputError, WorkloadError
from workloads.layers import (
    AttentionKind,
    AttentionMatmul,
    Conv2d,
    Gemm,
    GemmShape,
    Layer,
    Pass,
    PassLayer,
    with_batch,
)
from workloads.pruning import (
    bidirectional_nm_mask,
    block_mask,
    channel_keep,
    cubic_sparsity,
    global_magnitude_masks,
    magnitude_mask,
    nm_keep_indices,
    nm_mask,
    prune_nm,
    random_mask,
)
from workloads.resolve import load_workload, read_workload_file
from workloads.sparsity import DENSE, NM, density, finest_nm, satisfies_nm
from workloads.sparsity_spec import Method, SparsitySpec, parse_sparsity
from workloads.specs import build_workload, parse_shape, sparsify
from workloads.training import training_workload
from workloads.workload import LayerWorkload, Workload
from workloads.zoo import zoo_names, zoo_workload

__all__ = [
    "DENSE",
    "NM",
    "AttentionKind",
    "AttentionMatmul",
    "Conv2d",
    "Gemm",
    "GemmShape",
    "InputError",
    "Layer",
    "LayerWorkload",
    "Method",
    "Pass",
    "PassLayer",
    "SparsitySpec",
    "Workload",
    "WorkloadError",
    "apply_sparsity",
    "bidirectional_nm_mask",
    "block_mask",
    "build_workload",
    "channel_keep",
    "cubic_sparsity",
    "delta_density",
    "density",
    "finest_nm",
    "global_magnitude_masks",
    "load_workload",
    "magnitude_mask",
    "nm_keep_indices",
    "nm_mask",
    "parse_shape",
    "parse_sparsity",
    "prune_channels",
    "prune_layer",
    "prune_nm",
    "random_mask",
    "read_workload_file",
    "relu_density",
    "satisfies_nm",
    "sparsify",
    "threshold_density",
    "training_workload",
    "with_activation_density",
    "with_batch",
    "zoo_names",
    "zoo_workload",
]
