"""Holding sparsim's access counts and energy by level to a Timeloop case.

For every case folder (`timeloop.find_cases`) the same problem and the same
loop nest are run through sparsim's public path (`simulator.simulate` with
an explicit `Mapping`) on an architecture built from the case's levels, and
compared level by level:

- access counts: Timeloop's algorithmic (dense) scalar reads + fills +
  updates per storage level (per data space where sparsim reports them)
  against sparsim's, in words of the level's width; within 10% where the
  loop nests are the same;
- energy by level: sparsim's counts priced with Timeloop's own per-access
  energies (the stats' energy per scalar access, from its ERT), as shares of
  the total; within 10 percentage points of Timeloop's shares.

"The same loop nest" is decided from the map, not assumed: a convolution's
inputs with a sliding window (R > 1 with P > 1, or S > 1 with Q > 1) are not
an im2col GEMM's inputs (Timeloop keeps the halo once; a GEMM operand is
K x M), loops over dimensions that fold into one GEMM dimension must be
adjacent within a level, spatial fan-out can sit only at the array, and
per-operand PE scratchpads or a second on-chip level must exist in the
model. Each comparison records whether it is held to the tolerance and,
when not, why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sparsim.validate.timeloop import Case, LevelStats

COUNT_TOLERANCE = 0.10  # relative, per level (acceptance of issue 9)
SHARE_TOLERANCE_PP = 10.0  # percentage points of total energy, per level

# GEMM view of the two problem families the tutorial and example designs use:
# dimension -> GEMM dimension; data space -> (operand, the dimensions it spans)
CONV_GEMM_DIM = {"N": "m", "P": "m", "Q": "m", "M": "n", "C": "k", "R": "k", "S": "k"}
CONV_SPACES = {
    "Weights": ("weights", "CMRS"),
    "Inputs": ("inputs", "NCPQRS"),
    "Outputs": ("outputs", "NMPQ"),
}
GEMM_GEMM_DIM = {"M": "m", "N": "n", "K": "k"}
GEMM_SPACES = {"A": ("inputs", "MK"), "B": ("weights", "KN"), "Z": ("outputs", "MN")}


@dataclass(frozen=True, slots=True)
class Problem:
    family: str  # "conv" or "gemm"
    dims: dict[str, int]
    gemm_dim: dict[str, str]
    spaces: dict[str, tuple[str, str]]  # Timeloop data space -> (sparsim operand, dims)

    @property
    def gemm(self) -> tuple[int, int, int]:
        out = {"m": 1, "n": 1, "k": 1}
        for d, size in self.dims.items():
            out[self.gemm_dim[d]] *= size
        return out["m"], out["n"], out["k"]

    @property
    def sliding_window(self) -> bool:
        g = self.dims.get
        return self.family == "conv" and (
            (g("R", 1) > 1 and g("P", 1) > 1) or (g("S", 1) > 1 and g("Q", 1) > 1)
        )

    def projections(self) -> dict[str, str]:
        """Data space -> its dimensions, for the map's tile self-check (sliding
        windows excluded: their tile is not a product of bounds)."""
        out = {}
        for ds, (op, dims) in self.spaces.items():
            if not (op == "inputs" and self.sliding_window):
                out[ds] = dims
        return out


def problem_of(case: Case) -> Problem:
    names = {ds.name for lv in case.stats.storage for ds in lv.dataspaces}
    dims = case.dims
    if names <= set(GEMM_SPACES) and set(dims) <= set(GEMM_GEMM_DIM):
        return Problem("gemm", dims, GEMM_GEMM_DIM, GEMM_SPACES)
    if names <= set(CONV_SPACES) and set(dims) <= set(CONV_GEMM_DIM):
        return Problem("conv", dims, CONV_GEMM_DIM, CONV_SPACES)
    raise ValueError(
        f"{case.name}: data spaces {sorted(names)} over dimensions {sorted(dims)} are "
        "neither a CNN layer (Weights/Inputs/Outputs) nor a GEMM (A/B/Z)"
    )


@dataclass(frozen=True, slots=True)
class LevelPlan:
    """One Timeloop storage level as sparsim sees it."""

    timeloop: str
    sparsim: str | None  # the sparsim level it is compared with (None: none exists)
    tile: tuple[int, int, int]  # GEMM (m, n, k) of the data this level holds
    loop_order: str  # GEMM loops over its children, outer to inner (trip > 1 only)
    spatial: dict[str, int]  # GEMM dim -> spatial fan-out under this level
    not_same: tuple[str, ...]  # why the loop nest here is not one sparsim expresses


@dataclass(frozen=True, slots=True)
class Plan:
    problem: Problem
    levels: tuple[LevelPlan, ...]  # outermost first (storage levels only)
    array: tuple[int, int]  # rows, cols of the PE array (spatial fan-out)
    word_bits: int


def plan_case(case: Case) -> Plan:
    """The GEMM loop nest the case's map implies, level by level, and where it
    leaves what sparsim can express."""
    prob = problem_of(case)
    gd = prob.gemm_dim
    maps = case.mapping
    storage = {lv.name: lv for lv in case.stats.storage}
    # per-operand PE scratchpads: levels (inner than every spatial loop) holding one data space
    spatial_depth = max(
        (i for i, lv in enumerate(maps) if any(lp.spatial for lp in lv.loops)), default=-1
    )
    out = []
    onchip = [lv.name for i, lv in enumerate(maps) if i > 0 and i <= spatial_depth and lv.tiles]
    for i, lv in enumerate(maps):
        below = [lp for deeper in maps[i:] for lp in deeper.loops]
        tile = {"m": 1, "n": 1, "k": 1}
        for lp in below:
            tile[gd[lp.dim]] *= lp.bound
        temporal = [gd[lp.dim] for lp in lv.loops if lp.bound > 1 and not lp.spatial]
        order: list[str] = []
        not_same: list[str] = []
        for d in temporal:
            if order and order[-1] == d:
                continue
            if d in order:
                not_same.append(f"loops over {d} split by another dimension under {lv.name}")
            order.append(d)
        spatial: dict[str, int] = {}
        for lp in lv.loops:
            if lp.spatial and lp.bound > 1:
                spatial[gd[lp.dim]] = spatial.get(gd[lp.dim], 1) * lp.bound
        innermost = i == len(maps) - 1
        if i == 0:
            name = "dram"
            if innermost:
                not_same.append(
                    f"the MAC reads {lv.name} every compute; sparsim puts a GLB and PE "
                    "registers between DRAM and the array"
                )
        elif spatial_depth < 0 and innermost:
            # one MAC under a buffer: the buffer is the GLB; the MAC reads it every
            # compute, where sparsim's PE registers keep the stationary operand
            name = "glb"
            not_same.append(
                f"the MAC reads {lv.name} every compute; sparsim's PE registers keep the "
                "stationary operand between them"
            )
        elif i > spatial_depth:
            name = "pe_registers"
        elif len(onchip) == 1 or lv.name == onchip[-1]:
            name = "glb"
        else:
            name = None
            not_same.append(f"a second shared on-chip level ({lv.name}) above the GLB")
        if spatial and i < spatial_depth:
            not_same.append(f"spatial fan-out under {lv.name} above an inner storage level")
        if name == "pe_registers" and len(lv.tiles) == 1:
            not_same.append(f"{lv.name} is a per-operand scratchpad")
        if name is not None and lv.name in storage and not storage[lv.name].dataspaces:
            name = None
        if not lv.tiles:
            continue  # a dummy level (no data): its loops are spatial glue only
        out.append(
            LevelPlan(
                lv.name,
                name,
                (tile["m"], tile["n"], tile["k"]),
                "".join(order),
                spatial,
                tuple(not_same),
            )
        )
    rows = cols = 1
    fan = {}
    for lv in maps:
        for lp in lv.loops:
            if lp.spatial and lp.bound > 1:
                fan[lp.spatial] = fan.get(lp.spatial, 1) * lp.bound
    rows, cols = fan.get("Y", 1), fan.get("X", 1)
    bits = max((lv.word_bits for lv in case.stats.storage), default=8)
    return Plan(prob, tuple(out), (rows, cols), bits)


@dataclass(frozen=True, slots=True)
class Comparison:
    """One number held to Timeloop's."""

    case: str
    quantity: str  # e.g. "accesses Buffer" or "energy share DRAM"
    reference: float
    sparsim: float
    tolerance: str
    held: bool  # whether this comparison is held to the tolerance
    why_not: str = ""

    @property
    def error(self) -> float:
        if self.quantity.startswith("energy share"):
            return self.sparsim - self.reference  # percentage points
        return (self.sparsim - self.reference) / self.reference if self.reference else math.inf

    @property
    def passed(self) -> bool:
        if self.quantity.startswith("energy share"):
            return abs(self.error) <= SHARE_TOLERANCE_PP
        return abs(self.error) <= COUNT_TOLERANCE


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    case: str
    plan: Plan | None
    comparisons: tuple[Comparison, ...] = ()
    note: str = ""
    tile_mismatches: tuple[str, ...] = field(default=())


