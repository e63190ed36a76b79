"""Apply a sparsity spec to a workload: real masks on real weights, descriptors otherwise.

- A layer with real weights gets a real mask from the method (`pruning`),
  combined with the mask it already has (pruning only removes).
- A layer known by its shape only gets a statistical descriptor: `density`
  (nonzero fraction) and, for N:M methods, the `pattern` (and `bidirectional`
  for bdwp). Unstructured, block and group specs on shapes only carry no
  structure, so the simulator can't skip anything but the density says how
  many MACs are real.
- Channel pruning changes shapes: a layer loses output channels (by L1 norm
  of its weights, or just the count without weights) and the layers reading
  that tensor lose the matching input channels, so both get smaller and stay
  dense. It follows the graph (`_absorbers`): a layer is pruned only when
  every consumer is a weight layer reading nothing else (a depthwise conv
  passes the pruning through to its own consumers); outputs feeding a residual
  add, a concat or an attention matmul, and the network's final outputs,
  keep their width, as structured pruning of such networks does.
- Block-diagonal (`blockdiag:NB`, one Monarch factor, Dao et al., ICML 2022)
  also changes shapes: a weight layer whose GEMM view splits into NB equal
  diagonal blocks (Gemm: K and N divisible by NB; Conv2d: its input and output
  channels per group divisible by NB, the blocks running over channels, not
  over the R*S filter taps) is lowered to the grouped GEMM it is, NB times the
  groups with K/NB x N/NB weights each: a smaller dense computation any array
  runs faster (1/NB of the MACs). Its weights and mask are the diagonal blocks
  (a shape-only layer keeps its descriptors); `unpruned` keeps the original
  layer for the dense baseline. Other weight layers (a dimension NB does not
  divide, training passes) keep the block-diagonal mask on the dense layer,
  with one `ImportNote` naming them.
- Layers without weights (attention matmuls, activation x activation
  MatMuls) are left dense by every weight method.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from workloads.errors import note
from workloads.layers import Conv2d, Gemm, Layer, PassLayer
from workloads.pruning import (
    bidirectional_nm_mask,
    block_mask,
    blockdiag_mask,
    channel_keep,
    global_magnitude_masks,
    kept_count,
    magnitude_mask,
    nm_mask,
    random_mask,
)
from workloads.sparsity_spec import Method, SparsitySpec
from workloads.workload import LayerWorkload, Workload

if TYPE_CHECKING:
    import networkx as nx


def _method_mask(
    w: np.ndarray, spec: SparsitySpec, rng: np.random.Generator, layer: Layer
) -> np.ndarray:
    kind = spec.kind
    if kind is Method.NM:
        return nm_mask(w, spec.pattern, axis=-2)
    if kind is Method.BDWP:
        return bidirectional_nm_mask(w, spec.pattern)
    if kind is Method.MAGNITUDE:
        return magnitude_mask(w, spec.sparsity)
    if kind is Method.RANDOM:
        return random_mask(w.shape, spec.sparsity, rng)
    if kind is Method.BLOCK:
        return block_mask(w, (spec.block, spec.block), spec.sparsity)
    if kind is Method.GROUP:
        return block_mask(w, (spec.block, 1), spec.sparsity)
    if kind is Method.BLOCKDIAG:
        return _blockdiag_view_mask(layer, w.shape, spec.block)
    raise ValueError(f"{kind} is not a per-layer mask method")


def _with_mask(lw: LayerWorkload, mask: np.ndarray, spec: SparsitySpec) -> LayerWorkload:
    """The layer with `mask` ANDed into its mask (pruned weights zeroed)."""
    assert lw.weights is not None
    if lw.mask is not None:
        mask = mask & lw.mask
    weights = np.where(mask, lw.weights, 0).astype(lw.weights.dtype)
    nm_like = spec.kind in (Method.NM, Method.BDWP)
    return dataclasses.replace(
        lw,
        weights=weights,
        mask=mask,
        density=float(np.count_nonzero(mask) / mask.size) if mask.size else 1.0,
        pattern=spec.pattern if nm_like else lw.pattern,
        bidirectional=spec.kind is Method.BDWP or lw.bidirectional,
    )


def _describe(lw: LayerWorkload, spec: SparsitySpec) -> LayerWorkload:
    """A shape-only layer pruned to `spec`: density and pattern descriptors, no mask."""
    nm_like = spec.kind in (Method.NM, Method.BDWP)
    return dataclasses.replace(
        lw,
        density=min(lw.density, spec.weight_density),
        pattern=spec.pattern if nm_like else lw.pattern,
        bidirectional=spec.kind is Method.BDWP or lw.bidirectional,
    )


def prune_layer(lw: LayerWorkload, spec: SparsitySpec, rng: np.random.Generator) -> LayerWorkload:
    """One layer pruned by a per-layer method (not channel or global)."""
    if spec.kind is Method.DENSE or not lw.layer.has_weights:
        return lw
    if lw.weights is None:
        return _describe(lw, spec)
    w = lw.weights if lw.mask is None else np.where(lw.mask, lw.weights, 0)
    return _with_mask(lw, _method_mask(w, spec, rng, lw.layer), spec)


# --- block-diagonal (Monarch) lowering ----------------------------------------------------


def _filter_taps(layer: Layer) -> int:
    """Rows of the GEMM view per input channel: R*S for a conv (channel innermost), else 1."""
    return layer.r * layer.s if isinstance(layer, Conv2d) else 1


def blockdiag_lowerable(layer: Layer, blocks: int) -> bool:
    """Whether `blockdiag:blocks` turns `layer` into a grouped GEMM of equal diagonal blocks."""
    if blocks < 2 or isinstance(layer, PassLayer) or not layer.has_weights:
        return False
    if isinstance(layer, Conv2d):
        channels = (layer.c // layer.groups, layer.k // layer.groups)
    else:
        channels = (layer.k, layer.n)
    return all(c % blocks == 0 for c in channels)


def _blockdiag_view_mask(layer: Layer, shape: tuple[int, ...], blocks: int) -> np.ndarray:
    """The block-diagonal mask in `layer`'s GEMM view: over channels when the layer
    lowers (every filter tap of input block i feeds output block i), else over the
    (K, N) view as `blockdiag_mask` cuts it."""
    if not blockdiag_lowerable(layer, blocks):
        return blockdiag_mask(shape, blocks)
    taps = _filter_taps(layer)
    k, n = shape[-2:]
    per_tap = blockdiag_mask((k // taps, n), blocks)
    return np.ascontiguousarray(np.broadcast_to(np.tile(per_tap, (taps, 1)), shape))


def _diagonal_blocks(arr: np.ndarray, layer: Layer, blocks: int) -> np.ndarray:
    """(groups, K, N) GEMM-view weights -> the (groups * blocks, K/blocks, N/blocks)
    diagonal blocks, group g's block i at g * blocks + i (as grouped layers order them)."""
    taps, groups = _filter_taps(layer), layer.groups
    k, n = arr.shape[-2:]
    kb, nb = k // taps // blocks, n // blocks
    view = arr.reshape(groups, taps, blocks, kb, blocks, nb)
    diag = np.stack([view[:, :, i, :, i, :] for i in range(blocks)], axis=1)
    return np.ascontiguousarray(diag.reshape(groups * blocks, taps * kb, nb))


