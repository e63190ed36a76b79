"""Zoo networks: MAC totals against published figures (through the CLI), graphs."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from sparsim.cli import main
from workloads.layers import AttentionMatmul, Conv2d
from workloads.zoo import zoo_names, zoo_workload

# Published totals (multiply-accumulates); sources in workloads/zoo.py's docstring.
PUBLISHED_MACS = {
    "resnet50": 4.09e9,  # torchvision ResNet50_Weights.IMAGENET1K_V1: "GFLOPS 4.09" (MACs)
    "mobilenetv2": 300e6,  # Sandler et al. 2018, Table 4: 300M multiply-adds
    "vgg16": 15.47e9,  # torchvision VGG16_Weights.IMAGENET1K_V1: "GFLOPS 15.47"
    "bert-base": 11.17e9,  # 12 x (4 s d^2 + 2 s d d_ff + 2 s^2 d), s=128, d=768, d_ff=3072
}


@pytest.mark.parametrize(("name", "published"), PUBLISHED_MACS.items())
def test_zoo_totals_match_published_figures_through_the_cli(name, published, capsys):
    assert main(["run", "--workload", name, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"]["macs"] == pytest.approx(published, rel=0.02)
    assert doc["totals"]["macs"] == sum(layer["macs"] for layer in doc["layers"])


def test_every_zoo_network_is_a_dag_in_topological_order():
    for name in zoo_names():
        wl = zoo_workload(name)
        assert nx.is_directed_acyclic_graph(wl.graph)
        order = {lw.name: i for i, lw in enumerate(wl.layers)}
        assert all(order[u] < order[v] for u, v in wl.graph.edges)
        assert all(lw.mask is None and lw.weights is None for lw in wl.layers)  # shapes only
        assert wl.macs == sum(lw.layer.groups * lw.gemm.macs for lw in wl.layers)


def test_residual_and_attention_branches_are_edges():
    res = zoo_workload("resnet50").graph
    assert res.has_edge("layer1.0.conv3", "layer1.1.conv1")
    assert res.has_edge("layer1.0.downsample", "layer1.1.conv1")  # the shortcut branch
    assert res.has_edge("layer1.0.conv3", "layer1.2.conv1")  # identity shortcut carries it on
    bert = zoo_workload("bert-base").graph
    assert set(bert.predecessors("layer0.attn.qk")) == {"layer0.attn.q", "layer0.attn.k"}
    assert set(bert.predecessors("layer0.attn.av")) == {"layer0.attn.qk", "layer0.attn.v"}


def test_transformer_shapes():
    bert = zoo_workload("bert-base")
    qk = bert.layer("layer0.attn.qk").layer
    assert isinstance(qk, AttentionMatmul) and qk.groups == 12 and qk.gemm().k == 64
    assert bert.layer("layer0.mlp.fc1").gemm == bert.layer("layer0.mlp.fc1").layer.gemm()
    assert zoo_workload("bert-base-512").macs > 4 * bert.macs  # the s^2 attention term
    decode = zoo_workload("gpt2-decode")
    assert all(lw.gemm.m == 1 for lw in decode.layers)
    assert decode.layer("layer0.attn.qk").gemm.n == 1024  # reads the KV cache
    llama = zoo_workload("llama7b-block")
    assert {lw.name for lw in llama.layers} >= {"layer0.mlp.gate", "layer0.mlp.up"}
    assert llama.layer("layer0.mlp.down").gemm.k == 11008


def test_mobilenet_has_depthwise_convs_and_batch_scales():
    mb = zoo_workload("mobilenetv2")
    dws = [lw.layer for lw in mb.layers if isinstance(lw.layer, Conv2d) and lw.layer.is_depthwise]
    assert len(dws) == 17 and all(dw.gemm().n == 1 for dw in dws)
    assert zoo_workload("mobilenetv2", batch=4).macs == 4 * mb.macs


@pytest.mark.parametrize("name", ["gpt2-prefill", "gpt2-decode", "llama7b-block", "bert-base-512"])
def test_other_zoo_networks_run(name, capsys):
    assert main(["run", "--workload", name, "--sparsity", "nm:2:4", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"]["effective_macs"] < doc["totals"]["macs"]
