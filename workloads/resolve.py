"""Turn a `--workload` argument into a Workload: the one place that knows every
form a workload can take."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from workloads.apply import apply_sparsity
from workloads.errors import WorkloadError
from workloads.layers import Layer, with_batch
from workloads.sparsity_spec import SparsitySpec
from workloads.specs import SHAPE_FORMS, build_workload, parse_shape
from workloads.training import training_workload
from workloads.workload import Workload
from workloads.zoo import zoo_names, zoo_workload

DIGITS_MODELS = ("digits-mlp", "digits-cnn")
FILE_TYPES = {
    ".json": "saved workload",
    ".onnx": "ONNX model",
    ".csv": "SCALE-Sim topology",
    ".safetensors": "state dict",
    ".npz": "state dict",
    ".pt": "PyTorch state dict",
    ".pth": "PyTorch state dict",
}
WORKLOAD_FORMS = (
    f"a zoo name ({', '.join(zoo_names())}), {', '.join(DIGITS_MODELS)} (trained on the fly), "
    f"a file ({', '.join(FILE_TYPES)}), an inline shape: {SHAPE_FORMS}; "
    "prefix train: for the forward and backward GEMMs (e.g. train:resnet50)"
)

__all__ = ["WORKLOAD_FORMS", "load_workload", "read_workload_file", "with_batch"]


def read_workload_file(path: str | Path) -> Workload:
    """A workload from a file, by its type (FILE_TYPES)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in FILE_TYPES:
        raise WorkloadError(str(p), "file type", suffix or p.name, ", ".join(FILE_TYPES))
    if not p.is_file():
        raise WorkloadError(str(p), "file", str(p), "an existing file")
    if suffix == ".json":
        from workloads.saved import read_workload

        return read_workload(p)
    if suffix == ".onnx":
        from workloads.onnx_import import read_onnx  # onnx is imported only for .onnx files

        return read_onnx(p)
    if suffix == ".csv":
        from workloads.scalesim_csv import read_topology

        return read_topology(p)
    from workloads.state_dict import read_state_dict

    return read_state_dict(p)


def _batched(workload: Workload, batch: int) -> Workload:
    if batch == 1:
        return workload

    def scale(layer: Layer | None) -> Layer | None:
        return None if layer is None else with_batch(layer, batch, suffix=False)

    layers = [
        dataclasses.replace(lw, layer=scale(lw.layer), unpruned=scale(lw.unpruned))
        for lw in workload.layers
    ]
    return workload.replace_layers(layers)


def _base(text: str, spec: SparsitySpec, batch: int, seed: int, min_density: float) -> Workload:
    """The workload before sparsity (inline shapes: already pruned, random weights)."""
    if text in zoo_names():
        return zoo_workload(text, batch)
    if text in DIGITS_MODELS:
        from workloads.digits import digits_workload  # trains in seconds (scikit-learn data)

        return _batched(digits_workload(text.removeprefix("digits-"), seed=seed), batch)
    if Path(text).suffix.lower() in FILE_TYPES:
        return _batched(read_workload_file(text), batch)
    if text.startswith(("gemm:", "conv:")):
        layer = with_batch(parse_shape(text), batch)
        return build_workload([layer], spec, seed=seed, min_density=min_density)
    raise WorkloadError("--workload", "workload", text, WORKLOAD_FORMS)


def load_workload(
    text: str, spec: SparsitySpec, *, batch: int = 1, seed: int = 0, min_density: float = 0.01
) -> Workload:
    """A workload from a `--workload` argument (WORKLOAD_FORMS), pruned to `spec` (seeded;
    `min_density` is the per-layer floor of global magnitude pruning)."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise WorkloadError("--batch", "batch", batch, "an integer >= 1")
    train = text.startswith("train:")
    inner = text.removeprefix("train:")
    base = _base(inner, spec, batch, seed, min_density)
    inline = inner.startswith(("gemm:", "conv:"))
    pruned = base if inline else apply_sparsity(base, spec, seed=seed, min_density=min_density)
    return training_workload(pruned) if train else pruned
