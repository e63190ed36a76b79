"""Training workloads: each layer's forward, backward-data and backward-weight GEMMs.

For a forward GEMM Y = X W (per group: X is M x K, W is K x N):

- forward: W in the weight position, reduced over K: the layer's own mask.
- backward-data, dX = dY W^T: W^T (N x K) in the weight position, reduced
  over N. Its mask is the transpose of W's, so an N:M mask along K helps
  here only if it is also N:M along N: a bidirectional (transposable) mask
  (`bdwp:N:M`), as in SAT's bidirectional weight pruning. With a real mask
  the simulator sees that directly; a shape-only layer keeps its N:M pattern
  here only if it was declared bidirectional, and otherwise keeps just its
  density (unstructured: no N:M speedup).
- backward-weight, dW = X^T dY: the output gradient dY sits in the weight
  position and is dense, so W's mask buys nothing: density 1, no pattern.
  (Only the kept entries of dW are needed, an output sparsity that the
  modelled arrays don't exploit.) Its activation operand is X, so it keeps
  the layer's activation density; backward-data's streamed operand is dY,
  taken as dense.

Order: every forward GEMM in network order, then the backward GEMMs in
reverse order (backward-data, then backward-weight, of each layer). Every
layer gets a backward-data GEMM, the first one included (a framework skips
it when the input needs no gradient). Graph: the forward edges; the reversed
edges between backward-data GEMMs (dX of a consumer is dY of its producer);
each layer's backward GEMMs depend on the dY its consumers computed, its
backward-weight also on its forward (X), and the last layers' backward
GEMMs on their own forward (the loss).
"""

from __future__ import annotations

from dataclasses import replace

from workloads.layers import Pass, PassLayer
from workloads.workload import LayerWorkload, Workload


def _pass(lw: LayerWorkload, pass_: Pass) -> LayerWorkload:
    layer = PassLayer(lw.layer, pass_)
    unpruned = PassLayer(lw.unpruned, pass_) if lw.unpruned is not None else None
    if pass_ is Pass.FORWARD:
        return replace(lw, layer=layer, unpruned=unpruned)
    if pass_ is Pass.BACKWARD_DATA:
        t = None if lw.weights is None else lw.weights.swapaxes(-1, -2).copy()
        m = None if lw.mask is None else lw.mask.swapaxes(-1, -2).copy()
        pattern = lw.pattern if lw.bidirectional else None
        # the weights keep their stored width; the streamed operand is a gradient
        return LayerWorkload(
            layer, t, m, lw.density, pattern, 1.0, lw.bidirectional, unpruned,
            weight_bits=lw.weight_bits,
        )  # fmt: skip
    return LayerWorkload(layer, activation_density=lw.activation_density, unpruned=unpruned)


def training_workload(workload: Workload) -> Workload:
    """The forward, backward-data and backward-weight GEMMs of every layer (see module doc)."""
    if any(isinstance(lw.layer, PassLayer) for lw in workload.layers):
        raise ValueError(f"{workload.name} is already a training workload")
    graph = workload.network_graph()
    fwd = [_pass(lw, Pass.FORWARD) for lw in workload.layers]
    bwd = []
    for lw in reversed(workload.layers):
        bwd += [_pass(lw, Pass.BACKWARD_DATA), _pass(lw, Pass.BACKWARD_WEIGHT)]
    import networkx as nx  # only when building training graphs

    g = nx.DiGraph()
    g.add_nodes_from(lw.name for lw in [*fwd, *bwd])

    def name(layer: str, pass_: Pass) -> str:
        return f"{layer}/{pass_.value}"

    for u, v in graph.edges:
        g.add_edge(name(u, Pass.FORWARD), name(v, Pass.FORWARD))
        g.add_edge(name(v, Pass.BACKWARD_DATA), name(u, Pass.BACKWARD_DATA))
        g.add_edge(name(v, Pass.BACKWARD_DATA), name(u, Pass.BACKWARD_WEIGHT))
    for u in graph.nodes:
        g.add_edge(name(u, Pass.FORWARD), name(u, Pass.BACKWARD_WEIGHT))
        if graph.out_degree(u) == 0:  # the loss gradient starts here
            g.add_edge(name(u, Pass.FORWARD), name(u, Pass.BACKWARD_DATA))
    return Workload(f"{workload.name}:train", (*fwd, *bwd), workload.sparsity, g)
