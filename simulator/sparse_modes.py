"""Which execution mode a layer runs in on a given PE array (DESIGN.md).

A layer runs at the speed of the best supported N:M pattern its mask
satisfies; if it satisfies none it runs in dense mode. With no real mask the
declared pattern decides (it satisfies n:m when every group of m provably
holds at most n nonzeros).
"""

from __future__ import annotations

from simulator.arch import PEArraySpec
from workloads.sparsity import NM, satisfies_nm
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


def select_pattern(lw: LayerWorkload, array: PEArraySpec) -> NM | None:
    """The supported pattern this layer runs in (largest window), or None for dense."""
    best: NM | None = None
    for pat in array.nm_patterns:
        if lw.mask is not None:
            ok = satisfies_nm(lw.mask, pat, axis=-2)  # reduction axis of (groups,) K x N
        else:
            ok = lw.pattern is not None and pattern_implies(lw.pattern, pat)
        if ok and (best is None or array.window(pat) > array.window(best)):
            best = pat
    return best