def lower_blockdiag(lw: LayerWorkload, blocks: int) -> LayerWorkload:
    """A block-diagonal layer (its mask from `blockdiag:blocks`, or shapes only) as the
    grouped GEMM of its diagonal blocks; the original layer stays the dense baseline.
    Needs `blockdiag_lowerable(lw.layer, blocks)`."""
    layer = lw.layer
    if not blockdiag_lowerable(layer, blocks):
        raise ValueError(f"{lw.name}: not lowerable to {blocks} diagonal blocks")
    if isinstance(layer, Conv2d):
        lowered = dataclasses.replace(layer, groups=layer.groups * blocks)
    else:
        lowered = dataclasses.replace(
            layer, k=layer.k // blocks, n=layer.n // blocks, groups=layer.groups * blocks
        )
    weights = mask = None
    density = lw.density
    if lw.weights is not None:
        kept = lw.mask if lw.mask is not None else lw.weights != 0
        if np.any(kept & ~_blockdiag_view_mask(layer, lw.weights.shape, blocks)):
            raise ValueError(f"{lw.name}: mask keeps weights off the {blocks} diagonal blocks")
        weights = _diagonal_blocks(lw.weights, layer, blocks)
        if lw.mask is not None:
            mask = _diagonal_blocks(lw.mask, layer, blocks)
            density = float(mask.mean()) if mask.size else 1.0
    return dataclasses.replace(
        lw, layer=lowered, weights=weights, mask=mask, density=density, unpruned=lw.dense_layer
    )


