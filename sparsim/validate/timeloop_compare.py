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

"The same loop nest" is decided from the map, not assumed: a convolution
runs as sparsim's Conv2d (its sliding window, `workloads.window`), with the
output axes assigned so that a split one is outer and the strides read from
the map's input tile sizes, and a level's input tile must be the one sparsim's
lowering cuts (its printed size equals the footprint sparsim counts); loops
over dimensions that fold into one GEMM dimension must be adjacent within a
level, spatial fan-out can sit only at the array, and per-operand PE
scratchpads or a second on-chip level must exist in the model. Each
comparison records whether it is held to the tolerance and, when not, why.
Which output-fill convention a stats file follows (Timeloop v3 or older) is
read from its counts.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field

from simulator.formats import RANK_FORMATS
from sparsim.validate.timeloop import Case, LevelStats
from workloads.window import InputWindow

COUNT_TOLERANCE = 0.10  # relative, per level (acceptance of issue 9)
SPARSE_ENERGY = (
    "sparsim runs this Sparseloop design dense (the sparsity features named beside are not "
    "sparsim's), Timeloop's shares are of its sparse work"
)
SHARE_TOLERANCE_PP = 10.0  # percentage points of total energy, per level

# GEMM view of the two problem families the tutorial and example designs use:
# dimension -> GEMM dimension; data space -> (operand, the dimensions it spans)
CONV_GEMM_DIM = {"N": "m", "P": "m", "Q": "m", "M": "n", "C": "k", "R": "k", "S": "k"}
# Timeloop's ISPASS 2020 exercises name the output channels K (and M is absent)
CONV_GEMM_DIM_K = {d: g for d, g in CONV_GEMM_DIM.items() if d != "M"} | {"K": "n"}
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
    if names <= set(CONV_SPACES) and set(dims) <= set(CONV_GEMM_DIM_K):
        spaces = {ds: (op, d.replace("M", "K")) for ds, (op, d) in CONV_SPACES.items()}
        return Problem("conv", dims, CONV_GEMM_DIM_K, spaces)
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
    holds: tuple[str, ...] = ()  # sparsim operands Timeloop keeps at this level
    stationary_only: str = ""  # a reason that holds for the level total and the stationary operand
    op_reasons: tuple[tuple[str, str], ...] = ()  # (operand, why its counts here differ)


@dataclass(frozen=True, slots=True)
class Plan:
    problem: Problem
    levels: tuple[LevelPlan, ...]  # outermost first (storage levels only)
    array: tuple[int, int]  # rows, cols of the PE array (spatial fan-out)
    word_bits: int
    dataflow: str = "ws"  # the sparsim dataflow whose array carries the spatial loops
    ert_path: str | None = None  # the case's Accelergy ERT, given to sparsim as its table
    # Timeloop level -> words per vector access (the ERT prices one vector)
    vector_words: tuple[tuple[str, int], ...] = ()
    # the PEs keep operands in registers between computes (False: the MAC reads the
    # innermost shared level every compute, Timeloop's designs without a register level)
    keeps_operands: bool = True
    mac: str = ""  # Timeloop's arithmetic level (the MAC's ERT component)
    # a convolution as sparsim's Conv2d sees it: (batch, out_h, out_w, channels, filters,
    # r, s, stride_h, stride_w); None for a GEMM (the harness then feeds a GEMM layer)
    conv: tuple[int, ...] | None = None
    # Timeloop before v3's first-read elision of fills counted a fill of every output
    # tile visit at the inner level (what sparsim counts as the next level's update)
    output_fill_per_visit: bool = False
    # the run's zero activations (SparseDesign): their density and what the PEs do
    # with them ("dense": nothing to do; "gated"; "skipped")
    activation_density: float = 1.0
    zeros: str = "dense"
    # the reads a gated zero saves (pe_array.gating_saves): its MAC's weight read, its
    # partial sum's read-modify-write
    gating_saves: tuple[str, ...] = ("weights", "outputs")
    # (operand, sparsim format) stored compressed at every level (SparseDesign.formats)
    formats: tuple[tuple[str, str], ...] = ()
    weight_density: float = 1.0  # the weights' (reads conditioned on them)
    # (sparsim level, operand, format): a level keeping an operand in its own format
    # (memory.<level>.formats; SparseDesign.level_formats)
    level_formats: tuple[tuple[str, str, str], ...] = ()
    output_density: float = 1.0  # the layer's (SparseDesign.output_density)


# which GEMM dimension each sparsim dataflow spreads over the array's rows and columns
# (mappings.dataflow: WS keeps a K x N weight tile, OS an M x N output tile, IS a K x M
# input tile)
ARRAY_DIMS = {"ws": ("k", "n"), "os": ("m", "n"), "is": ("k", "m")}
STATIONARY = {"ws": "weights", "os": "outputs", "is": "inputs"}
STREAMED = {"ws": "m", "os": "k", "is": "n"}  # the dimension the array streams (innermost)
# the operand that stays put while a loop over a dimension runs (it does not depend on it)
KEPT_BY = {"k": "outputs", "n": "inputs", "m": "weights"}
OPERAND_DIMS = {"weights": "kn", "inputs": "mk", "outputs": "mn"}


