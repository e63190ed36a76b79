"""A workload: layers with their real weights and masks, or a density descriptor,
and the network graph that connects them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from workloads.layers import GemmShape, Layer, Pass
from workloads.sparsity import NM, finest_nm

if TYPE_CHECKING:  # networkx loads where a graph is built (start-up time)
    import networkx as nx


@dataclass(frozen=True, slots=True, eq=False)
class LayerWorkload:
    """One layer as the simulator sees it.

    `weights` and `mask` (bool, same shape) are present when the layer came
    from real weights; they are in GEMM view: (K, N) when `layer.groups == 1`,
    (groups, K, N) otherwise, so the reduction axis is always -2. Without them
    `density` (nonzero fraction of the weight operand) and `pattern` describe
    the layer statistically. `pattern` is the N:M pattern the layer was pruned
    to, if any (with a real mask the mask is what counts: the simulator checks
    which supported pattern it satisfies); `bidirectional` says the declared
    pattern also holds for W^T (a transposable mask, for backward-data).
    `activation_density` is the nonzero fraction of the input operand (ReLU
    zeros measured on sample inputs, or set); `output_density` that of its output
    (Sparseloop's Outputs density: what a level storing outputs compressed keeps,
    `memory.<level>.formats`). `unpruned` is the layer before
    channel pruning shrank it (the dense baseline runs that one).
    """

    layer: Layer
    weights: np.ndarray | None = None
    mask: np.ndarray | None = None
    density: float = 1.0
    pattern: NM | None = None
    activation_density: float = 1.0
    bidirectional: bool = False
    unpruned: Layer | None = None
    # the layer's own operand widths (a quantized model's; None: the arch's)
    weight_bits: int | None = None
    input_bits: int | None = None
    output_density: float = 1.0

    def __post_init__(self) -> None:
        for name, bits in (("weight_bits", self.weight_bits), ("input_bits", self.input_bits)):
            if bits is not None and bits not in (4, 8, 16):
                raise ValueError(f"{self.name}: {name} = {bits!r}; allowed: 4, 8, 16 or None")
        shape = self.weight_shape
        for name, arr in (("weights", self.weights), ("mask", self.mask)):
            if arr is not None and arr.shape != shape:
                raise ValueError(f"{self.name}: {name} shape {arr.shape} != GEMM view {shape}")
        if self.mask is not None and self.mask.dtype != np.bool_:
            raise ValueError(f"{self.name}: mask dtype {self.mask.dtype}; allowed: bool")
        densities = (
            ("density", self.density),
            ("activation_density", self.activation_density),
            ("output_density", self.output_density),
        )
        for name, value in densities:
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{self.name}: {name} = {value!r}; allowed: 0 <= value <= 1")

    @classmethod
    def from_weights(
        cls,
        layer: Layer,
        weights: np.ndarray,
        mask: np.ndarray | None = None,
        activation_density: float = 1.0,
    ) -> LayerWorkload:
        """A layer with real weights. The mask defaults to their nonzeros (a
        quantized import passes its own: zero is the zero point there); the
        declared pattern is the finest N:M the mask satisfies (None when dense)."""
        mask = weights != 0 if mask is None else mask
        dense = bool(mask.all())
        return cls(
            layer,
            weights=weights,
            mask=mask,
            density=float(mask.mean()) if mask.size else 1.0,
            pattern=None if dense else finest_nm(mask),
            activation_density=activation_density,
        )

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def gemm(self) -> GemmShape:
        """The GEMM of one group (`groups` of them make up the layer)."""
        return self.layer.gemm()

    @property
    def groups(self) -> int:
        return self.layer.groups

    @property
    def pass_(self) -> Pass:
        return self.layer.pass_

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """Shape of `weights` / `mask` in GEMM view."""
        g = self.gemm
        return (g.k, g.n) if self.groups == 1 else (self.groups, g.k, g.n)

    @property
    def macs(self) -> int:
        return self.layer.macs

    @property
    def dense_layer(self) -> Layer:
        """The layer the dense baseline runs: the unpruned one if channels were removed."""
        return self.unpruned if self.unpruned is not None else self.layer

    @property
    def weight_nonzeros(self) -> int:
        """Nonzero weights kept by the mask (statistical estimate without one)."""
        if self.mask is not None:
            return int(np.count_nonzero(self.mask))
        g = self.gemm
        return round(self.density * self.groups * g.k * g.n)

    @property
    def weight_density(self) -> float:
        """Nonzero fraction of the weight operand (the mask's, else the descriptor's)."""
        if self.mask is not None:
            return float(np.count_nonzero(self.mask) / self.mask.size) if self.mask.size else 1.0
        return self.density

    @property
    def effective_macs(self) -> int:
        """MACs whose weight is kept (nonzero in the mask); activation zeros not counted."""
        return self.gemm.m * self.weight_nonzeros


def chain_graph(names: Iterable[str]) -> nx.DiGraph:
    """A graph that runs the layers one after another (when nothing better is known)."""
    import networkx as nx

    graph = nx.DiGraph()
    prev = None
    for name in names:
        graph.add_node(name)
        if prev is not None:
            graph.add_edge(prev, name)
        prev = name
    return graph


@dataclass(frozen=True, slots=True, eq=False)
class Workload:
    """A network: its layers in topological order and the graph between them.

    `graph` has one node per layer name and an edge u -> v when v reads a
    tensor u produced (directly or through MAC-free ops: ReLU, pooling,
    residual adds, softmax, reshapes), so residual and attention branches are
    kept. `sparsity` labels how the weights were pruned (`dense`, a spec, or
    `stored` when masks came with the model file).
    """

    name: str
    layers: tuple[LayerWorkload, ...]
    sparsity: str = "dense"
    graph: nx.DiGraph | None = None

    def __post_init__(self) -> None:
        names = [lw.name for lw in self.layers]
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"{self.name}: layer names must be unique; repeated: {dupes}")
        if self.graph is not None:
            if set(self.graph.nodes) != set(names):
                raise ValueError(f"{self.name}: graph nodes differ from the layer names")
            order = {n: i for i, n in enumerate(names)}
            for u, v in self.graph.edges:
                if order[u] >= order[v]:
                    raise ValueError(f"{self.name}: layers not in topological order ({u} -> {v})")

    @property
    def macs(self) -> int:
        return sum(lw.macs for lw in self.layers)

    @property
    def effective_macs(self) -> int:
        return sum(lw.effective_macs for lw in self.layers)

    @property
    def weight_elements(self) -> int:
        return sum(lw.layer.weight_elements for lw in self.layers if lw.layer.has_weights)

    @property
    def activation_elements(self) -> int:
        """Stored input plus output elements, summed over layers."""
        return sum(lw.layer.input_elements + lw.layer.output_elements for lw in self.layers)

    def network_graph(self) -> nx.DiGraph:
        """The graph, or a chain in layer order when the source had none."""
        return self.graph if self.graph is not None else chain_graph(lw.name for lw in self.layers)

    def layer(self, name: str) -> LayerWorkload:
        for lw in self.layers:
            if lw.name == name:
                return lw
        raise KeyError(name)

    def replace_layers(
        self,
        layers: Mapping[str, LayerWorkload] | Iterable[LayerWorkload],
        sparsity: str | None = None,
        name: str | None = None,
    ) -> Workload:
        """The network with its layers swapped, in order (renamed layers relabel the graph)."""
        new = list(layers.values()) if isinstance(layers, Mapping) else list(layers)
        if len(new) != len(self.layers):
            raise ValueError("replace_layers keeps the number of layers")
        graph = self.graph
        rename = {old.name: lw.name for old, lw in zip(self.layers, new, strict=True)}
        if graph is not None and any(k != v for k, v in rename.items()):
            import networkx as nx

            graph = nx.relabel_nodes(graph, rename, copy=True)
        return Workload(
            name or self.name,
            tuple(new),
            self.sparsity if sparsity is None else sparsity,
            graph,
        )
