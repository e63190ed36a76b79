"""A zoo of exact layer shapes of well-known networks (no weights: shapes only).

Each network is built from its architecture definition, so the MAC totals
follow from the shapes. What each total includes, and the published figure
it is checked against (tests/test_workloads_zoo.py, within 2 %):

- `resnet50`: ResNet-50 v1.5 (stride on the 3x3 conv, as torchvision) at
  224 x 224: 53 convs (downsample convs included) + the FC classifier;
  4.09 GMAC (torchvision `ResNet50_Weights.IMAGENET1K_V1`, "GFLOPS 4.09",
  which counts multiply-accumulates). Pooling and adds are MAC-free.
- `mobilenetv2`: MobileNetV2 1.0 at 224 x 224, all convs + the classifier;
  300 M multiply-adds (Sandler et al., 2018, "MobileNetV2", Table 4).
- `vgg16`: VGG-16 (configuration D) at 224 x 224, 13 convs + 3 FC layers;
  15.47 GMAC (torchvision `VGG16_Weights.IMAGENET1K_V1`, "GFLOPS 15.47").
- `bert-base`: the 12 encoder layers of BERT-base (d = 768, 12 heads,
  d_ff = 3072; Devlin et al., 2019) at sequence 128, batch 1: Q, K, V and
  output projections, the attention matmuls QK^T and AV, and the two FFN
  layers; embeddings, pooler and classifier are left out. Per layer
  4 s d^2 + 2 s d d_ff + 2 s^2 d MACs, 12 layers: 11.17 GMAC.
- `bert-base-512`: the same at sequence 512.
- `gpt2-prefill`: GPT-2 small (12 layers, d = 768, 12 heads, d_ff = 3072,
  vocabulary 50257; Radford et al., 2019) processing a 1024-token prompt,
  plus the LM head on the last position (the logits that pick the next
  token).
- `gpt2-decode`: the same model generating one token with a KV cache of
  1024 positions: every GEMM has M = 1; QK^T and AV read the cache.
- `llama7b-block`: one LLaMA-7B decoder block (d = 4096, 32 heads of 128,
  SwiGLU FFN with d_ff = 11008; Touvron et al., 2023) on a 2048-token prompt.

Attention matmuls are counted in full (seq x seq), as a dense GEMM kernel
computes them; a causal mask would halve QK^T and AV.
"""

from __future__ import annotations

from collections.abc import Callable

from workloads.graph import NETWORK_INPUT, GraphBuilder, Tensor
from workloads.layers import AttentionKind, AttentionMatmul, Conv2d, Gemm
from workloads.workload import Workload


def _conv(
    b: GraphBuilder,
    x: Tensor,
    name: str,
    hw: int,
    c: int,
    k: int,
    r: int,
    stride: int = 1,
    groups: int = 1,
    batch: int = 1,
) -> tuple[Tensor, int]:
    """A 'same'-padded conv (padding r // 2); returns its output and output size."""
    layer = Conv2d(
        name, h=hw, w=hw, c=c, r=r, s=r, k=k, stride=stride, padding=r // 2,
        batch=batch, groups=groups,
    )  # fmt: skip
    return b.add(layer, x), layer.out_h


def resnet50(batch: int = 1, image: int = 224) -> Workload:
    b = GraphBuilder()
    x, hw = _conv(b, NETWORK_INPUT, "conv1", image, 3, 64, 7, stride=2, batch=batch)
    hw = (hw + 2 - 3) // 2 + 1  # max pool 3x3, stride 2, padding 1
    c = 64
    for stage, (width, blocks, stride) in enumerate(
        [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)], start=1
    ):
        for i in range(blocks):
            s = stride if i == 0 else 1
            p = f"layer{stage}.{i}"
            y, _ = _conv(b, x, f"{p}.conv1", hw, c, width, 1, batch=batch)
            y, out = _conv(b, y, f"{p}.conv2", hw, width, width, 3, stride=s, batch=batch)
            y, _ = _conv(b, y, f"{p}.conv3", out, width, 4 * width, 1, batch=batch)
            if i == 0:  # projection shortcut
                x, _ = _conv(b, x, f"{p}.downsample", hw, c, 4 * width, 1, stride=s, batch=batch)
            x = x | y  # residual add
            c, hw = 4 * width, out
    b.add(Gemm("fc", m=batch, n=1000, k=c), x)  # after global average pooling
    return b.workload("resnet50")


def mobilenetv2(batch: int = 1, image: int = 224) -> Workload:
    b = GraphBuilder()
    x, hw = _conv(b, NETWORK_INPUT, "features.0", image, 3, 32, 3, stride=2, batch=batch)
    c = 32
    idx = 1
    # (expansion t, output channels c, repeats n, first stride s): Sandler et al., Table 2
    for t, out_c, n, s in [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ]:
        for i in range(n):
            stride = s if i == 0 else 1
            p = f"features.{idx}"
            hidden = c * t
            y = x
            if t != 1:
                y, _ = _conv(b, y, f"{p}.expand", hw, c, hidden, 1, batch=batch)
            y, out = _conv(
                b, y, f"{p}.dw", hw, hidden, hidden, 3, stride=stride, groups=hidden, batch=batch
            )
            y, _ = _conv(b, y, f"{p}.project", out, hidden, out_c, 1, batch=batch)
            x = x | y if stride == 1 and c == out_c else y  # residual when shapes match
            c, hw = out_c, out
            idx += 1
    x, _ = _conv(b, x, f"features.{idx}", hw, c, 1280, 1, batch=batch)
    b.add(Gemm("classifier", m=batch, n=1000, k=1280), x)
    return b.workload("mobilenetv2")