def _order_reasons(
    case: Case, prob: Problem, dataflow: str, shared_last: int, at_pe: list | None = None
) -> dict:
    """Operand -> why the array's own loop order (the loops below the GLB) is not
    sparsim's: (A) the PEs loop in time over a dimension the dataflow does not
    stream, keeping the operand that does not depend on it inside the PE; (B) a
    loop the stationary operand depends on runs inside a streamed loop above the
    PE level that keeps it, so it is refetched where sparsim's array keeps it.
    `at_pe` collects (PE level, operand, why) for (A): the PE level where the
    operand stays over the loop counts it differently too (its read-modify-writes
    stay there, where sparsim's PEs pass each fold's partial sums on)."""
    gd, maps = prob.gemm_dim, case.mapping
    streamed, stationary = STREAMED[dataflow], STATIONARY[dataflow]
    out: dict[str, str] = {}
    for lv in maps[shared_last + 1 :]:
        for lp in lv.loops:
            d = gd[lp.dim]
            if lp.bound > 1 and not lp.spatial and d != streamed:
                why = (
                    f"the PEs loop in time over {lp.dim} ({lv.name}), keeping "
                    f"{KEPT_BY[d]} inside; sparsim's PEs hold one fold"
                )
                out.setdefault(KEPT_BY[d], why)
                if at_pe is not None:
                    at_pe.append((lv.name, KEPT_BY[d], why))
    space = next((ds for ds, (op, _) in prob.spaces.items() if op == stationary), None)
    holder = next(
        (i for i in range(len(maps) - 1, shared_last, -1) if space in maps[i].tiles), len(maps)
    )
    for i in range(shared_last + 1, len(maps)):
        for ds, words in maps[i].tiles.items():
            op = prob.spaces.get(ds, ("", ""))[0]
            if op and op != stationary and words > 1:
                why = (
                    f"{maps[i].name} keeps {words} {ds} words per PE; sparsim's {dataflow.upper()} "
                    f"array streams {op}"
                )
                out.setdefault(op, why)
                if at_pe is not None:  # read there from the kept copy, where sparsim streams
                    at_pe.append((maps[i].name, op, why))
    if holder == len(maps) and shared_last == len(maps) - 1:
        return out  # the MAC reads the GLB itself: no PE keeps the stationary operand
    seen_stream = False
    for lv in maps[shared_last:holder]:
        for lp in lv.loops:
            if lp.bound <= 1 or lp.spatial:
                continue
            d = gd[lp.dim]
            if d == streamed:
                seen_stream = True
            elif seen_stream and d in OPERAND_DIMS[stationary]:
                out.setdefault(
                    stationary,
                    f"{lp.dim} ({lv.name}) runs inside the streamed loop, refetching "
                    f"{stationary}; sparsim's array streams {streamed} innermost",
                )
    return out


def _array_dataflow(fan: dict[str, dict[str, int]]) -> tuple[str | None, tuple[int, int], str]:
    """The dataflow whose array axes carry the map's spatial loops, the array
    (rows, cols), and why none does ('' when one does)."""
    axes = {ax: dims for ax, dims in fan.items() if dims}
    whole = (math.prod(fan["Y"].values()), math.prod(fan["X"].values()))
    if any(len(d) > 1 for d in axes.values()):
        mixed = ", ".join(f"{ax}: {'x'.join(sorted(d))}" for ax, d in axes.items() if len(d) > 1)
        return None, whole, f"spatial unrolling mixes GEMM dimensions on one axis ({mixed})"
    y = next(iter(axes.get("Y", {})), None)
    x = next(iter(axes.get("X", {})), None)
    size = {d: n for dims in axes.values() for d, n in dims.items()}
    for df, (rows, cols) in ARRAY_DIMS.items():
        for r, c in ((y, x), (x, y)):
            if r in (None, rows) and c in (None, cols) and not (r is not None and r == c):
                return df, (size.get(rows, 1) if r else 1, size.get(cols, 1) if c else 1), ""
    return None, whole, f"spatial unrolling over {sorted(size)} is none of WS/OS/IS"


