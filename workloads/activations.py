"""Activation sparsity: measured on sample inputs, or set as a density.

The density of a layer's input operand (nonzero fraction) is what zero
gating or skipping of activations can exploit. Three measures:

- `relu_density`: exact zeros, as a ReLU leaves them;
- `threshold_density`: entries with |x| above a per-channel threshold (zero
  them and you get that density: threshold pruning of activations, as in
  dynamic activation sparsity schemes);
- `delta_density`: for a stream of frames, the entries that change by more
  than a threshold from one frame to the next (temporal-delta processing,
  e.g. for video or sensor streams).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from workloads.workload import Workload


def relu_density(x: np.ndarray) -> float:
    """Nonzero fraction of `x` (1.0 for an empty tensor)."""
    a = np.asarray(x)
    return float(np.count_nonzero(a) / a.size) if a.size else 1.0


def threshold_density(
    x: np.ndarray, thresholds: np.ndarray | float, channel_axis: int = -1
) -> float:
    """Fraction of entries with |x| > the threshold of their channel."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    t = np.asarray(thresholds, dtype=np.float64)
    if t.ndim == 1:
        shape = [1] * a.ndim
        shape[channel_axis] = t.size
        t = t.reshape(shape)
    return float(np.count_nonzero(a > t) / a.size) if a.size else 1.0


def delta_density(frames: np.ndarray, threshold: float = 0.0) -> float:
    """Fraction of entries that change by more than `threshold` between consecutive
    frames (axis 0 is time); the first frame counts in full."""
    f = np.asarray(frames, dtype=np.float64)
    if f.shape[0] < 2:
        return relu_density(f)
    changed = np.count_nonzero(np.abs(np.diff(f, axis=0)) > threshold)
    first = np.count_nonzero(f[0])
    return float((changed + first) / f.size)


def with_activation_density(workload: Workload, density: float | Mapping[str, float]) -> Workload:
    """The workload with activation densities set: one value for all layers, or per layer name."""

    def pick(name: str, old: float) -> float:
        if isinstance(density, Mapping):
            return float(density.get(name, old))
        return float(density)

    layers = [
        dataclasses.replace(lw, activation_density=pick(lw.name, lw.activation_density))
        for lw in workload.layers
    ]
    return workload.replace_layers(layers)