def _level_total(lv: LevelStats, spaces: set[str] | None = None) -> float:
    return sum(
        sum(ds.algorithmic.values()) for ds in lv.dataspaces if spaces is None or ds.name in spaces
    )


def compare_case(case: Case, run_sparsim) -> CaseOutcome:
    """Compare one case. `run_sparsim(plan)` returns sparsim's counts as
    {sparsim level: {operand or "total": words}} and its MAC count."""
    from sparsim.validate.timeloop import tile_check

    try:
        plan = plan_case(case)
    except ValueError as exc:
        return CaseOutcome(case.name, None, note=str(exc))
    mismatches = tuple(tile_check(case, plan.problem.projections()))
    counts, macs = run_sparsim(plan)
    storage = {lv.name: lv for lv in case.stats.storage}
    comps: list[Comparison] = []
    # several Timeloop levels can map onto one sparsim level (the per-operand
    # scratchpads onto the PE registers): sum them
    groups: dict[str, list[LevelPlan]] = {}
    for lp in plan.levels:
        if lp.sparsim is not None and lp.timeloop in storage:
            groups.setdefault(lp.sparsim, []).append(lp)
    for sname, lps in groups.items():
        ref = sum(_level_total(storage[lp.timeloop]) for lp in lps)
        got = counts.get(sname, {}).get("total")
        reasons = [r for lp in lps for r in lp.not_same]
        names = "+".join(lp.timeloop for lp in lps)
        if plan.problem.sliding_window:
            reasons.append("convolution inputs: sliding window vs im2col")
        if got is None:
            reasons.append(f"sparsim reports no access counts for its {sname}")
        comps.append(
            Comparison(
                case.name, f"accesses {names} (all data spaces) vs sparsim {sname}",
                ref, float(got or 0.0), f"within {COUNT_TOLERANCE:.0%}", not reasons,
                "; ".join(dict.fromkeys(reasons)),
            )
        )  # fmt: skip
        # per data space, where sparsim splits by operand
        for lp in lps:
            for ds in storage[lp.timeloop].dataspaces:
                op = plan.problem.spaces[ds.name][0]
                got_op = counts.get(sname, {}).get(op)
                if got_op is None:
                    continue
                why = list(lp.not_same)
                if op == "inputs" and plan.problem.sliding_window:
                    why.append("convolution inputs: sliding window vs im2col")
                comps.append(
                    Comparison(
                        case.name, f"accesses {lp.timeloop} {ds.name} vs sparsim {sname} {op}",
                        sum(ds.algorithmic.values()), float(got_op),
                        f"within {COUNT_TOLERANCE:.0%}", not why, "; ".join(why),
                    )
                )  # fmt: skip
    # energy by level on Timeloop's per-access energies
    ar = case.stats.arithmetic
    ref_energy = {ar.name: ar.energy_pj} | {lv.name: lv.energy_pj for lv in case.stats.storage}
    mine = {ar.name: macs * ar.compute_energy_pj}
    for sname, lps in groups.items():
        total_ref = sum(_level_total(storage[lp.timeloop]) for lp in lps)
        e_ref = sum(storage[lp.timeloop].energy_pj for lp in lps)
        per_access = e_ref / total_ref if total_ref else 0.0
        split = counts.get(sname, {})
        pj = 0.0
        ops = {
            plan.problem.spaces[ds.name][0]: ds
            for lp in lps
            for ds in storage[lp.timeloop].dataspaces
        }
        if ops and all(op in split for op in ops):
            pj = sum(split[op] * ds.energy_per_access_pj for op, ds in ops.items())
        else:
            pj = split.get("total", 0.0) * per_access
        mine["+".join(lp.timeloop for lp in lps)] = pj
        for lp in lps:
            ref_energy.pop(lp.timeloop, None)
        ref_energy["+".join(lp.timeloop for lp in lps)] = e_ref
    t_ref, t_mine = sum(ref_energy.values()), sum(mine.values())
    held_energy = all(c.held for c in comps) and t_ref > 0
    unmapped = [n for n, e in ref_energy.items() if n not in mine and e > 0]
    for name, e in ref_energy.items():
        why = []
        if not held_energy:
            why.append("access counts not on the same nest (above)")
        if unmapped:
            why.append(f"no sparsim level for {', '.join(unmapped)}")
        comps.append(
            Comparison(
                case.name, f"energy share {name}",
                100.0 * e / t_ref if t_ref else 0.0,
                100.0 * mine.get(name, 0.0) / t_mine if t_mine else 0.0,
                f"within {SHARE_TOLERANCE_PP:g} pp", not why, "; ".join(why),
            )
        )  # fmt: skip
    return CaseOutcome(case.name, plan, tuple(comps), tile_mismatches=mismatches)


__all__ = [
    "COUNT_TOLERANCE",
    "SHARE_TOLERANCE_PP",
    "CaseOutcome",
    "Comparison",
    "LevelPlan",
    "Plan",
    "Problem",
    "compare_case",
    "plan_case",
    "problem_of",
]