def plan_case(case: Case, multi_level: bool = False) -> Plan:
    """The GEMM loop nest the case's map implies, level by level, and where it
    leaves what sparsim can express. `multi_level`: the model has shared
    on-chip levels above the GLB that keep reuse (not a pass-through L2)."""
    prob = problem_of(case)
    gd = prob.gemm_dim
    maps = case.mapping
    storage = {lv.name: lv for lv in case.stats.storage}
    # spatial loops in a level without data (Timeloop's DummyBuffer) fan out the
    # nearest level above that holds data
    owner = []
    for i, lv in enumerate(maps):
        owner.append(i if lv.tiles or i == 0 else owner[-1])
    spatial_at = [owner[i] for i, lv in enumerate(maps) if any(lp.spatial for lp in lv.loops)]
    spatial_depth = max(spatial_at, default=-1)
    fan: dict[str, dict[str, int]] = {"X": {}, "Y": {}}
    for lv in maps:
        for lp in lv.loops:
            if lp.spatial and lp.bound > 1:
                ax = fan[lp.spatial]
                ax[gd[lp.dim]] = ax.get(gd[lp.dim], 1) * lp.bound
    dataflow, array, array_why = _array_dataflow(fan)
    if len(set(spatial_at)) > 1:  # fan-out under several levels: a hierarchy of arrays
        names = ", ".join(maps[i].name for i in sorted(set(spatial_at)))
        array_why = (array_why + "; " if array_why else "") + (
            f"spatial fan-out under several levels ({names}); sparsim has one array"
        )
    last = spatial_depth if spatial_depth >= 0 else len(maps) - 1
    inherited: list[str] = []  # loop-order reasons of the level above: its loops fill this one
    shared = [i for i in range(1, last + 1) if maps[i].tiles]
    out = []
    for i, lv in enumerate(maps):
        below = [lp for deeper in maps[i:] for lp in deeper.loops]
        tile = {"m": 1, "n": 1, "k": 1}
        for lp in below:
            tile[gd[lp.dim]] *= lp.bound
        temporal = [gd[lp.dim] for lp in lv.loops if lp.bound > 1 and not lp.spatial]
        order: list[str] = []
        not_same: list[str] = list(inherited) if lv.tiles else []
        split: list[str] = []
        for d in temporal:
            if order and order[-1] == d:
                continue
            if d in order:
                split.append(f"loops over {d} split by another dimension under {lv.name}")
            order.append(d)
        not_same += split
        if lv.tiles:
            inherited = split
        else:
            inherited += split
        spatial = {gd[lp.dim]: lp.bound for lp in lv.loops if lp.spatial and lp.bound > 1}
        stationary_only = ""
        if i == 0:
            name = "dram"  # innermost: the MAC reads it (the harness's GLB keeps nothing)
        elif i in shared and i == shared[-1]:
            name = "glb"  # (spatial_depth < 0: the MAC reads it, run with keeps_operands off)
        elif i in shared:
            name = "".join(ch if ch.isalnum() else "_" for ch in lv.name.lower())
            if not multi_level:
                name = None
                not_same.append(f"a second shared on-chip level ({lv.name}) above the GLB")
        else:
            name = "pe_registers"
            if len(lv.tiles) == 1:
                not_same.append(f"{lv.name} is a per-operand scratchpad")
        if spatial and owner[i] != spatial_depth and i < spatial_depth:
            not_same.append(f"spatial fan-out under {lv.name} above an inner storage level")
        if array_why and (name in ("glb", "pe_registers") or "several levels" in array_why):
            not_same.append(array_why)
        if name is not None and lv.name in storage and not storage[lv.name].dataspaces:
            name = None
        if not lv.tiles:
            continue  # a dummy level (no data): its loops are spatial glue only
        out.append(
            LevelPlan(
                lv.name, name, (tile["m"], tile["n"], tile["k"]), "".join(order), spatial,
                tuple(dict.fromkeys(not_same)),
                tuple(prob.spaces[ds][0] for ds in lv.tiles if ds in prob.spaces),
                stationary_only,
            )
        )  # fmt: skip
    # the backing store's word (Timeloop prints the innermost first)
    bits = case.stats.storage[-1].word_bits if case.stats.storage else 8
    df = dataflow or "ws"
    # an operand whose reuse the array's loop order changes differs at the nearest
    # level outside the PEs that holds it (DRAM when every shared level bypasses it)
    at_pe: list[tuple[str, str, str]] = []
    order_why = _order_reasons(case, prob, df, shared[-1] if shared else 0, at_pe)
    patched = []
    for op, why in order_why.items():
        holders = [lp for lp in out if lp.sparsim not in (None, "pe_registers")]
        holders = [lp for lp in holders if op in lp.holds] or out[:1]
        patched.append((holders[-1].timeloop, op, why))
    # ... and at the PE level that keeps it over the loop, when it holds it
    holds_at = {lp.timeloop: lp.holds for lp in out}
    patched += [(name, op, why) for name, op, why in at_pe if op in holds_at.get(name, ())]
    conv, tile_why = _conv_geometry(case, prob, out)
    patched += tile_why
    out = [
        dataclasses.replace(
            lp, op_reasons=tuple((op, why) for name, op, why in patched if name == lp.timeloop)
        )
        for lp in out
    ]
    erts = sorted(case.folder.glob("*ERT*.yaml")) if case.ert else []
    vec = tuple((lv.name, lv.block_size) for lv in case.stats.storage)
    return Plan(
        prob, tuple(out), array, bits, df, str(erts[0]) if erts else None, vec,
        spatial_depth >= 0, case.stats.arithmetic.name, conv,
        _output_fill_per_visit(case, prob),
    )  # fmt: skip


