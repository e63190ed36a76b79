"""Layer IR: conv lowering (im2col) equals a direct convolution."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from workloads.layers import Conv2d


def direct_conv(x, w, stride, pad):
    """x: (B, H, W, C), w: (R, S, C, K) -> (B, P, Q, K), plain loops."""
    b, h, wd, _ = x.shape
    r, s, _, k = w.shape
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    p = (h + 2 * pad - r) // stride + 1
    q = (wd + 2 * pad - s) // stride + 1
    out = np.zeros((b, p, q, k), np.int64)
    for i in range(p):
        for j in range(q):
            patch = x[:, i * stride : i * stride + r, j * stride : j * stride + s, :]
            out[:, i, j, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
    return out


@given(
    st.integers(1, 2),
    st.integers(3, 7),
    st.integers(3, 7),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 4),
    st.integers(1, 2),
    st.integers(0, 1),
    st.integers(0, 2**31),
)
def test_im2col_gemm_equals_direct_conv(b, h, w, c, r, s, k, stride, pad, seed):
    layer = Conv2d("c", h=h, w=w, c=c, r=r, s=s, k=k, stride=stride, padding=pad, batch=b)
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=(b, h, w, c))
    wt = rng.integers(-128, 128, size=(r, s, c, k))
    g = layer.gemm()
    lowered = layer.lower_activations(x)
    assert lowered.shape == (g.m, g.k)
    out = lowered @ wt.reshape(g.k, g.n)
    np.testing.assert_array_equal(
        out.reshape(b, layer.out_h, layer.out_w, k), direct_conv(x, wt, stride, pad)
    )
    assert layer.input_elements == b * h * w * c
