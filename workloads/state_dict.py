"""State dicts (`.safetensors`, `.npz`, PyTorch `.pt`/`.pth`) as workloads.

A state dict holds weights, not activations, so the shapes it gives are
per position:

- a 2-D `*.weight` of shape (out, in) (nn.Linear's layout; pass
  `linear_layout="in_out"` for checkpoints that store (in, out), such as
  GPT-2's Conv1D) is an FC GEMM with M = `tokens` (1 by default: one token or
  sample; `sparsim run --batch` scales it);
- a 4-D `*.weight` (K, C/G, R, S) is a conv. A state dict stores neither
  activation sizes nor strides: with `input_shape` ((H, W) or (C, H, W)) each
  conv runs on an H x W ifmap with 'same' padding and stride 1; without it, at
  ONE output position (ifmap R x S, no padding): MACs per output pixel. Either
  way an `ImportNote` says which assumption was made.
- Groups are not stored either: a (K, C/G, R, S) weight whose layer before
  has C outputs (or `input_shape`'s C, for the first) is read as G = C / (C/G)
  groups, so a (K, 1, R, S) after a K-channel layer is depthwise (noted);
- a 3-D `*.weight` (K, C, L) is a 1-D conv, likewise.

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
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from workloads.errors import WorkloadError, note, printable
from workloads.inputs import check_zip, read_npz, regular_file
from workloads.layers import Conv2d, Gemm, Layer, conv_weight_gemm_view
from workloads.workload import LayerWorkload, Workload, chain_graph

LINEAR_LAYOUTS = ("out_in", "in_out")


def _natural_key(name: str) -> list:
    """ "layer2" before "layer10": digit runs compare by value (as strings, so a
    5,000-digit run is no int() error), the rest as text."""
    parts = re.split(r"([0-9]+)", name)
    return [(len(p.lstrip("0")), p.lstrip("0"), p) if i % 2 else p for i, p in enumerate(parts)]


def _same_pads(r: int, s: int) -> tuple[int, int, int, int]:
    return ((r - 1) // 2, (s - 1) // 2, r - 1 - (r - 1) // 2, s - 1 - (s - 1) // 2)


def _groups(channels_in: int | None, cg: int, k: int) -> int:
    """Groups of a (K, C/G, R, S) weight read by a layer with `channels_in` inputs."""
    if channels_in is None or channels_in <= cg or channels_in % cg:
        return 1
    groups = channels_in // cg
    return groups if k % groups == 0 else 1


def _layer(
    name: str,
    w: np.ndarray,
    tokens: int,
    linear_layout: str,
    input_shape: tuple[int, ...] | None,
    channels_in: int | None,
) -> tuple[Layer, np.ndarray]:
    if w.ndim == 2:
        view = w.T if linear_layout == "out_in" else w
        k, n = view.shape
        return Gemm(name, m=tokens, n=n, k=k), np.ascontiguousarray(view)
    w4 = w if w.ndim == 4 else w[:, :, None, :]
    k, cg, r, s = w4.shape
    groups = _groups(channels_in, cg, k)
    if input_shape is None:  # one output position: an ifmap the size of the kernel
        h, wd, pads = r, s, 0
    else:
        h, wd = (1, input_shape[-1]) if w.ndim == 3 else tuple(input_shape[-2:])
        pads = _same_pads(r, s)
    layer = Conv2d(
        name, h=h, w=wd, c=cg * groups, r=r, s=s, k=k, padding=pads, batch=tokens, groups=groups
    )
    return layer, conv_weight_gemm_view(w4, groups)


def _out_channels(w: np.ndarray, linear_layout: str) -> int:
    if w.ndim == 2:
        return w.shape[0] if linear_layout == "out_in" else w.shape[1]
    return w.shape[0]


def import_state_dict(
    tensors: Mapping[str, np.ndarray],
    *,
    source: str = "<state dict>",
    name: str | None = None,
    tokens: int = 1,
    linear_layout: str = "out_in",
    input_shape: tuple[int, ...] | None = None,
) -> Workload:
    """A workload from named weight tensors (see the module docstring).

    `input_shape` ((H, W) or (C, H, W)) is the ifmap every conv runs on, with
    'same' padding and stride 1; without it a conv is evaluated at one output
    position. Both are assumptions (a state dict stores neither activation
    sizes nor strides), and the importer says so with an `ImportNote`.
    """
    if linear_layout not in LINEAR_LAYOUTS:
        raise WorkloadError(source, "linear_layout", linear_layout, ", ".join(LINEAR_LAYOUTS))
    if input_shape is not None and (
        len(input_shape) not in (2, 3)
        or not all(isinstance(v, int) and v >= 1 for v in input_shape)
    ):
        raise WorkloadError(source, "input_shape", input_shape, "(H, W) or (C, H, W), each >= 1")
    keys = sorted(
        (
            key
            for key, arr in tensors.items()
            if isinstance(key, str)
            and key.endswith("weight")
            and np.ndim(arr) in (2, 3, 4)
            and "embed" not in key.lower()
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
    channels_in = input_shape[0] if input_shape is not None and len(input_shape) == 3 else None
    grouped = []
    used: set[str] = set()
    for key in keys:
        arr = np.asarray(tensors[key])
        if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
            raise WorkloadError(source, key, str(arr.dtype), "an integer or real (float) tensor")
        if arr.size == 0:
            raise WorkloadError(
                source, key, f"shape {arr.shape}", "a weight tensor without zero-size dimensions"
            )
        layer_name = printable(key.removesuffix(".weight"))
        if layer_name in used:  # escaping made two names equal
            layer_name = f"{layer_name}#{len(used)}"
        used.add(layer_name)
        try:
            layer, view = _layer(
                layer_name,
                arr,
                tokens,
                linear_layout,
                input_shape,
                channels_in,
            )
        except ValueError as err:  # shapes that make no layer (a kernel wider than the ifmap)
            raise WorkloadError(
                source, key, f"shape {arr.shape}", f"a valid layer: {err}"
            ) from None
        if layer.groups > 1:
            grouped.append(layer.name)
        channels_in = _out_channels(arr, linear_layout)
        lw = LayerWorkload.from_weights(layer, view)
        stored |= not lw.mask.all()
        layers.append(lw)
    _notes(source, layers, input_shape, grouped)
    return Workload(
        printable(name or Path(source).stem),
        tuple(layers),
        sparsity="stored" if stored else "dense",
        graph=chain_graph(lw.name for lw in layers),
    )


def _notes(
    source: str, layers: list[LayerWorkload], input_shape: tuple[int, ...] | None, grouped: list
) -> None:
    convs = sum(isinstance(lw.layer, Conv2d) for lw in layers)
    if not convs:
        return
    if input_shape is None:
        note(
            f"{source}: a state dict stores no activation sizes: its {convs} convs are evaluated "
            "at one output position (MACs per output pixel); give input_shape "
            "(--input-shape CxHxW) to run them on a whole ifmap"
        )
    else:
        size = "x".join(map(str, input_shape[-2:]))
        note(
            f"{source}: a state dict stores no strides or activation sizes: its {convs} convs "
            f"run on a {size} ifmap with 'same' padding and stride 1"
        )
    if grouped:
        note(
            f"{source}: {len(grouped)} convs read as grouped (depthwise where C/G = 1) from their "
            f"weight shape and the channels of the layer before: {', '.join(grouped[:5])}"
            + (", ..." if len(grouped) > 5 else "")
        )


def load_tensors(path: str | Path) -> dict[str, np.ndarray]:
    """Named tensors of a `.safetensors`, `.npz` or `.pt`/`.pth` file, as numpy arrays."""
    p = regular_file(path, "state dict")
    suffix = p.suffix.lower()
    if suffix == ".npz":
        return read_npz(p, "state dict (.npz)")
    if suffix in (".pt", ".pth"):
        return _load_torch(p)
    if suffix != ".safetensors":
        raise WorkloadError(str(p), "file type", suffix, ".safetensors, .npz, .pt, .pth")
    try:
        from safetensors.numpy import load_file

        return load_file(str(p))  # memory-mapped: sizes are checked against the file
    except Exception as err:  # safetensors raises its own types on a bad file
        raise WorkloadError(
            str(p), "file", p.name, f"a readable .safetensors state dict: {_first_line(err)}"
        ) from None


def _first_line(err: BaseException) -> str:
    return f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}"


def _load_torch(p: Path) -> dict[str, np.ndarray]:
    try:
        import torch
    except ImportError as err:
        raise WorkloadError(
            str(p), "file type", p.suffix, "with torch installed (pip install sparsim[torch])"
        ) from err
    if zipfile.is_zipfile(p):  # torch's own format is a zip archive: no bombs
        with zipfile.ZipFile(p) as zf:
            check_zip(zf, p.stat().st_size, str(p), "file", WorkloadError)
    try:
        with warnings.catch_warnings():  # torch's pickle-protocol chatter is not for our users
            warnings.simplefilter("ignore")
            obj = torch.load(str(p), map_location="cpu", weights_only=True)
    except Exception as err:  # a bad file raises many types
        reason = _first_line(err)
        if "weights_only" in reason or "unpickl" in reason.lower():
            # torch suggests weights_only=False: that would run code from the file
            reason = "it holds objects other than tensors (loading them could run code)"
        raise WorkloadError(
            str(p), "file", p.name, f"a PyTorch state dict of tensors only: {reason}"
        ) from None
    if hasattr(obj, "state_dict"):
        obj = obj.state_dict()
    if not isinstance(obj, Mapping):
        raise WorkloadError(str(p), "contents", type(obj).__name__, "a state dict (name -> tensor)")
    out = {}
    for key, value in obj.items():
        if not isinstance(value, torch.Tensor):
            continue
        try:
            t = value.detach()
            out[key] = t.float().numpy() if t.is_floating_point() else t.numpy()
        except (RuntimeError, TypeError) as err:  # quantized or other non-numpy tensors
            raise WorkloadError(
                str(p), str(key), str(value.dtype), f"a tensor numpy can hold ({_first_line(err)})"
            ) from None
    return out


def read_state_dict(
    path: str | Path,
    *,
    tokens: int = 1,
    linear_layout: str = "out_in",
    input_shape: tuple[int, ...] | None = None,
) -> Workload:
    p = Path(path)
    return import_state_dict(
        load_tensors(p),
        source=str(p),
        name=p.stem,
        tokens=tokens,
        linear_layout=linear_layout,
        input_shape=input_shape,
    )