def _conv_geometry(
    case: Case, prob: Problem, levels: list[LevelPlan]
) -> tuple[tuple[int, ...] | None, list[tuple[str, str, str]]]:
    """The conv as a sparsim Conv2d and, per level holding inputs, why its input
    tile is not the one sparsim's lowering cuts (its rows (n, p, q) and its
    reduction (a channel block under the whole window, or an (r, s, c) range)
    are contiguous ranges): the output axes are assigned so that a split one is
    outer; strides are read from the map's input tile sizes (Timeloop prints
    the halo'd tile); each level's printed input tile is then checked against
    the footprint sparsim counts for it."""
    if prob.family != "conv":
        return None, []
    dims = {d: prob.dims.get(d, 1) for d in "NCPQRS"}
    filters = prob.dims.get("M", prob.dims.get("K", 1))
    maps = [lv for lv in case.mapping if lv.tiles]
    inputs = next(ds for ds, (op, _) in prob.spaces.items() if op == "inputs")
    tiles = []
    for i, lv in enumerate(case.mapping):
        if not lv.tiles:
            continue
        t = dict.fromkeys("NCPQRS", 1)
        for deeper in case.mapping[i:]:
            for lp in deeper.loops:
                if lp.dim in t:
                    t[lp.dim] *= lp.bound
        tiles.append(t)

    def contiguous(outer: str, inner: str) -> bool:
        return all(
            (t[inner] == dims[inner] or (t[outer] == 1 and t["N"] == 1))
            and (t[outer] == dims[outer] or t["N"] == 1)
            for t in tiles
        )

    outer, inner = ("P", "Q") if contiguous("P", "Q") or not contiguous("Q", "P") else ("Q", "P")
    fr, fs = ("R", "S") if outer == "P" else ("S", "R")  # the filter axis of each
    printed = [lv.tiles.get(inputs) for lv in maps]

    def window(sh: int, sw: int) -> InputWindow:
        return InputWindow(
            dims["N"], dims[outer], dims[inner], dims["C"], dims[fr], dims[fs], sh, sw
        )

    def counted(win: InputWindow) -> list[tuple[int, float, int]]:
        """(level, the footprint sparsim counts, Timeloop's printed tile) per level
        holding inputs."""
        out = []
        for i, lp in enumerate(levels):
            size = printed[i] if i < len(printed) else None
            if size is None or "inputs" not in lp.holds:
                continue
            m_chain = tuple(o.tile[0] for o in levels[: i + 1])
            k_chain = tuple(o.tile[2] for o in levels[: i + 1])
            out.append((i, win.footprints(m_chain, k_chain)[1], size))
        return out

    # strides (not in the stats): those under which the most printed input tiles
    # are the footprints sparsim counts, the smallest of them (1 when none tell)
    stride = max(
        ((sh, sw) for sh in range(1, 5) for sw in range(1, 5)),
        key=lambda st: (sum(c == p for _, c, p in counted(window(*st))), -st[0] - st[1]),
    )
    win = window(*stride)
    why = []
    for i, got, size in counted(win):
        lp = levels[i]
        if got != size:
            why.append((
                lp.timeloop, "inputs",
                f"{lp.timeloop} keeps {size} {inputs} words per tile, where sparsim's tile of "
                f"rows (n, p, q) and reduction (c, r, s) touches {got:.0f}",
            ))  # fmt: skip
    conv = (
        dims["N"], dims[outer], dims[inner], dims["C"], filters, dims[fr], dims[fs], *stride
    )  # fmt: skip
    return conv, why


def _output_fill_per_visit(case: Case, prob: Problem) -> bool:
    """Which output-fill convention the stats follow, read from the counts: in
    Timeloop v3 (first-read elision) an inner level's output fills are partial
    sums read back from the level above, so there are none where that level
    reads no outputs; older versions also filled the first visit of every
    output tile, from a level that reads nothing for it."""
    space = next((ds for ds, (op, _) in prob.spaces.items() if op == "outputs"), None)
    holders = [
        ds for lv in case.stats.storage if (ds := lv.dataspace(space or "")) is not None
    ]  # innermost first
    return any(
        inner.algorithmic["fills"] > 0.5 and outer.algorithmic["reads"] < 0.5
        for inner, outer in itertools.pairwise(holders)
    )


