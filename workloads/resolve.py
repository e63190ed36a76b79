"""Turn a `--workload` argument into a Workload: the one place that knows every
form a workload can take."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from workloads.apply import apply_sparsity
from workloads.errors import WorkloadError, note
from workloads.inputs import read_npz, regular_file
from workloads.layers import Layer, PassLayer, with_batch
from workloads.sparsity_spec import SparsitySpec
from workloads.specs import SHAPE_FORMS, build_workload, parse_shape
from workloads.training import training_workload
from workloads.workload import LayerWorkload, Workload
from workloads.zoo import zoo_names, zoo_workload

# Inline shapes get seeded random int8 weights up to this many (a 4096 x 4096 layer is 16.8 M);
# beyond it, weights, mask and pruning temporaries would take gigabytes (gemm:1x60000x60000
# took 7 GB), so the layer runs from descriptors instead.
MAX_RANDOM_WEIGHTS = 2**25
MAX_BATCH = 2**20
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


def read_workload_file(
    path: str | Path,
    *,
    input_shape: Sequence[int] | None = None,
    inputs: str | Path | Mapping[str, np.ndarray] | None = None,
) -> Workload:
    """A workload from a file, by its type (FILE_TYPES).

    `input_shape` ((H, W) or (C, H, W)): the ifmap a state dict's convs run on
    (a state dict stores no activation sizes). `inputs`: sample inputs (an .npz
    of graph-input name -> array, or the mapping) for an ONNX model, run to
    measure each layer's activation density.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in FILE_TYPES:
        raise WorkloadError(str(p), "file type", suffix or p.name, ", ".join(FILE_TYPES))
    regular_file(p, FILE_TYPES[suffix])
    if input_shape is not None and FILE_TYPES[suffix] not in ("state dict", "PyTorch state dict"):
        raise WorkloadError(
            "--input-shape", "input_shape", input_shape, "only with a state dict (.safetensors, "
            ".npz, .pt, .pth): other files know their activation shapes",
        )  # fmt: skip
    if inputs is not None and suffix != ".onnx":
        raise WorkloadError(
            "--inputs", "inputs", str(p), "only with an ONNX model (.onnx); a PyTorch module "
            "takes its example input through workloads.torch_import.import_torch",
        )  # fmt: skip
    if suffix == ".json":
        from workloads.saved import read_workload

        return read_workload(p)
    if suffix == ".onnx":
        from workloads.onnx_import import read_onnx  # onnx is imported only for .onnx files

        return read_onnx(p, sample_inputs=_sample_inputs(inputs))
    if suffix == ".csv":
        from workloads.scalesim_csv import read_topology

        return read_topology(p)
    from workloads.state_dict import read_state_dict

    return read_state_dict(p, input_shape=input_shape)


def _sample_inputs(
    inputs: str | Path | Mapping[str, np.ndarray] | None,
) -> Mapping[str, np.ndarray] | None:
    if inputs is None or isinstance(inputs, Mapping):
        return inputs
    if Path(inputs).suffix.lower() != ".npz":
        raise WorkloadError("--inputs", "inputs", str(inputs), "an .npz of input name -> array")
    return read_npz(inputs, "sample inputs (.npz)", source="--inputs")


def _checked_input_shape(shape: Sequence[int]) -> tuple[int, ...]:
    allowed = "(H, W) or (C, H, W): positive integers, e.g. 3x224x224"
    if isinstance(shape, str) or not isinstance(shape, Sequence) or len(shape) not in (2, 3):
        raise WorkloadError("--input-shape", "input_shape", shape, allowed)
    if not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 2**20 for v in shape):
        raise WorkloadError("--input-shape", "input_shape", shape, allowed)
    return tuple(shape)


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


def _inline(text: str, spec: SparsitySpec, batch: int, seed: int, min_density: float) -> Workload:
    """An inline shape with seeded random weights pruned to `spec`, or, when those
    weights would not fit in memory, from shape-only descriptors (with a note)."""
    layer = with_batch(parse_shape(text), batch)
    if layer.weight_elements <= MAX_RANDOM_WEIGHTS:
        return build_workload([layer], spec, seed=seed, min_density=min_density)
    note(
        f"{text}: {layer.weight_elements:,} weights are more than sparsim draws at random "
        f"({MAX_RANDOM_WEIGHTS:,}); the layer runs from shape-only descriptors (density, "
        "N:M pattern) instead of a real mask"
    )
    shape_only = Workload(layer.name, (LayerWorkload(layer),))
    return apply_sparsity(shape_only, spec, seed=seed, min_density=min_density)


def _base(
    text: str,
    spec: SparsitySpec,
    batch: int,
    seed: int,
    min_density: float,
    input_shape: Sequence[int] | None,
    inputs: str | Path | Mapping[str, np.ndarray] | None,
) -> Workload:
    """The workload before sparsity (inline shapes: already pruned, random weights)."""
    is_file = Path(text).suffix.lower() in FILE_TYPES
    if not is_file and (input_shape is not None or inputs is not None):
        flag = "--input-shape" if input_shape is not None else "--inputs"
        raise WorkloadError(
            flag, "workload", text, "a state dict (--input-shape) or an ONNX model (--inputs) file"
        )
    if text in zoo_names():
        return zoo_workload(text, batch)
    if text in DIGITS_MODELS:
        from workloads.digits import digits_workload  # trains in seconds (scikit-learn data)

        return _batched(digits_workload(text.removeprefix("digits-"), seed=seed), batch)
    if Path(text).suffix.lower() in FILE_TYPES:
        wl = read_workload_file(text, input_shape=input_shape, inputs=inputs)
        return _batched(wl, batch)
    if text.startswith(("gemm:", "conv:")):
        return _inline(text, spec, batch, seed, min_density)
    raise WorkloadError("--workload", "workload", text, WORKLOAD_FORMS)


def load_workload(
    text: str,
    spec: SparsitySpec,
    *,
    batch: int = 1,
    seed: int = 0,
    min_density: float = 0.01,
    input_shape: Sequence[int] | None = None,
    inputs: str | Path | Mapping[str, np.ndarray] | None = None,
) -> Workload:
    """A workload from a `--workload` argument (WORKLOAD_FORMS), pruned to `spec` (seeded;
    `min_density` is the per-layer floor of global magnitude pruning). `input_shape`
    and `inputs`: see `read_workload_file`."""
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        raise WorkloadError("--batch", "batch", batch, f"an integer in 1..{MAX_BATCH:,}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise WorkloadError("--seed", "seed", seed, "an integer >= 0")
    if not isinstance(min_density, (int, float)) or not 0.0 <= min_density <= 1.0:
        raise WorkloadError("--min-density", "min_density", min_density, "0 <= D <= 1")
    if input_shape is not None:
        input_shape = _checked_input_shape(input_shape)
    train = text.startswith("train:")
    inner = text.removeprefix("train:")
    base = _base(inner, spec, batch, seed, min_density, input_shape, inputs)
    inline = inner.startswith(("gemm:", "conv:"))
    pruned = base if inline else apply_sparsity(base, spec, seed=seed, min_density=min_density)
    if train and any(isinstance(lw.layer, PassLayer) for lw in pruned.layers):
        raise WorkloadError(
            "--workload", "workload", text, "train: on a forward workload (this one already "
            "holds training passes: run it without train:)",
        )  # fmt: skip
    return training_workload(pruned) if train else pruned