def _prune_blockdiag(
    layers: tuple[LayerWorkload, ...], spec: SparsitySpec, rng: np.random.Generator
) -> list[LayerWorkload]:
    out, masked_only = [], []
    for lw in layers:
        if blockdiag_lowerable(lw.layer, spec.block):
            masked = prune_layer(lw, spec, rng) if lw.weights is not None else lw
            out.append(lower_blockdiag(masked, spec.block))
            continue
        if lw.layer.has_weights and spec.block > 1:
            masked_only.append(lw.name)
        out.append(prune_layer(lw, spec, rng))
    if masked_only:
        shown = ", ".join(masked_only[:8]) + (
            f" and {len(masked_only) - 8} more" if len(masked_only) > 8 else ""
        )
        note(
            f"{spec}: {len(masked_only)} weight layer(s) not lowered to a grouped GEMM "
            f"(K and N, for a conv its channels per group, not divisible by {spec.block}, "
            f"or a training pass): kept as a block-diagonal mask on the dense layer: {shown}"
        )
    return out


def _prune_global(
    layers: tuple[LayerWorkload, ...], spec: SparsitySpec, min_density: float
) -> list[LayerWorkload]:
    real = [i for i, lw in enumerate(layers) if lw.layer.has_weights and lw.weights is not None]
    tensors = [
        layers[i].weights
        if layers[i].mask is None
        else np.where(layers[i].mask, layers[i].weights, 0)
        for i in real
    ]
    # shapes only (a zoo network, a topology): no tensors to rank, descriptors for every layer
    ranked = global_magnitude_masks(tensors, spec.sparsity, min_density) if tensors else []
    masks = dict(zip(real, ranked, strict=True))
    out = []
    for i, lw in enumerate(layers):
        if i in masks:
            out.append(_with_mask(lw, masks[i], spec))
        elif lw.layer.has_weights:
            out.append(_describe(lw, spec))
        else:
            out.append(lw)
    return out


def apply_sparsity(
    workload: Workload,
    spec: SparsitySpec,
    *,
    seed: int = 0,
    min_density: float = 0.01,
) -> Workload:
    """`workload` pruned to `spec` (seeded; `min_density` is global pruning's per-layer floor).

    A dense spec keeps the workload as it is (masks that came with a model
    file stay). The label becomes the spec, unless the spec is dense.
    """
    if spec.kind is Method.DENSE:
        layers = list(workload.layers)
    elif spec.kind is Method.CHANNEL:
        layers = list(prune_channels(workload, spec.sparsity).layers)
    elif spec.kind is Method.GLOBAL:
        layers = _prune_global(workload.layers, spec, min_density)
    elif spec.kind is Method.BLOCKDIAG:
        layers = _prune_blockdiag(workload.layers, spec, np.random.default_rng(seed))
    else:
        # apart from the stream that drew the weights (made here: numpy.random loads on use)
        rng = np.random.default_rng([seed, 0x5EED])
        layers = [prune_layer(lw, spec, rng) for lw in workload.layers]
    if spec.activation_sparsity is not None:
        density = 1.0 - spec.activation_sparsity
        layers = [dataclasses.replace(lw, activation_density=density) for lw in layers]
    if spec.kind is Method.DENSE and spec.activation_sparsity is None:
        label = workload.sparsity
    elif spec.kind is Method.DENSE and workload.sparsity != "dense":
        label = f"{workload.sparsity}{str(spec).removeprefix('dense')}"
    else:
        label = str(spec)
    return workload.replace_layers(layers, sparsity=label)


# --- channel pruning ---------------------------------------------------------------------