@dataclass(frozen=True, slots=True)
class SparseDesign:
    """What a Sparseloop case's stats show its sparsity doing, read as data (the
    SAFs' gated and skipped counts, the stored formats, the actual computes), and
    the sparsim run that expresses it: zero activations at `activation_density`,
    gated or skipped by the PEs (DESIGN.md: gating saves the MAC and the reads only
    the zero operand needed, the weight read and the partial sum's read-modify-
    write; skipping saves the cycle too and reads a compacted activation stream).
    `gating_saves`: which of those two a gated zero saves (Eyeriss v1 gates the
    weight read, not the partial sum); `formats`: the operands kept in one of
    sparsim's rank formats (RLE, CP, UOP-CP, UOP-RLE) at every level, `level_formats`
    those kept compressed at some levels only (a format per level). `why_not`
    lists each feature sparsim cannot express (empty: it expresses all)."""

    sparse: bool
    activation_density: float = 1.0
    zeros: str = "dense"
    why_not: tuple[str, ...] = ()
    gating_saves: tuple[str, ...] = ("weights", "outputs")
    formats: tuple[tuple[str, str], ...] = ()  # (operand, sparsim format) kept compressed
    weight_density: float = 1.0  # where reads are conditioned on the weights
    # (Timeloop level, operand, sparsim format) of the operands kept compressed at some
    # levels only (the others: dense); sparsim's `memory.<level>.formats`
    level_formats: tuple[tuple[str, str, str], ...] = ()
    output_density: float = 1.0  # of the final outputs a level keeps compressed


UNNAMED_FORMAT = "?"  # compressed, in a format the stats do not print (older Timeloop)
WEIGHT_FORMATS = (
    "dense, N:M, bitmask, CSR, RLE, CP, UOP-CP or UOP-RLE (counted in bytes, metadata included)"
)
ACTIVATION_FORMATS = (
    "dense, bitmask, RLE, CP, UOP-CP or UOP-RLE (counted in bytes, metadata included)"
)