def vgg16(batch: int = 1, image: int = 224) -> Workload:
    b = GraphBuilder()
    x, hw, c = NETWORK_INPUT, image, 3
    for block, (width, convs) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], 1):
        for i in range(1, convs + 1):
            x, hw = _conv(b, x, f"conv{block}_{i}", hw, c, width, 3, batch=batch)
            c = width
        hw //= 2  # max pool 2x2, stride 2
    k = c * hw * hw
    for name, n in (("fc6", 4096), ("fc7", 4096), ("fc8", 1000)):
        x = b.add(Gemm(name, m=batch, n=n, k=k), x)
        k = n
    return b.workload("vgg16")


def _attention_block(
    b: GraphBuilder,
    x: Tensor,
    p: str,
    *,
    tokens: int,
    seq_q: int,
    seq_kv: int,
    d: int,
    heads: int,
    batch: int,
) -> Tensor:
    """Q, K, V projections, QK^T, AV, output projection; returns the residual stream."""
    q = b.add(Gemm(f"{p}.attn.q", m=tokens, n=d, k=d), x)
    k = b.add(Gemm(f"{p}.attn.k", m=tokens, n=d, k=d), x)
    v = b.add(Gemm(f"{p}.attn.v", m=tokens, n=d, k=d), x)
    hd = d // heads
    scores = b.add(
        AttentionMatmul(f"{p}.attn.qk", AttentionKind.QK, seq_q, seq_kv, hd, heads, batch), q, k
    )
    ctx = b.add(
        AttentionMatmul(f"{p}.attn.av", AttentionKind.AV, seq_q, seq_kv, hd, heads, batch),
        scores,
        v,
    )
    o = b.add(Gemm(f"{p}.attn.o", m=tokens, n=d, k=d), ctx)
    return x | o


def transformer(
    name: str,
    *,
    layers: int,
    d: int,
    heads: int,
    d_ff: int,
    seq_q: int,
    seq_kv: int | None = None,
    batch: int = 1,
    gated_ffn: bool = False,
    lm_head_vocab: int | None = None,
) -> Workload:
    """A stack of transformer blocks (BERT/GPT-2 style, or LLaMA's gated FFN).

    `seq_q` tokens are processed per sequence, attending to `seq_kv`
    positions (the KV cache in decode; `seq_q` by default). With
    `lm_head_vocab` the LM head runs on the last position of each sequence.
    """
    seq_kv = seq_kv or seq_q
    tokens = batch * seq_q
    b = GraphBuilder()
    x = NETWORK_INPUT
    for i in range(layers):
        p = f"layer{i}"
        x = _attention_block(
            b, x, p, tokens=tokens, seq_q=seq_q, seq_kv=seq_kv, d=d, heads=heads, batch=batch
        )
        if gated_ffn:
            gate = b.add(Gemm(f"{p}.mlp.gate", m=tokens, n=d_ff, k=d), x)
            up = b.add(Gemm(f"{p}.mlp.up", m=tokens, n=d_ff, k=d), x)
            down = b.add(Gemm(f"{p}.mlp.down", m=tokens, n=d, k=d_ff), gate, up)
        else:
            up = b.add(Gemm(f"{p}.mlp.fc1", m=tokens, n=d_ff, k=d), x)
            down = b.add(Gemm(f"{p}.mlp.fc2", m=tokens, n=d, k=d_ff), up)
        x = x | down
    if lm_head_vocab:
        b.add(Gemm("lm_head", m=batch, n=lm_head_vocab, k=d), x)
    return b.workload(name)


def bert_base(seq: int = 128, batch: int = 1) -> Workload:
    name = "bert-base" if seq == 128 else f"bert-base-{seq}"
    return transformer(name, layers=12, d=768, heads=12, d_ff=3072, seq_q=seq, batch=batch)


def gpt2(phase: str = "prefill", context: int = 1024, batch: int = 1) -> Workload:
    """GPT-2 small: `prefill` of a `context`-token prompt, or `decode` of one token."""
    seq_q = context if phase == "prefill" else 1
    return transformer(
        f"gpt2-{phase}",
        layers=12,
        d=768,
        heads=12,
        d_ff=3072,
        seq_q=seq_q,
        seq_kv=context,
        batch=batch,
        lm_head_vocab=50257,
    )


def llama7b_block(seq: int = 2048, batch: int = 1) -> Workload:
    return transformer(
        "llama7b-block",
        layers=1,
        d=4096,
        heads=32,
        d_ff=11008,
        seq_q=seq,
        batch=batch,
        gated_ffn=True,
    )


ZOO: dict[str, Callable[[int], Workload]] = {
    "resnet50": lambda batch: resnet50(batch),
    "mobilenetv2": lambda batch: mobilenetv2(batch),
    "vgg16": lambda batch: vgg16(batch),
    "bert-base": lambda batch: bert_base(128, batch),
    "bert-base-512": lambda batch: bert_base(512, batch),
    "gpt2-prefill": lambda batch: gpt2("prefill", batch=batch),
    "gpt2-decode": lambda batch: gpt2("decode", batch=batch),
    "llama7b-block": lambda batch: llama7b_block(batch=batch),
}


def zoo_names() -> list[str]:
    return list(ZOO)


def zoo_workload(name: str, batch: int = 1) -> Workload:
    """A zoo network by name (`zoo_names()`), shapes only, at batch `batch`."""
    return ZOO[name](batch)
