"""A PyTorch `nn.Module` as a workload, traced on an example input.

Needs the optional extra: `pip install sparsim[torch]` (torch==2.13.0). torch
is imported only here, and only when the function is called.

One forward pass on `example_input` (in `eval()` mode, without gradients)
records, for every `nn.Conv1d`, `nn.Conv2d` and `nn.Linear` call:

- the shapes (from the tensors actually seen, so batch and sequence length
  are the example's), stride, padding (`'same'` / `'valid'` too), dilation
  and groups;
- the weights (in GEMM view) and their mask (where they are nonzero, so a
  model pruned with `torch.nn.utils.prune` keeps its real pattern);
- the activation density of the layer's input: the nonzero fraction of the
  tensor it read (ReLU zeros on the example input);
- the graph: which recorded layers' outputs each layer's input came from,
  through any other torch ops (tracked by a `TorchFunctionMode`, so residual
  branches and arbitrary Python control flow are followed as they ran).

Attention computed by functional ops (`F.scaled_dot_product_attention`,
`torch.matmul` of two activations) is not recorded: use the ONNX importer or
the zoo for those matmuls.
"""

from __future__ import annotations

import math
from typing import Any

from workloads.activations import relu_density
from workloads.errors import WorkloadError
from workloads.graph import GraphBuilder
from workloads.layers import Conv2d, Gemm, Layer, conv_weight_gemm_view
from workloads.workload import LayerWorkload, Workload


def _tensors(obj: Any, torch: Any) -> list:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for item in obj for t in _tensors(item, torch)]
    if isinstance(obj, dict):
        return [t for item in obj.values() for t in _tensors(item, torch)]
    return []


def _conv_layer(name: str, mod: Any, x_shape: tuple[int, ...]) -> Layer:
    import torch.nn as nn

    one_d = isinstance(mod, nn.Conv1d)
    spatial = 1 if one_d else 2
    shape = tuple(x_shape)
    if len(shape) == spatial + 1:  # unbatched input
        shape = (1, *shape)
    kernel = tuple(mod.kernel_size)
    stride, dilation = tuple(mod.stride), tuple(mod.dilation)
    if isinstance(mod.padding, str):
        if mod.padding == "valid":
            pads = [(0, 0)] * spatial
        else:  # 'same': PyTorch puts the odd pixel at the end
            totals = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
            pads = [(t // 2, t - t // 2) for t in totals]
    else:
        pads = [(p, p) for p in mod.padding]
    if one_d:
        batch, c, length = shape
        h, w, r, s = 1, length, 1, kernel[0]
        stride, dilation, pads = (1, stride[0]), (1, dilation[0]), [(0, 0), pads[0]]
    else:
        batch, c, h, w = shape
        r, s = kernel
    return Conv2d(
        name, h=h, w=w, c=c, r=r, s=s, k=mod.out_channels, stride=stride,
        padding=(pads[0][0], pads[1][0], pads[0][1], pads[1][1]), batch=batch,
        groups=mod.groups, dilation=dilation,
    )  # fmt: skip


def import_torch(module: Any, example_input: Any, *, name: str | None = None) -> Workload:
    """The workload of `module` run on `example_input` (a tensor or a tuple of them)."""
    import torch
    import torch.nn as nn
    from torch.overrides import TorchFunctionMode

    producers: dict[int, frozenset[str]] = {}
    keep_alive: list = []  # ids are only unique while the tensors live
    records: list[tuple[str, Any, tuple[int, ...], float, frozenset[str]]] = []
    counts: dict[str, int] = {}

    class Provenance(TorchFunctionMode):
        """Every op's outputs come from the layers its inputs came from."""

        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            src = frozenset().union(
                *(producers.get(id(t), frozenset()) for t in _tensors((args, kwargs), torch))
            )
            for t in _tensors(out, torch):
                producers[id(t)] = src
                keep_alive.append(t)
            return out

    def pre_hook(mod: Any, args: tuple, kwargs: dict) -> None:
        x = _tensors((args, kwargs), torch)[0]  # the input, positional or by keyword
        base = qualified[id(mod)] or type(mod).__name__
        counts[base] = counts.get(base, 0) + 1
        layer_name = base if counts[base] == 1 else f"{base}#{counts[base]}"
        arr = x.detach().cpu().numpy()
        src = producers.get(id(x), frozenset())
        records.append((layer_name, mod, tuple(x.shape), relu_density(arr), src))

    def post_hook(mod: Any, args: tuple, out: Any) -> None:
        for t in _tensors(out, torch):
            producers[id(t)] = frozenset({records[-1][0]})  # Conv/Linear are leaves: no nesting
            keep_alive.append(t)

    qualified = {id(m): n for n, m in module.named_modules()}
    kinds = (nn.Conv1d, nn.Conv2d, nn.Linear)
    handles = []
    for mod in module.modules():
        if isinstance(mod, kinds):
            handles.append(mod.register_forward_pre_hook(pre_hook, with_kwargs=True))
            handles.append(mod.register_forward_hook(post_hook))
    was_training = module.training
    module.eval()
    inputs = example_input if isinstance(example_input, tuple) else (example_input,)
    try:
        with torch.no_grad(), Provenance():
            module(*inputs)
    finally:
        for h in handles:
            h.remove()
        module.train(was_training)

    builder = GraphBuilder()
    layers = []
    stored = False
    for layer_name, mod, x_shape, act, src in records:
        w = mod.weight.detach().cpu().numpy()
        if isinstance(mod, nn.Linear):
            rows = math.prod(x_shape[:-1]) if len(x_shape) > 1 else 1
            layer: Layer = Gemm(layer_name, m=rows, n=mod.out_features, k=mod.in_features)
            view = w.T.copy()
        else:
            layer = _conv_layer(layer_name, mod, x_shape)
            w4 = w if w.ndim == 4 else w[:, :, None, :]
            view = conv_weight_gemm_view(w4, mod.groups)
        builder.add(layer, src)
        lw = LayerWorkload.from_weights(layer, view, activation_density=act)
        stored |= not lw.mask.all()
        layers.append(lw)
    if not layers:
        raise WorkloadError(
            name or type(module).__name__,
            "layers",
            "none",
            "a module that calls at least one nn.Conv1d, nn.Conv2d or nn.Linear",
        )
    return Workload(
        name or type(module).__name__,
        tuple(layers),
        sparsity="stored" if stored else "dense",
        graph=builder.graph,
    )


def activation_densities(module: Any, example_input: Any) -> dict[str, float]:
    """Measured input densities of the module's Conv/Linear layers, by layer name."""
    wl = import_torch(module, example_input)
    return {lw.name: lw.activation_density for lw in wl.layers}