def sparse_design(case: Case, prob: Problem) -> SparseDesign:
    """How the case's sparsity maps onto sparsim's, from its stats alone (the
    problem's densities and the SAF specs are not in the outputs)."""
    ar = case.stats.arithmetic
    storage = case.stats.storage  # innermost first
    sparse = ar.computes_actual != ar.computes_algorithmic or any(
        ds.actual != ds.algorithmic for lv in storage for ds in lv.dataspaces
    )
    if not sparse:
        return SparseDesign(False)
    op_of = {ds: op for ds, (op, _) in prob.spaces.items()}
    ds_of = {op: ds for ds, op in op_of.items()}
    inner: dict[str, str] = {}  # data space -> the innermost level holding it (the MAC's)
    for lv in storage:
        for ds in lv.dataspaces:
            inner.setdefault(ds.name, lv.name)
    density = ar.computes_actual / ar.computes_algorithmic if ar.computes_algorithmic else 1.0
    why: list[str] = []
    saves: tuple[str, ...] = ("weights", "outputs")
    weight_density = 1.0
    formats: dict[str, str] = {}  # operand -> the sparsim rank format it is kept in
    per_level: dict[str, dict[str, str]] = {}  # operand -> {level: format} where compressed
    output_density = 1.0
    gated: set[tuple[str, str, str]] = set()
    skipped: set[tuple[str, str, str]] = set()
    compressed: dict[tuple[str, str], str] = {}
    for lv in storage:
        for ds in lv.dataspaces:
            gated |= {(lv.name, ds.name, a) for a, v in ds.gated.items() if v > 0}
            skipped |= {(lv.name, ds.name, a) for a, v in ds.skipped.items() if v > 0}
            if ds.compressed:
                compressed[(lv.name, ds.name)] = ds.representation_format
                continue
            # older stats print no format: a data space moving fewer words than it
            # would with only its gated and skipped ones removed is kept compressed
            cut = sum(ds.gated.values()) + sum(ds.skipped.values())
            left = sum(ds.algorithmic.values()) - cut
            if sum(ds.actual.values()) < left - max(1.0, 1e-3 * left):
                compressed[(lv.name, ds.name)] = UNNAMED_FORMAT
    w, i, o = (ds_of.get(op, "") for op in ("weights", "inputs", "outputs"))
    # the accesses a zero activation saves in sparsim: its MAC's weight read and
    # partial-sum read-modify-write, where the MAC reads them
    saved = {(inner.get(w), w, "reads"), (inner.get(o), o, "reads"), (inner.get(o), o, "updates")}
    needed = {(inner.get(w), w, "reads"), (inner.get(o), o, "updates")}
    zeros = "skipped" if skipped else "gated"
    acted = skipped or gated
    if gated and skipped:
        why.append("both gating and skipping SAFs: sparsim's PEs either gate or skip zeros")
    verb = {"gated": "gate", "skipped": "skip"}[zeros]
    saving = {ds for _, ds, a in acted if a == "reads"}  # data spaces whose reads are cut
    if i in saving:
        # reads conditioned on the weights (with the weights' on the inputs too: the
        # two-operand intersection): sparsim's `gating_saves` with inputs, at the weights'
        # density, which the input reads kept show (of those not cut by the format)
        ilv = next((lv for lv in storage if lv.name == inner.get(i)), None)
        ids = ilv.dataspace(i) if ilv else None
        cut = (ids.gated["reads"] + ids.skipped["reads"]) if ids else 0.0
        kept = ids.actual["reads"] if ids else 0.0
        weight_density = kept / (kept + cut) if kept + cut else 1.0
        extra = {
            (lv, ds, a)
            for lv, ds, a in acted
            if (lv, ds, a) not in saved | {(inner.get(i), i, "reads")}
        }
        for lv, ds, a in sorted(extra):
            why.append(
                f"{lv} {'skips' if (lv, ds, a) in skipped else 'gates'} {ds} {a}: a gated MAC "
                f"saves only its {w} and {i} reads and its {o} read-modify-write in sparsim"
            )
        for lv, ds, a in sorted(needed - acted):
            if a == "updates":  # (a weight read not cut: sparsim's gating_saves without it)
                why.append(f"{lv} does not {verb} {ds} {a} while cutting {i} reads")
        saves = tuple(
            op
            for op, key in (
                ("weights", (inner.get(w), w, "reads")),
                ("inputs", (inner.get(i), i, "reads")),
                ("outputs", (inner.get(o), o, "updates")),
            )
            if key in acted
        )
        # the computes are the nonzero pairs: the activations' density is what is left
        density = min(1.0, density / weight_density) if weight_density else 1.0
        # sparsim gates (Sparseloop may skip): the same counts and energy in expectation,
        # the cycles are not compared here
        zeros = "gated"
    else:
        for lv, ds, a in sorted(acted - saved):
            why.append(
                f"{lv} {'skips' if (lv, ds, a) in skipped else 'gates'} {ds} {a}: a zero "
                f"activation saves only its MAC's {w} read and {o} read-modify-write in sparsim"
            )
        if zeros == "gated":
            # pe_array.gating_saves: the reads the design's gating SAFs cut
            saves = tuple(
                op
                for op, key in (
                    ("weights", (inner.get(w), w, "reads")),
                    ("outputs", (inner.get(o), o, "updates")),
                )
                if key in acted
            )
        for lv, ds, a in sorted(needed - acted) if acted and zeros == "skipped" else ():
            why.append(
                f"{lv} does not {verb} {ds} {a}: "
                f"sparsim's skipped zero activations save both the {w} read and the {o} "
                "read-modify-write"
            )
        # the cut fraction of the weight reads = the activations' zeros (the SAF is
        # conditioned on the activations), else on something sparsim does not see
        wlv = next((lv for lv in storage if lv.name == inner.get(w)), None)
        wds = wlv.dataspace(w) if wlv else None
        if wds and wds.algorithmic["reads"] and acted:
            cut = (wds.gated["reads"] + wds.skipped["reads"]) / wds.algorithmic["reads"]
            if abs(cut - (1.0 - density)) > 0.01 + 1.0 / wds.algorithmic["reads"]:
                why.append(
                    f"{inner[w]} saves {cut:.0%} of {w} reads, the computes {1 - density:.0%}:"
                    " the SAF is conditioned on more than the activations"
                )
        if skipped and (inner.get(i), i) not in compressed:
            why.append(
                f"{inner.get(i)} reads every {i} (uncompressed) while skipping: sparsim's "
                "skipping PEs read a compacted stream of nonzero activations"
            )
    if not acted:
        # no SAF: the MAC sees only the nonzeros of an operand it reads compressed
        seen = [(lv, ds) for (lv, ds) in compressed if inner.get(ds) == lv]
        for lv, ds in seen:
            why.append(
                f"{ar.name} computes only {ds}'s nonzeros ({ds} is compressed at {lv}, the "
                "level the MAC reads; no SAF): a structured-sparse datapath, which sparsim "
                f"runs as N:M on its weights operand only ({ds} is its {op_of.get(ds)} here)"
            )
        if not seen:
            why.append("actual work below algorithmic with no gating or skipping SAF")
    for (lv, ds), fmt in compressed.items():
        op = op_of.get(ds, "")
        if zeros == "skipped" and op == "inputs" and lv == inner.get(i):
            # the skipping PE reads a compacted stream of nonzero activations: the
            # MAC-side reads of a compressed operand; its fills must still be dense
            lvs = next(x for x in storage if x.name == lv).dataspace(ds)
            if lvs and lvs.actual["fills"] == lvs.algorithmic["fills"]:
                continue
        allowed = {"weights": WEIGHT_FORMATS, "inputs": ACTIVATION_FORMATS}.get(op, "dense only")
        if fmt == UNNAMED_FORMAT:
            why.append(
                f"{lv} moves fewer {ds} words than it would with only gated and skipped "
                "ones removed: a compressed format these stats do not name"
            )
            continue
        key = "_".join(fmt.split())
        if op == "outputs":
            # final outputs only (sparsim never compresses partial sums), at the density
            # the level's updates show (Sparseloop's Outputs density)
            ods = next(x for x in storage if x.name == lv).dataspace(ds)
            spilled = ods is None or ods.algorithmic["reads"] > 0 or ods.algorithmic["fills"] > 0
            if spilled or key not in RANK_FORMATS or not ods.algorithmic["updates"]:
                why.append(
                    f"{lv} keeps {ds} compressed ({fmt.upper()}) with partial sums moving "
                    "through it: sparsim compresses final outputs only"
                    if spilled
                    else f"{lv} keeps {ds} compressed ({fmt.upper()}), a format sparsim lacks"
                )
                continue
            output_density = ods.actual["updates"] / ods.algorithmic["updates"]
        if key not in RANK_FORMATS:
            why.append(
                f"{lv} keeps {ds} compressed ({fmt.upper()}), a format sparsim lacks: it stores "
                f"{op} {allowed}"
            )
            continue
        per_level.setdefault(op, {})[lv] = key
    level_formats: list[tuple[str, str, str]] = []
    for op, at in per_level.items():
        ds = ds_of[op]
        holding = [x.name for x in storage if x.dataspace(ds)]
        if op != "outputs" and len(set(at.values())) == 1 and set(at) == set(holding):
            formats[op] = next(iter(at.values()))  # one format at every level
            continue
        # a format per level (memory.<level>.formats), uncompressed elsewhere
        level_formats += [(lv, op, fmt) for lv, fmt in at.items()]
    if ar.computes_skipped and zeros != "skipped":
        why.append(f"{ar.name} skips computes without a skipping SAF sparsim has")
    return SparseDesign(
        True, density, zeros, tuple(dict.fromkeys(why)), saves, tuple(sorted(formats.items())),
        weight_density, tuple(level_formats), output_density,
    )  # fmt: skip


