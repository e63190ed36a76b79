"""Building a network graph layer by layer (zoo, importers).

A *tensor* is named by the set of compute layers whose outputs flow into it
through MAC-free ops (activations, pooling, norms, residual adds, reshapes,
softmax): a residual sum of two branches is the union of their sets. A layer
reading a tensor gets one edge from each of those layers, so residual and
attention branches stay in the graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workloads.layers import Layer
from workloads.workload import LayerWorkload, Workload

if TYPE_CHECKING:
    import networkx as nx

Tensor = frozenset[str]
NETWORK_INPUT: Tensor = frozenset()


def _digraph() -> nx.DiGraph:
    import networkx as nx  # on first use: `import workloads.zoo` stays cheap

    return nx.DiGraph()


@dataclass(slots=True)
class GraphBuilder:
    """Accumulates layers in execution (topological) order and their input edges."""

    layers: list[Layer] = field(default_factory=list)
    graph: nx.DiGraph = field(default_factory=lambda: _digraph())

    def add(self, layer: Layer, *inputs: Tensor) -> Tensor:
        """Add `layer` reading `inputs`; returns the tensor it produces."""
        if layer.name in self.graph:
            raise ValueError(f"layer name {layer.name!r} used twice")
        self.layers.append(layer)
        self.graph.add_node(layer.name)
        for tensor in inputs:
            for src in tensor:
                self.graph.add_edge(src, layer.name)
        return frozenset({layer.name})

    def workload(self, name: str) -> Workload:
        """The network as a shape-only workload (dense descriptors, no weights)."""
        return Workload(
            name, tuple(LayerWorkload(layer) for layer in self.layers), graph=self.graph
        )
