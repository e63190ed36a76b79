"""Workloads: the layer IR, network graph, importers, zoo, sparsity and pruning.

Knows nothing of hardware. Importers that need optional packages (onnx,
torch) live in their own modules and import those packages lazily:
`workloads.onnx_import`, `workloads.torch_import`, `workloads.state_dict`,
`workloads.scalesim_csv`, `workloads.saved`, `workloads.digits`.

The names below load on first use: `import workloads.errors` stays cheap.
"""

import importlib

# name -> module: loaded on first use (PEP 562), so importing one
# submodule does not load the whole package (and its numpy/networkx) with it
_EXPORTS = {
    "delta_density": "workloads.activations",
    "relu_density": "workloads.activations",
    "threshold_density": "workloads.activations",
    "with_activation_density": "workloads.activations",
    "apply_sparsity": "workloads.apply",
    "prune_channels": "workloads.apply",
    "prune_layer": "workloads.apply",
    "InputError": "workloads.errors",
    "WorkloadError": "workloads.errors",
    "AttentionKind": "workloads.layers",
    "AttentionMatmul": "workloads.layers",
    "Conv2d": "workloads.layers",
    "Gemm": "workloads.layers",
    "GemmShape": "workloads.layers",
    "Layer": "workloads.layers",
    "Pass": "workloads.layers",
    "PassLayer": "workloads.layers",
    "with_batch": "workloads.layers",
    "bidirectional_nm_mask": "workloads.pruning",
    "block_mask": "workloads.pruning",
    "channel_keep": "workloads.pruning",
    "cubic_sparsity": "workloads.pruning",
    "global_magnitude_masks": "workloads.pruning",
    "magnitude_mask": "workloads.pruning",
    "nm_keep_indices": "workloads.pruning",
    "nm_mask": "workloads.pruning",
    "prune_nm": "workloads.pruning",
    "random_mask": "workloads.pruning",
    "load_workload": "workloads.resolve",
    "read_workload_file": "workloads.resolve",
    "DENSE": "workloads.sparsity",
    "NM": "workloads.sparsity",
    "density": "workloads.sparsity",
    "finest_nm": "workloads.sparsity",
    "satisfies_nm": "workloads.sparsity",
    "Method": "workloads.sparsity_spec",
    "SparsitySpec": "workloads.sparsity_spec",
    "parse_sparsity": "workloads.sparsity_spec",
    "build_workload": "workloads.specs",
    "parse_shape": "workloads.specs",
    "sparsify": "workloads.specs",
    "training_workload": "workloads.training",
    "LayerWorkload": "workloads.workload",
    "Workload": "workloads.workload",
    "zoo_names": "workloads.zoo",
    "zoo_workload": "workloads.zoo",
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


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