def _sparsim_level_formats(
    plan: Plan, design: SparseDesign, why: list[str]
) -> tuple[tuple[str, str, str], ...]:
    """The design's per-level formats on sparsim's levels ((level, operand, format));
    what sparsim cannot store that way is added to `why`."""
    where = {lp.timeloop: lp.sparsim for lp in plan.levels}
    out: dict[tuple[str, str], str] = {}
    for lv, op, fmt in design.level_formats:
        sname = where.get(lv)
        if sname in (None, "pe_registers"):
            why.append(
                f"{lv} keeps {op} compressed ({fmt.upper()}) and is sparsim's "
                f"{sname or 'no level'}: sparsim's PE registers hold values, uncompressed"
            )
            continue
        if out.setdefault((sname, op), fmt) != fmt:
            why.append(
                f"{op} kept in {out[(sname, op)].upper()} and {fmt.upper()} at levels that are "
                f"one sparsim level ({sname})"
            )
    return tuple((sname, op, fmt) for (sname, op), fmt in out.items())


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
    # a Sparseloop case: "gated" / "skipped" (sparsim ran its sparsity), "dense run"
    # (sparsim cannot express it); "" for a dense case
    sparsity: str = ""


def _level_total(lv: LevelStats, spaces: set[str] | None = None, actual: bool = False) -> float:
    return sum(
        sum((ds.actual if actual else ds.algorithmic).values())
        for ds in lv.dataspaces
        if spaces is None or ds.name in spaces
    )


