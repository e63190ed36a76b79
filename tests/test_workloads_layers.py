"""Layer IR: grouped/dilated conv lowering, groups x GEMM = MACs, attention and training passes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workloads.layers import (
    AttentionKind,
    AttentionMatmul,
    Conv2d,
    Gemm,
    Pass,
    PassLayer,
    conv_weight_gemm_view,
    with_batch,
)


def direct_conv(x, w, stride, pads, dilation, groups):
    """x: (B, H, W, C), w: (K, C/G, R, S) (ONNX layout) -> (B, P, Q, K), by definition."""
    b, h, wd, _ = x.shape
    k, cg, r, s = w.shape
    top, left, bottom, right = pads
    x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    (sh, sw), (dh, dw) = stride, dilation
    p = (h + top + bottom - dh * (r - 1) - 1) // sh + 1
    q = (wd + left + right - dw * (s - 1) - 1) // sw + 1
    out = np.zeros((b, p, q, k), np.int64)
    kg = k // groups
    for o in range(k):
        g = o // kg
        for i in range(r):
            for j in range(s):
                patch = x[
                    :,
                    i * dh : i * dh + sh * (p - 1) + 1 : sh,
                    j * dw : j * dw + sw * (q - 1) + 1 : sw,
                ]
                out[..., o] += patch[..., g * cg : (g + 1) * cg] @ w[o, :, i, j]
    return out


@st.composite
def conv_cases(draw):
    groups = draw(st.integers(1, 3))
    c = groups * draw(st.integers(1, 3))
    k = groups * draw(st.integers(1, 3))
    r, s = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pads = tuple(draw(st.integers(0, 2)) for _ in range(4))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    h = draw(st.integers(dil[0] * (r - 1) + 1, 8))
    w = draw(st.integers(dil[1] * (s - 1) + 1, 8))
    b = draw(st.integers(1, 2))
    layer = Conv2d(
        "c", h=h, w=w, c=c, r=r, s=s, k=k, stride=stride, padding=pads, batch=b,
        groups=groups, dilation=dil,
    )  # fmt: skip
    return layer, draw(st.integers(0, 2**31))


@given(conv_cases())
def test_grouped_dilated_conv_lowering_equals_direct_conv(case):
    layer, seed = case
    rng = np.random.default_rng(seed)
    x = rng.integers(-8, 8, size=(layer.batch, layer.h, layer.w, layer.c))
    w = rng.integers(-8, 8, size=(layer.k, layer.c // layer.groups, layer.r, layer.s))
    g = layer.gemm()
    cols = layer.lower_activations(x)
    view = conv_weight_gemm_view(w, layer.groups)
    if layer.groups == 1:
        assert cols.shape == (g.m, g.k) and view.shape == (g.k, g.n)
        out = cols @ view
    else:
        assert cols.shape == (layer.groups, g.m, g.k) and view.shape == (layer.groups, g.k, g.n)
        out = np.concatenate(list(cols @ view), axis=-1)  # groups side by side along K_out
    expected = direct_conv(x, w, layer.strides, layer.pads, layer.dilations, layer.groups)
    np.testing.assert_array_equal(out.reshape(expected.shape), expected)
    assert (
        layer.macs
        == layer.groups * g.macs
        == expected.size * (layer.c // layer.groups) * layer.r * layer.s
    )
    assert layer.input_elements == x.size and layer.output_elements == expected.size
    assert layer.weight_elements == w.size


def test_depthwise_conv_is_c_gemms_of_one_column():
    dw = Conv2d("dw", h=56, w=56, c=144, r=3, s=3, k=144, stride=2, padding=1, groups=144)
    assert dw.is_depthwise and dw.groups == 144
    assert dw.gemm() == dw.gemm().__class__(28 * 28, 1, 9)
    assert dw.macs == 28 * 28 * 144 * 9


def test_attention_matmuls():
    qk = AttentionMatmul(
        "qk", AttentionKind.QK, seq_q=128, seq_kv=128, head_dim=64, heads=12, batch=2
    )
    av = AttentionMatmul("av", "av", seq_q=1, seq_kv=1024, head_dim=64, heads=12)
    assert (qk.gemm().m, qk.gemm().n, qk.gemm().k) == (128, 128, 64)
    assert (av.gemm().m, av.gemm().n, av.gemm().k) == (1, 64, 1024)
    assert qk.groups == 24 and qk.macs == 24 * 128 * 128 * 64
    assert av.input_elements == 12 * 1024 and av.weight_elements == 12 * 1024 * 64
    assert not qk.has_weights


@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**31))
def test_training_pass_gemms_compute_the_gradients(m, n, k, seed):
    """bwd_data's GEMM (M, K, N) with W^T gives dX; bwd_weight's (K, N, M) with dY gives dW."""
    rng = np.random.default_rng(seed)
    x, w, dy = rng.normal(size=(m, k)), rng.normal(size=(k, n)), rng.normal(size=(m, n))
    fwd = Gemm("l", m=m, n=n, k=k)
    bd, bw = PassLayer(fwd, Pass.BACKWARD_DATA), PassLayer(fwd, Pass.BACKWARD_WEIGHT)
    gd, gw = bd.gemm(), bw.gemm()
    dx = dy @ w.T  # (m x n) @ (n x k): reduction over n
    dw = x.T @ dy  # (k x m) @ (m x n): reduction over m
    assert (gd.m, gd.k, gd.n) == (*dy.shape, w.T.shape[1])
    assert (gw.m, gw.k, gw.n) == (*x.T.shape, dy.shape[1])
    assert dx.shape == (gd.m, gd.n) and dw.shape == (gw.m, gw.n)
    assert bd.macs == bw.macs == fwd.macs
    assert bd.input_elements == m * n and bd.output_elements == m * k
    assert bw.weight_elements == m * n and not bw.has_weights and bd.has_weights
    assert bd.name == "l/bwd_data" and bd.pass_ is Pass.BACKWARD_DATA and fwd.pass_ is Pass.FORWARD


def test_with_batch_scales_every_layer_type():
    conv = Conv2d("c", h=8, w=8, c=4, r=3, s=3, k=4)
    attn = AttentionMatmul("a", "qk", 16, 16, 8, 2)
    gemm = Gemm("g", 4, 5, 6)
    for layer in (conv, attn, gemm, PassLayer(gemm, "bwd_data")):
        assert with_batch(layer, 3).macs == 3 * layer.macs
    assert with_batch(gemm, 2).name == "g@b2" and with_batch(gemm, 2, suffix=False).name == "g"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"groups": 3},  # does not divide c = 4
        {"r": 9},  # filter larger than the ifmap
        {"stride": 0},
        {"padding": (1, 2, 3)},
    ],
)
def test_conv_rejects_bad_parameters(kwargs):
    base = {"h": 8, "w": 8, "c": 4, "r": 3, "s": 3, "k": 4}
    with pytest.raises(ValueError):
        Conv2d("bad", **{**base, **kwargs})
