"""Running a Timeloop case's loop nest through sparsim's public path.

The architecture is built as a spec (data, through the same loader as the
presets) from the case's levels: the array from the spatial fan-out, the
GLB from the shared on-chip level, DRAM (or the tutorial's BackingStorage)
outermost, word widths from the stats. The mapping is the nest `plan_case`
derived from the map. Bandwidths are unbounded: counts, not time, are held
to Timeloop here.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

from mappings.dataflow import Dataflow, Operand
from mappings.mapping import LevelTile, Mapping
from simulator.accesses import level_format_bytes
from simulator.arch import MemLevelSpec, parse_arch
from simulator.energy import load_energy_table
from simulator.simulate import nest_of, plan_layer, simulate
from sparsim.validate.timeloop_compare import Plan
from workloads.layers import Conv2d
from workloads.specs import parse_shape
from workloads.workload import LayerWorkload, Workload


def _model_fields() -> set[str]:
    """The memory-level spec fields this model has (per-level `holds`, widths, ...)."""
    return {f.name for f in dataclasses.fields(MemLevelSpec)}


def multi_level() -> bool:
    """Whether on-chip levels above the GLB keep reuse in this model (the loop-nest
    access counts of issue 9), rather than being pass-through hops."""
    return "holds" in _model_fields()


WORD_BITS = 16  # sparsim runs every case at 16-bit data and accumulators: counts in words


def arch_doc(plan: Plan) -> dict:
    """A sparsim arch spec for the case (as the YAML would hold it)."""
    rows, cols = plan.array
    m, n, k = plan.problem.gemm
    word = WORD_BITS // 8
    glb_kib = max(1, math.ceil((m * k + k * n + m * n * 4) * word / 1024))
    fields = _model_fields()
    memory: dict = {
        # bursts of a byte: a compressed operand's metadata bits are not rounded up to words
        "dram": {"bandwidth_bytes_per_cycle": 1e9, "latency_cycles": 0, "burst_bytes": 1},
    }
    if plan.ert_path and "ert_component" in fields:
        memory["dram"]["ert_component"] = plan.levels[0].timeloop
        # one ERT access is one vector of Timeloop's words, each a sparsim word here
        words = dict(plan.vector_words).get(plan.levels[0].timeloop, 1)
        memory["dram"]["word_bits"] = words * WORD_BITS
    parent = "dram"
    for lv in plan.levels:
        if lv.sparsim in (None, "dram", "pe_registers"):
            continue
        node: dict = {"capacity_kib": glb_kib, "bandwidth_bytes_per_cycle": 1e9}
        if lv.sparsim != "glb":
            node["kind"] = "sram"
        node["parent"] = parent
        if "holds" in fields and lv.holds:
            node["holds"] = list(lv.holds)
        if "word_bits" in fields:
            node["word_bits"] = WORD_BITS
        if plan.ert_path and "ert_component" in fields:
            # the ERT prices one vector access of the Timeloop level
            node["ert_component"] = lv.timeloop
            node["word_bits"] = dict(plan.vector_words).get(lv.timeloop, 1) * WORD_BITS
        memory[lv.sparsim] = node
        parent = lv.sparsim
    for sname, op, fmt in plan.level_formats:  # a format per level (memory.<level>.formats)
        memory.setdefault(sname, {}).setdefault("formats", {})[op] = fmt
    if "glb" not in memory:
        memory["glb"] = {
            "capacity_kib": glb_kib,
            "bandwidth_bytes_per_cycle": 1e9,
            "parent": parent,
        }
        if len(plan.levels) == 1:
            # the MAC reads the backing store: a GLB keeping only the weights, which
            # the mapping bypasses (mapping_of), so nothing stops between
            memory["glb"]["holds"] = ["weights"]
    return {
        "name": "timeloop-case",
        "clock_mhz": 1000,
        "pe_array": {
            "rows": rows,
            "cols": cols,
            "multipliers": 1,
            "nm_patterns": [],
            "dataflow": plan.dataflow,
            "data_bits": WORD_BITS,
            "acc_bits": WORD_BITS,
            # the case's zero activations (SparseDesign): gated or skipped by the PEs
            "zero_gating": plan.zeros == "gated",
            **({"gating_saves": list(plan.gating_saves)} if plan.zeros == "gated" else {}),
            "activation_skipping": plan.zeros == "skipped",
            "keeps_operands": plan.keeps_operands,
            **({"ert_component": plan.mac} if plan.ert_path and plan.mac else {}),
        },
        "memory": {
            **memory,
            # the operands Sparseloop keeps in a rank format at every level
            **{f"{'weight' if op == 'weights' else 'activation'}_format": fmt
               for op, fmt in plan.formats},
        },
        "energy": {"table": plan.ert_path or "default"},
    }  # fmt: skip


def mapping_of(plan: Plan) -> Mapping:
    """Per on-chip level its tile and (where the model takes one per level) the loops
    over its tiles inside its parent's, from the Timeloop level above it."""
    per_level = "loop_order" in {f.name for f in dataclasses.fields(LevelTile)}
    tiles = []
    outer = plan.levels[0]
    for above, lv in zip(plan.levels, plan.levels[1:], strict=False):
        if lv.sparsim in (None, "dram", "pe_registers"):
            continue
        order = above.loop_order + "".join(d for d in "nmk" if d not in above.loop_order)
        extra = {"loop_order": order} if per_level else {}
        tiles.append(LevelTile(lv.sparsim, *lv.tile, **extra))
    order = outer.loop_order + "".join(d for d in "nmk" if d not in outer.loop_order)
    bypass = (Operand.WEIGHTS,) if len(plan.levels) == 1 else ()  # see arch_doc
    return Mapping(Dataflow(plan.dataflow), tuple(tiles), order, bypass)