def _out_channels(layer: Layer) -> int | None:
    """Output channels a layer may lose (plain conv or FC only)."""
    if isinstance(layer, Conv2d) and layer.groups == 1:
        return layer.k
    if isinstance(layer, Gemm) and layer.groups == 1 and layer.has_weights:
        return layer.n
    return None


def _in_channels(layer: Layer) -> int | None:
    """Input channels a layer may lose (plain conv or FC only)."""
    if isinstance(layer, Conv2d) and layer.groups == 1:
        return layer.c
    if isinstance(layer, Gemm) and layer.groups == 1 and layer.has_weights:
        return layer.k
    return None


def _absorbers(
    graph: nx.DiGraph, layers: dict[str, LayerWorkload], name: str, channels: int
) -> list[tuple[str, str]] | None:
    """Consumers of `name`'s output that can drop input channels with it, or None."""
    out: list[tuple[str, str]] = []
    for v in graph.successors(name):
        layer = layers[v].layer
        if list(graph.predecessors(v)) != [name]:
            return None
        if _in_channels(layer) == channels:
            out.append((v, "inputs"))
        elif isinstance(layer, Conv2d) and layer.is_depthwise and layer.k == layer.c == channels:
            further = _absorbers(graph, layers, v, channels)
            if further is None:
                return None
            out += [(v, "depthwise"), *further]
        else:
            return None
    return out


def _take(arr: np.ndarray | None, keep: np.ndarray, axis: int) -> np.ndarray | None:
    return None if arr is None else np.take(arr, keep, axis=axis)


def _shrink(lw: LayerWorkload, keep: np.ndarray, how: str) -> LayerWorkload:
    """Drop channels from one layer: its outputs, its inputs, or a depthwise conv's groups."""
    layer, c = lw.layer, len(keep)
    if how == "outputs":
        new_layer = dataclasses.replace(
            layer, **({"k": c} if isinstance(layer, Conv2d) else {"n": c})
        )
        w, mask = _take(lw.weights, keep, -1), _take(lw.mask, keep, -1)
    elif how == "depthwise":
        new_layer = dataclasses.replace(layer, c=c, k=c, groups=c)
        w, mask = _take(lw.weights, keep, 0), _take(lw.mask, keep, 0)
    elif isinstance(layer, Gemm):
        new_layer = dataclasses.replace(layer, k=c)
        w, mask = _take(lw.weights, keep, 0), _take(lw.mask, keep, 0)
    else:  # conv inputs: rows of the (R*S*C, N) view, channel innermost
        new_layer = dataclasses.replace(layer, c=c)
        rs = layer.r * layer.s

        def rows(a: np.ndarray | None) -> np.ndarray | None:
            if a is None:
                return None
            return a.reshape(rs, layer.c, a.shape[-1])[:, keep, :].reshape(rs * c, a.shape[-1])

        w, mask = rows(lw.weights), rows(lw.mask)
    return dataclasses.replace(lw, layer=new_layer, weights=w, mask=mask, unpruned=lw.dense_layer)


def prune_channels(workload: Workload, sparsity: float) -> Workload:
    """Remove `sparsity` of the output channels of every prunable layer (L1 norm).

    See the module docstring for which layers are prunable. A one-layer
    workload loses output channels of its only layer.
    """
    graph = workload.network_graph()
    layers = {lw.name: lw for lw in workload.layers}
    single = len(workload.layers) == 1
    for name in [lw.name for lw in workload.layers]:
        lw = layers[name]
        channels = _out_channels(lw.layer)
        if channels is None:
            continue
        absorbers = _absorbers(graph, layers, name, channels)
        if absorbers is None or (not absorbers and not single):
            continue
        if lw.weights is not None:
            w = lw.weights if lw.mask is None else np.where(lw.mask, lw.weights, 0)
            keep = channel_keep(w, sparsity, axis=-1)
        else:
            keep = np.arange(max(1, kept_count(channels, sparsity)))
        if len(keep) == channels:
            continue
        layers[name] = _shrink(lw, keep, "outputs")
        for v, how in absorbers:
            layers[v] = _shrink(layers[v], keep, how)
    return workload.replace_layers([layers[lw.name] for lw in workload.layers])