def compare_case(case: Case, run_sparsim, multi_level: bool = False) -> CaseOutcome:
    """Compare one case. `run_sparsim(plan)` returns sparsim's counts as
    {sparsim level: {operand or "total": words}} and its MAC count."""
    from sparsim.validate.timeloop import tile_check

    try:
        plan = plan_case(case, multi_level)
    except ValueError as exc:
        return CaseOutcome(case.name, None, note=str(exc))
    mismatches = tuple(tile_check(case, plan.problem.projections()))
    ran = run_sparsim(plan)
    counts, macs = ran[0], ran[1]
    own_energy = ran[2] if len(ran) > 2 else None
    storage = {lv.name: lv for lv in case.stats.storage}
    comps: list[Comparison] = []
    keys: list[tuple] = []  # per count comparison: (Timeloop levels, data space, sparsim's)
    # several Timeloop levels can map onto one sparsim level (the per-operand
    # scratchpads onto the PE registers): sum them
    groups: dict[str, list[LevelPlan]] = {}
    for lp in plan.levels:
        if lp.sparsim is not None and lp.timeloop in storage:
            groups.setdefault(lp.sparsim, []).append(lp)
    for sname, lps in groups.items():
        ref = sum(_level_total(storage[lp.timeloop]) for lp in lps)
        got = counts.get(sname, {}).get("total")
        reasons = [
            r
            for lp in lps
            for r in (*lp.not_same, lp.stationary_only, *(w for _, w in lp.op_reasons))
            if r
        ]
        names = "+".join(lp.timeloop for lp in lps)
        if plan.problem.sliding_window and plan.conv is None:
            reasons.append("convolution inputs: sliding window vs im2col")
        if got is None:
            reasons.append(f"sparsim reports no access counts for its {sname}")
        keys.append((tuple(lp.timeloop for lp in lps), None, sname, "total"))
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
                if lp.stationary_only and op == STATIONARY[plan.dataflow]:
                    why.append(lp.stationary_only)
                why += [w for o, w in lp.op_reasons if o == op]
                if op == "inputs" and plan.problem.sliding_window and plan.conv is None:
                    why.append("convolution inputs: sliding window vs im2col")
                keys.append(((lp.timeloop,), ds.name, sname, op))
                comps.append(
                    Comparison(
                        case.name, f"accesses {lp.timeloop} {ds.name} vs sparsim {sname} {op}",
                        sum(ds.algorithmic.values()), float(got_op),
                        f"within {COUNT_TOLERANCE:.0%}", not why, "; ".join(why),
                    )
                )  # fmt: skip
    # a Sparseloop case: sparsim runs the same nest with the case's sparsity where it
    # can express it, and Timeloop's actual counts are held to that run's
    design = sparse_design(case, plan.problem)
    why_sparse = list(design.why_not)
    if design.sparse and design.zeros == "skipped" and plan.dataflow == "is":
        why_sparse.append("sparsim skips zero activations only where the array streams them")
    level_formats = _sparsim_level_formats(plan, design, why_sparse)
    actual = design.sparse and not why_sparse
    if actual:
        run = dataclasses.replace(
            plan,
            activation_density=design.activation_density,
            zeros=design.zeros,
            gating_saves=design.gating_saves,
            formats=design.formats,
            weight_density=design.weight_density,
            level_formats=level_formats,
            output_density=design.output_density,
        )
        ran = run_sparsim(run)
        counts, macs = ran[0], ran[1]
        own_energy = ran[2] if len(ran) > 2 else None
        for c, (levels, ds_name, sname, op) in zip(list(comps), keys, strict=True):
            got = counts.get(sname, {}).get(op)
            if got is None:
                continue
            ref = (
                sum(storage[levels[0]].dataspace(ds_name).actual.values())
                if ds_name
                else sum(_level_total(storage[n], actual=True) for n in levels)
            )
            comps.append(
                Comparison(
                    case.name, f"actual {c.quantity} ({design.zeros} zeros)", ref, float(got),
                    c.tolerance, c.held, c.why_not,
                )
            )  # fmt: skip
    # energy by level on Timeloop's per-access energies
    ar = case.stats.arithmetic
    ref_energy = {ar.name: ar.energy_pj} | {lv.name: lv.energy_pj for lv in case.stats.storage}
    per_mac = ar.compute_energy_pj or (
        ar.energy_pj / ar.computes_actual if ar.computes_actual else 0.0
    )
    mine = {ar.name: macs * per_mac}
    for sname, lps in groups.items():
        total_ref = sum(_level_total(storage[lp.timeloop], actual=actual) for lp in lps)
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
    # Sparseloop prices its actual (sparse: skipped, gated, compressed) work; where
    # sparsim cannot run that sparsity its shares are of the dense work: why, as data
    sparse_why = [SPARSE_ENERGY, *why_sparse] if why_sparse else []
    for name, e in ref_energy.items():
        why = []
        if not held_energy:
            why.append("access counts not on the same nest (above)")
        if unmapped:
            why.append(f"no sparsim level for {', '.join(unmapped)}")
        why += sparse_why
        comps.append(
            Comparison(
                case.name, f"energy share {name}",
                100.0 * e / t_ref if t_ref else 0.0,
                100.0 * mine.get(name, 0.0) / t_mine if t_mine else 0.0,
                f"within {SHARE_TOLERANCE_PP:g} pp", not why, "; ".join(why),
            )
        )  # fmt: skip
    if own_energy:
        # sparsim's own energy with the case's ERT as its table (item 3: an ERT read as
        # it is), by the same level groups, as shares of the total
        total_own = sum(own_energy.values())
        for name, e in ref_energy.items():
            parts = name.split("+")
            sname = next(
                (s for s, lps in groups.items() if {lp.timeloop for lp in lps} == set(parts)), None
            )
            key = "mac" if name == ar.name else sname
            got = own_energy.get(key, 0.0) if key else 0.0
            why = (
                []
                if held_energy and not unmapped
                else ["access counts not on the same nest (above)"]
            )
            why += sparse_why
            if actual and (design.formats or design.level_formats):
                why.append(
                    "sparsim's own energy packs a format's metadata bits into its words; "
                    "Timeloop prices every metadata entry as one access of its metadata "
                    "storage (the skipped elements' too)"
                )
            comps.append(
                Comparison(
                    case.name, f"energy share {name} (sparsim's own, priced from the ERT)",
                    100.0 * e / t_ref if t_ref else 0.0,
                    100.0 * got / total_own if total_own else 0.0,
                    f"within {SHARE_TOLERANCE_PP:g} pp", not why, "; ".join(why),
                )
            )  # fmt: skip
    sparsity = "" if not design.sparse else design.zeros if actual else "dense run"
    return CaseOutcome(case.name, plan, tuple(comps), tile_mismatches=mismatches, sparsity=sparsity)


__all__ = [
    "COUNT_TOLERANCE",
    "SHARE_TOLERANCE_PP",
    "CaseOutcome",
    "Comparison",
    "LevelPlan",
    "Plan",
    "Problem",
    "SparseDesign",
    "compare_case",
    "plan_case",
    "problem_of",
    "sparse_design",
]