def run_plan(plan: Plan) -> tuple:
    """sparsim's counts per level in words ({level: {operand or "total": words}}) and
    its MACs: per operand from the result's `levels` where the model reports them,
    else the level totals it has."""
    arch = parse_arch(arch_doc(plan), "timeloop case")
    m, n, k = plan.problem.gemm
    if plan.conv is not None:  # a convolution: its sliding window, not an im2col GEMM
        batch, out_h, out_w, c, filters, r, s, sh, sw = plan.conv
        layer = Conv2d(
            "timeloop-case", (out_h - 1) * sh + r, (out_w - 1) * sw + s, c, r, s, filters,
            stride=(sh, sw), batch=batch,
        )  # fmt: skip
    else:
        layer = parse_shape(f"gemm:{m}x{n}x{k}")
    wl = Workload(
        "timeloop-case",
        (
            LayerWorkload(
                layer,
                density=plan.weight_density,
                activation_density=plan.activation_density,
                output_density=plan.output_density,
            ),
        ),
    )
    mapping = mapping_of(plan)
    res = simulate(wl, arch, mapping)
    lr = res.layers[0]
    # Timeloop counts a compressed operand's data words (its format's metadata apart):
    # sparsim's bytes carry both, in the same proportion at every level
    data_share = {"weights": 1.0, "inputs": 1.0, "outputs": 1.0}
    level_share: dict[tuple[str, str], float] = {}  # (level, operand): its own format's
    if plan.formats or plan.level_formats:
        sizes = plan_layer(wl.layers[0], arch).sizes
        for op, total, meta in (
            ("weights", sizes.weights, sizes.weight_metadata),
            ("inputs", sizes.inputs, sizes.input_metadata),
        ):
            data_share[op] = (total - meta) / total if total else 1.0
        # a three-rank format's metadata follows the tiling (level_format_bytes)
        stored = level_format_bytes(nest_of(plan_layer(wl.layers[0], arch), mapping), sizes)
        for sname, op, _ in plan.level_formats:
            total, meta = stored[(sname, Operand(op))]
            level_share[(sname, op)] = (total - meta) / total if total else 1.0
    # the MACs done: all of them dense, the nonzero ones where zeros are gated/skipped
    macs = lr.macs if plan.zeros == "dense" or lr.useful_macs is None else lr.useful_macs
    word = WORD_BITS / 8
    levels = getattr(lr, "levels", None)
    if levels:
        counts: dict[str, dict[str, float]] = {}
        for name, doc in levels.items():
            ops = {
                op: sum(acc.get(f"{a}_bytes", 0.0) for a in ("reads", "fills", "updates"))
                / word
                * (
                    level_share.get((name, op), data_share.get(op, 1.0))
                    if name != "pe_registers"
                    else 1.0
                )
                for op, acc in doc.get("accesses", {}).items()
            }
            counts[name] = ops
        if plan.output_fill_per_visit:
            # the older convention: every output tile visit to a level is also a fill
            # there, one per element drained to the next level out (its updates)
            # (levels that see outputs at all: PEs without registers see none)
            names = [n for n in levels if counts[n].get("outputs")]
            for outer, inner in itertools.pairwise(names):
                drained = levels[outer]["accesses"]["outputs"].get("updates_bytes", 0.0)
                counts[inner]["outputs"] += drained / word
        for ops in counts.values():
            ops["total"] = sum(ops.values())
        if plan.ert_path:
            own = {k: v for k, v in lr.energy_pj.items() if k in levels or k == "mac"}
            if plan.zeros == "gated":  # a gated MAC is the MAC's energy (Timeloop's too)
                own["mac"] = own.get("mac", 0.0) + lr.energy_pj.get("mac_gated", 0.0)
            return counts, macs, own
        return counts, macs
    table = load_energy_table(arch.energy_table)
    counts = {  # (a model without per-level records: dense cases only)
        "dram": {"total": lr.dram_bytes / word},
        "glb": {"total": lr.glb_bytes / word},
    }
    reg = lr.energy_pj.get("pe_registers")
    if reg is not None and table["pe_register_byte"]:
        # this model keeps PE register traffic only inside its energy
        counts["pe_registers"] = {"total": reg / table["pe_register_byte"] / word}
    return counts, lr.macs


__all__ = ["arch_doc", "mapping_of", "multi_level", "run_plan"]
