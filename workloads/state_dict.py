"""State dicts (`.safetensors`, `.npz`, PyTorch `.pt`/`.pth`) as workloads.

A state dict holds weights, not activations, so the shapes it gives are
per position:

- a 2-D `*.weight` of shape (out, in) (nn.Linear's layout; pass
  `linear_layout="in_out"` for checkpoints that store (in, out), such as
  GPT-2's Conv1D) is an FC GEMM with M = `tokens` (1 by default: one token or
  sample; `sparsim run --batch` scales it);
- a 4-D `*.weight` (K, C/G, R, S) is a conv evaluated at ONE output position
  (ifmap R x S, no padding): MACs per output pixel. Groups are not stored in
  a state dict: a (K, 1, R, S) weight reads as a conv of C = 1, which has the
  MACs of the depthwise conv it probably is but not its grouping;
- a 3-D `*.weight` (K, C, L) is a 1-D conv, likewise at one position.

Everything else (biases, norms, embeddings `*embed*`, buffers) is skipped.
Layers follow the natural order of their names ("layer2" before "layer10")
and run one after another (a state dict has no graph). Masks are where the
weights are nonzero, so a pruned checkpoint keeps its real pattern. Use the
ONNX or PyTorch importer when activation shapes matter.

safetensors files are read with the `safetensors` package's numpy API (no
torch); `.npz` with `allow_pickle=False`; `.pt` with
`torch.load(weights_only=True)` (needs the `[torch]` extra).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from workloads.errors import WorkloadError
from workloads.layers import Conv2d, Gemm, Layer, conv_weight_gemm_view
from workloads.workload import LayerWorkload, Workload, chain_graph

LINEAR_LAYOUTS = ("out_in", "in_out")


def _natural_key(name: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _layer(name: str, w: np.ndarray, tokens: int, linear_layout: str) -> tuple[Layer, np.ndarray]:
    if w.ndim == 2:
        view = w.T if linear_layout == "out_in" else w
        k, n = view.shape
        return Gemm(name, m=tokens, n=n, k=k), np.ascontiguousarray(view)
    w4 = w if w.ndim == 4 else w[:, :, None, :]
    k, c, r, s = w4.shape
    return Conv2d(name, h=r, w=s, c=c, r=r, s=s, k=k, batch=tokens), conv_weight_gemm_view(w4)


def import_state_dict(
    tensors: Mapping[str, np.ndarray],
    *,
    source: str = "<state dict>",
    name: str | None = None,
    tokens: int = 1,
    linear_layout: str = "out_in",
) -> Workload:
    """A workload from named weight tensors (see the module docstring)."""
    if linear_layout not in LINEAR_LAYOUTS:
        raise WorkloadError(source, "linear_layout", linear_layout, ", ".join(LINEAR_LAYOUTS))
    keys = sorted(
        (
            key
            for key, arr in tensors.items()
            if key.endswith("weight") and np.ndim(arr) in (2, 3, 4) and "embed" not in key.lower()
        ),
        key=_natural_key,
    )
    if not keys:
        shapes = {key: list(np.shape(arr)) for key, arr in list(tensors.items())[:8]}
        raise WorkloadError(
            source,
            "tensors",
            shapes,
            "a state dict with at least one 2-D, 3-D or 4-D '*weight' tensor (a supported layer)",
        )
    layers = []
    stored = False
    for key in keys:
        arr = np.asarray(tensors[key])
        if not np.issubdtype(arr.dtype, np.number):
            raise WorkloadError(source, key, str(arr.dtype), "a numeric tensor")
        layer, view = _layer(key.removesuffix(".weight"), arr, tokens, linear_layout)
        lw = LayerWorkload.from_weights(layer, view)
        stored |= not lw.mask.all()
        layers.append(lw)
    return Workload(
        name or Path(source).stem,
        tuple(layers),
        sparsity="stored" if stored else "dense",
        graph=chain_graph(lw.name for lw in layers),
    )


def load_tensors(path: str | Path) -> dict[str, np.ndarray]:
    """Named tensors of a `.safetensors`, `.npz` or `.pt`/`.pth` file, as numpy arrays."""
    p = Path(path)
    suffix = p.suffix.lower()
    try:
        if suffix == ".safetensors":
            from safetensors.numpy import load_file

            return load_file(str(p))
        if suffix == ".npz":
            with np.load(p, allow_pickle=False) as data:
                return {key: data[key] for key in data.files}
        if suffix in (".pt", ".pth"):
            return _load_torch(p)
    except WorkloadError:
        raise
    except Exception as err:  # each format raises its own types on a bad file
        raise WorkloadError(
            str(p), "file", p.name, f"a readable {suffix} state dict: {err}"
        ) from err
    raise WorkloadError(str(p), "file type", suffix, ".safetensors, .npz, .pt, .pth")


def _load_torch(p: Path) -> dict[str, np.ndarray]:
    try:
        import torch
    except ImportError as err:
        raise WorkloadError(
            str(p), "file type", p.suffix, "with torch installed (pip install sparsim[torch])"
        ) from err
    obj = torch.load(str(p), map_location="cpu", weights_only=True)
    if hasattr(obj, "state_dict"):
        obj = obj.state_dict()
    if not isinstance(obj, Mapping):
        raise WorkloadError(str(p), "contents", type(obj).__name__, "a state dict (name -> tensor)")
    return {
        key: value.detach().float().numpy() if value.is_floating_point() else value.numpy()
        for key, value in obj.items()
        if isinstance(value, torch.Tensor)
    }


def read_state_dict(
    path: str | Path, *, tokens: int = 1, linear_layout: str = "out_in"
) -> Workload:
    p = Path(path)
    return import_state_dict(
        load_tensors(p), source=str(p), name=p.stem, tokens=tokens, linear_layout=linear_layout
    )
