"""How a layer's sparsity meets the array (DESIGN.md, "Sparsity semantics").

- Mode: a layer runs at the speed of the best supported N:M pattern its mask
  satisfies; if it satisfies none it runs dense. With no real mask the
  declared pattern decides (it satisfies n:m when every group of m provably
  holds at most n nonzeros). An `nm_any` array (SCALE-Sim's layer-wise N:M)
  runs the pattern the layer declares.
- Zero activations: gated (energy only) or skipped (cycles too), as the
  array's options say; `activation_density` of the layer gives the fraction.
- All-zero weight tiles: skipped where the array supports it, counted from
  the real mask (`reduction_nonzero` feeds the tile model's fold counts).
"""

from __future__ import annotations

import numpy as np

from simulator.arch import PEArraySpec
from workloads.sparsity import NM, grouped, satisfies_nm
from workloads.workload import LayerWorkload


def pattern_implies(declared: NM, target: NM) -> bool:
    """True if every declared:N:M mask also satisfies `target` (worst-case placement)."""
    if declared.is_dense:
        return target.is_dense
    if declared.m % target.m == 0:
        # a target group lies inside one declared group: it may hold all of it
        return declared.n <= target.n
    if target.m % declared.m == 0:
        return declared.n * (target.m // declared.m) <= target.n
    return False


def has_weights(lw: LayerWorkload) -> bool:
    return bool(getattr(lw.layer, "has_weights", True))


def select_pattern(lw: LayerWorkload, array: PEArraySpec) -> NM | None:
    """The supported pattern this layer runs in (largest window), or None for dense."""
    if not has_weights(lw):
        return None  # both operands are activations: nothing was pruned
    if array.nm_any:
        declared = lw.pattern
        if declared is None or declared.is_dense:
            return None
        if lw.mask is not None and not satisfies_nm(lw.mask, declared, axis=-2):
            return None
        return declared
    best: NM | None = None
    for pat in array.nm_patterns:
        if lw.mask is not None:
            ok = satisfies_nm(lw.mask, pat, axis=-2)  # reduction axis of (groups,) K x N
        else:
            ok = lw.pattern is not None and pattern_implies(lw.pattern, pat)
        if ok and (best is None or array.window(pat) > array.window(best)):
            best = pat
    return best


def fallback_reason(lw: LayerWorkload, array: PEArraySpec, ran: NM | None) -> str | None:
    """Why a layer with pruned weights ran in mode `ran` instead of at its own
    sparsity, in one phrase; None when the array used what the layer has."""
    if not has_weights(lw):
        return None
    declared = lw.pattern if lw.pattern is not None and not lw.pattern.is_dense else None
    if declared is None and lw.weight_density >= 1.0:
        return None  # nothing pruned: nothing to fall back from
    what = str(declared) if declared else f"unstructured sparsity (density {lw.weight_density:.2f})"
    if not array.nm_patterns and not array.nm_any:
        return f"{what}: the array has no sparse mode (dense only)"
    supported = (
        "any N:M the layer declares"
        if array.nm_any
        else ", ".join(str(p) for p in array.nm_patterns)
    )
    if ran is None:
        if declared and lw.mask is not None and array.nm_any:
            return f"{what}: the mask breaks its declared pattern (array runs {supported})"
        return f"{what} satisfies none of the array's patterns ({supported})"
    if declared and ran != declared:
        return f"{what} is not supported; {ran} is the finest supported pattern it satisfies"
    return None


def activation_density(lw: LayerWorkload) -> float:
    return float(getattr(lw, "activation_density", 1.0))


def weight_mask(lw: LayerWorkload) -> np.ndarray | None:
    """The real mask as (groups, K, N), or None."""
    if lw.mask is None:
        return None
    mask = np.asarray(lw.mask, dtype=bool)
    return mask if mask.ndim == 3 else mask[None]


def reduction_nonzero(mask: np.ndarray, window: int) -> np.ndarray:
    """(groups, steps, N): whether reduction step s (K elements s*window ..) of
    output column n holds any nonzero weight. A step is what one PE reduces
    in one cycle, so an all-zero run of steps is work a skipping array drops."""
    return np.any(grouped(mask, window, axis=-2), axis=-1).swapaxes(-1, -2)
