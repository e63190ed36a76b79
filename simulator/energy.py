"""Energy = actions x energy per action, per level and per action (Accelergy's habit).

Prices (`action_costs`, once per arch):
- MACs by data type and width (`PEArraySpec.mac_name`: int4/int8/int16 by the
  wider operand, fp16, bf16), a gated slot at `mac_gated_fraction` of a MAC;
- every memory level per access of its `word_bits`: as the spec gives it
  (`memory.<level>.energy`), else from an Accelergy ERT component of the
  same name (or `ert_component`), else DRAM per bit and SRAM from the fit to
  published points (`energy_table.SramFit`: capacity and width). A banked
  SRAM is a bank's access plus the H-tree that reaches it across the whole
  macro (CACTI's organisation): `banked_sram_pj`;
- PE registers (the per-PE store, `memory.pe_local.capacity_bytes`, else
  what the dataflow needs) as the small SRAM / register file they are, from
  the same fit at their capacity and each operand's width (or the ERT's
  per-operand scratchpads: `weights_spad`, `ifmap_spad`, `psum_spad`);
  array network hops per bit, N:M index bits decoded, leakage per PE-cycle
  and per KiB-cycle of SRAM.
On-chip table values are at the table's node and supply; another
`technology_nm` scales them by node / table node and another `supply_v` by
(V / table V)^2 (first-order C V^2 with C ~ node: an assumption; Horowitz
ISSCC 2014 discusses why voltage no longer scales with the node, so the
supply is its own field).
DRAM is its own device: its energy per bit is not rescaled. ERT and
spec-given values are used as they are.

With an Accelergy ERT as the table, actions are priced as Timeloop v3 does:
per access of the level's vector (`word_bits`), reads at `random_read` /
`read`, fills at `random_fill` / `random_write` / `fill` / `write`, updates
at `random_update` / `random_write` / `update` / `write`, falling back to
the component's most expensive action; MACs at `mac_random` (`mult_random`,
`mac`, `mult`, `compute`), gated MACs at `mac_gated` (...); leakage at the
component's `leak` per cycle (none without one: Timeloop charges no `idle`).
`energy_sources` lists what priced each component and which ERT components
no sparsim component used.

Accesses are bytes (`accesses`); a level's energy is accesses in words
(bits / word_bits) times its energy per access: reads at the read energy,
fills at the write energy, updates at the update energy.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

from mappings.dataflow import Operand
from simulator.accesses import PE_REGISTERS, Accesses
from simulator.arch import (
    ArchSpec,
    LevelEnergySpec,
    LevelKind,
    MemLevelSpec,
    pe_local_need_bytes,
)
from simulator.energy_table import EnergyTable, load_energy_table

REG_ERT_NAMES = {
    Operand.WEIGHTS: ("weights_spad", "weight_spad", "weights_reg", "pe_registers"),
    Operand.INPUTS: ("ifmap_spad", "inputs_spad", "input_spad", "inputs_reg", "pe_registers"),
    Operand.OUTPUTS: ("psum_spad", "outputs_spad", "output_spad", "psum_reg", "pe_registers"),
}


ACTIONS = {"read": 0, "fill": 1, "update": 2}  # a level's actions, in `per_byte_pj` order


@dataclass(frozen=True, slots=True)
class LevelCost:
    """pJ per access of `word_bits`."""

    word_bits: int
    read_pj: float
    write_pj: float
    update_pj: float
    leakage_pj_per_cycle: float
    source: str  # spec | ert | fit | table
    # pJ per byte read, filled (written) and updated: derived once, the mapper
    # prices every candidate with them
    per_byte_pj: tuple[float, float, float] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        per = tuple(pj * 8 / self.word_bits for pj in (self.read_pj, self.write_pj, self.update_pj))
        object.__setattr__(self, "per_byte_pj", per)  # (frozen: set once, here)

    def per_byte(self, action: str) -> float:
        return self.per_byte_pj[ACTIONS[action]]


@dataclass(frozen=True, slots=True)
class ActionCosts:
    mac_pj: float
    mac_gated_pj: float
    levels: tuple[tuple[str, LevelCost], ...]
    registers: tuple[tuple[Operand, LevelCost], ...]
    network_hop_bit_pj: float
    metadata_bit_pj: float
    leakage_pe_cycle_pj: float
    # component -> what priced it ("ert:<component>", "spec", "fit", "table", "override")
    sources: tuple[tuple[str, str], ...] = ()
    unused_ert: tuple[str, ...] = ()  # ERT components no sparsim component used

    def level(self, name: str) -> LevelCost:
        for n, c in self.levels:
            if n == name:
                return c
        raise KeyError(name)

    def register(self, op: Operand) -> LevelCost:
        for o, c in self.registers:
            if o is op:
                return c
        raise KeyError(op)


# Timeloop v3's storage action names in priority order (include/model/topology.hpp)
ERT_READ = ("random_read", "read")
ERT_FILL = ("random_fill", "random_write", "fill", "write")
ERT_UPDATE = ("random_update", "random_write", "update", "write")
ERT_MAC = ("mac_random", "mult_random", "mac", "mult", "compute")
ERT_GATED = ("mac_gated", "mult_gated", "compute_gated", "mac", "mult", "compute")


def _first(actions: dict[str, float], names: tuple[str, ...]) -> float | None:
    return next((actions[n] for n in names if n in actions), None)


def _ert_cost(actions: dict[str, float], word_bits: int) -> LevelCost:
    """Timeloop's price per vector access; an action the ERT lacks costs the component's
    most expensive action (its `vector_access_energy`)."""
    most = max(actions.values(), default=0.0)
    read = _first(actions, ERT_READ)
    fill = _first(actions, ERT_FILL)
    update = _first(actions, ERT_UPDATE)
    return LevelCost(
        word_bits,
        most if read is None else read,
        most if fill is None else fill,
        most if update is None else update,
        actions.get("leak", 0.0),
        "ert",
    )


def banked_sram_pj(
    table: EnergyTable, capacity_bytes: float, banks: int, word_bits: int, macros: int = 1
) -> float:
    """pJ per access of `word_bits` at the table's node: the fit at one bank's capacity,
    plus, when a macro has several banks, `word_bits` across the H-tree from its port
    to the bank, about the side of the macro (sqrt of its area: capacity x area per bit).
    Checked against CACTI (Accelergy 0.4, 65 nm): 128 KiB in 32 banks, 64-bit read
    18.18 pJ; this gives 21.4 pJ (+18%)."""
    bank = table.sram.access_pj(capacity_bytes / banks, word_bits)
    if banks <= macros:
        return bank  # the fit's points are whole macros, their own routing included
    side_mm = math.sqrt(capacity_bytes / macros * 8 * table["sram_bit_area_um2"]) / 1000
    return bank + word_bits * table["wire_bit_mm"] * side_mm


def node_scale(arch: ArchSpec) -> float:
    """Factor from the table's node and supply to the arch's: C ~ node, E ~ C V^2."""
    table = arch.table
    scale = (arch.technology_nm or table.technology_nm) / table.technology_nm
    if arch.supply_v is not None and table.supply_v is not None:
        scale *= (arch.supply_v / table.supply_v) ** 2
    return scale


@functools.lru_cache(maxsize=256)
def action_costs(arch: ArchSpec) -> ActionCosts:
    """Energy per action for every component of the arch."""
    table: EnergyTable = arch.table
    over = dict(arch.energy_overrides)
    scale = node_scale(arch)
    used: set[str] = set()
    sources: list[tuple[str, str]] = []

    def entry(key: str) -> float:
        return over[key] if key in over else table[key] * scale

    def entry_source(key: str) -> str:
        return "override" if key in over else "table"

    pe = arch.pe_array
    mac_key = f"mac_{pe.mac_name}"
    mac = over.get(mac_key, table.mac[pe.mac_name].value_pj * scale)
    gated = mac * over.get("mac_gated_fraction", table["mac_gated_fraction"])
    leak_pe = entry("leakage_pe_cycle")
    mac_source = entry_source(mac_key)
    # the compute component: the one the spec names, else the ERT's MAC by name or actions
    compute = (
        table.ert_component_named(pe.ert_component) if pe.ert_component else table.ert_compute()
    )
    if compute is not None:
        name, acts = compute
        used.add(name)
        mac = _first(acts, ERT_MAC) if _first(acts, ERT_MAC) is not None else mac
        gated = _first(acts, ERT_GATED) if _first(acts, ERT_GATED) is not None else gated
        leak_pe = acts.get("leak", 0.0)
        mac_source = f"ert:{name}"
    sources.append(("mac", mac_source))

    levels = []
    for lv in arch.memory.all_levels:
        cost, comp = _level_cost(lv, table, entry, scale, over)
        if comp:
            used.add(comp)
        levels.append((lv.name, cost))
        sources.append((lv.name, f"ert:{comp}" if comp else cost.source))
    regs = []
    reg_bits = {Operand.WEIGHTS: pe.w_bits, Operand.INPUTS: pe.a_bits, Operand.OUTPUTS: pe.acc_bits}
    # one PE's local store: the spec's scratchpads, else what the dataflow keeps there
    reg_bytes = arch.memory.pe_local_bytes or pe_local_need_bytes(pe)
    for op, names in REG_ERT_NAMES.items():
        found = table.ert_component_named(*names)
        bits = reg_bits[op]
        if found is not None:
            comp, acts = found
            used.add(comp)
            regs.append((op, _ert_cost(acts, bits)))
            sources.append((f"{PE_REGISTERS}.{op.value}", f"ert:{comp}"))
        else:
            e = table.sram.access_pj(reg_bytes, bits) * scale
            regs.append((op, LevelCost(bits, e, e, e, 0.0, "fit")))
            sources.append((f"{PE_REGISTERS}.{op.value}", "fit"))
    # an ERT scratchpad's `leak` is per PE-cycle too (Timeloop: per instance-cycle)
    leak_pe += sum(c.leakage_pj_per_cycle for _, c in regs)
    for key, name in (("network_hop_bit", "network"), ("metadata_bit", "metadata")):
        sources.append((name, entry_source(key)))
    leak_source = f"ert:{compute[0]}" if compute else entry_source("leakage_pe_cycle")
    sources.append(("leakage_pe", leak_source))
    unused = tuple(c for c in (table.ert or {}) if c not in used)
    return ActionCosts(
        mac_pj=mac,
        mac_gated_pj=gated,
        levels=tuple(levels),
        registers=tuple(regs),
        network_hop_bit_pj=entry("network_hop_bit"),
        metadata_bit_pj=entry("metadata_bit"),
        leakage_pe_cycle_pj=leak_pe,
        sources=tuple(sources),
        unused_ert=unused,
    )


def table_priced(arch: ArchSpec) -> ArchSpec:
    """The arch with every spec-given figure (level energies, `energy.overrides`)
    dropped: what the table's derivation alone gives, to set beside a cited pin."""
    bare = tuple(dataclasses.replace(lv, energy=LevelEnergySpec()) for lv in arch.memory.levels)
    memory = dataclasses.replace(arch.memory, levels=bare)
    return dataclasses.replace(arch, memory=memory, energy_overrides=())


def energy_sources(arch: ArchSpec) -> dict[str, object]:
    """What priced each component (`ert:<component>`, `spec`, `fit`, `table`,
    `override`), and the ERT components no sparsim component used."""
    costs = action_costs(arch)
    return {"components": dict(costs.sources), "unused_ert_components": list(costs.unused_ert)}


def _level_cost(
    lv: MemLevelSpec, table: EnergyTable, entry, scale: float, over: dict[str, float]
) -> tuple[LevelCost, str | None]:
    """The level's price and the ERT component that gave it (None: not the ERT)."""
    kib = (lv.capacity_bytes or 0) / 1024
    given = lv.energy
    found = table.ert_component_named(*([lv.ert_component] if lv.ert_component else []), lv.name)
    if lv.kind is LevelKind.DRAM and found is None:
        found = table.ert_component_named("DRAM")
    comp = None
    if found is not None:
        comp, acts = found
        base = _ert_cost(acts, lv.word_bits)
    elif lv.kind is LevelKind.DRAM:
        # a DRAM device's energy does not follow the accelerator's node
        e = over.get("dram_bit", table["dram_bit"]) * lv.word_bits
        base = LevelCost(lv.word_bits, e, e, e, 0.0, "table")
    else:
        e = banked_sram_pj(table, lv.capacity_bytes or 0, lv.banks, lv.word_bits, lv.macros)
        e *= scale
        base = LevelCost(lv.word_bits, e, e, e, entry("leakage_sram_kib_cycle") * kib, "fit")
    if given.leakage_pj_per_cycle is not None:
        base = dataclasses.replace(base, leakage_pj_per_cycle=given.leakage_pj_per_cycle)
    if given.read_pj is None and given.write_pj is None and given.update_pj is None:
        return base, comp
    read = given.read_pj if given.read_pj is not None else base.read_pj
    write = given.write_pj if given.write_pj is not None else base.write_pj
    update = given.update_pj if given.update_pj is not None else write
    return LevelCost(lv.word_bits, read, write, update, base.leakage_pj_per_cycle, "spec"), None


@dataclass(frozen=True, slots=True)
class LevelEnergy:
    """One level's accesses and their energy, for the result record."""

    name: str
    word_bits: int
    accesses: tuple[tuple[Operand, float, float, float], ...]  # op, reads, fills, updates (B)
    read_pj: float
    fill_pj: float
    update_pj: float
    leakage_pj: float
    pj_per_access: tuple[float, float, float]  # read, write, update
    source: str

    @property
    def total_pj(self) -> float:
        return self.read_pj + self.fill_pj + self.update_pj + self.leakage_pj

    def to_dict(self) -> dict:
        return {
            "word_bits": self.word_bits,
            "accesses": {
                op.value: {"reads_bytes": r, "fills_bytes": f, "updates_bytes": u}
                for op, r, f, u in self.accesses
            },
            "energy_pj": {
                "read": self.read_pj,
                "fill": self.fill_pj,
                "update": self.update_pj,
                "leakage": self.leakage_pj,
                "total": self.total_pj,
            },
            "pj_per_access": dict(
                zip(("read", "write", "update"), self.pj_per_access, strict=True)
            ),
            "energy_source": self.source,
        }


@dataclass(frozen=True, slots=True)
class ArrayActions:
    macs: float  # real MACs
    gated_macs: float  # multiplier slots not doing a real MAC (gated or wasted)
    metadata_bits: float
    pe_cycles: float  # PEs x total cycles (leakage)
    cycles: float


def price(
    accesses: Accesses, actions: ArrayActions, arch: ArchSpec
) -> tuple[dict[str, float], tuple[LevelEnergy, ...]]:
    """(energy per component incl. `total`, per-level detail)."""
    costs = action_costs(arch)
    pe = arch.pe_array
    gated = costs.mac_gated_pj if pe.zero_gating else costs.mac_pj
    parts: dict[str, float] = {
        "mac": actions.macs * costs.mac_pj,
        "mac_gated": actions.gated_macs * gated,
    }
    detail = []
    for lv in accesses.levels:
        rows = tuple((op, a.reads_bytes, a.fills_bytes, a.updates_bytes) for op, a in lv.operands)
        if lv.name == PE_REGISTERS:
            read = fill = update = 0.0
            for op, a in lv.operands:
                c = costs.register(op)
                read += a.reads_bytes * c.per_byte("read")
                fill += a.fills_bytes * c.per_byte("fill")
                update += a.updates_bytes * c.per_byte("update")
            c = costs.register(Operand.WEIGHTS)
            leak = 0.0
        else:
            c = costs.level(lv.name)
            t = lv.total
            read = t.reads_bytes * c.per_byte("read")
            fill = t.fills_bytes * c.per_byte("fill")
            update = t.updates_bytes * c.per_byte("update")
            leak = c.leakage_pj_per_cycle * actions.cycles
        e = LevelEnergy(
            lv.name, c.word_bits, rows, read, fill, update, leak,
            (c.read_pj, c.write_pj, c.update_pj), c.source,
        )  # fmt: skip
        detail.append(e)
        parts[lv.name] = read + fill + update
    parts["network"] = accesses.network_hop_bits * costs.network_hop_bit_pj
    parts["metadata"] = actions.metadata_bits * costs.metadata_bit_pj
    parts["leakage"] = actions.pe_cycles * costs.leakage_pe_cycle_pj + sum(
        d.leakage_pj for d in detail
    )
    parts["total"] = sum(parts.values())
    return parts, tuple(detail)


def energy_estimate_pj(
    accesses: Accesses,
    arch: ArchSpec,
    macs: float,
    gated_macs: float,
    cycles: float,
    pattern=None,
    slots: float = 0.0,
    costs: ActionCosts | None = None,
) -> float:
    """The total `price` gives, without the per-level records (for the mapper)."""
    costs = costs or action_costs(arch)
    pe = arch.pe_array
    gated = costs.mac_gated_pj if pe.zero_gating else costs.mac_pj
    total = macs * costs.mac_pj + gated_macs * gated
    leak = pe.pes * costs.leakage_pe_cycle_pj
    for lv in accesses.levels:
        if lv.name == PE_REGISTERS:
            for op, a in lv.operands:
                read, fill, update = costs.register(op).per_byte_pj
                total += a.reads_bytes * read + a.fills_bytes * fill + a.updates_bytes * update
            continue
        c = costs.level(lv.name)
        reads, fills, updates = lv.totals()
        read, fill, update = c.per_byte_pj
        total += reads * read + fills * fill + updates * update
        leak += c.leakage_pj_per_cycle
    index_bits = pattern.index_bits if pattern is not None else 0
    total += accesses.network_hop_bits * costs.network_hop_bit_pj
    total += slots * index_bits * costs.metadata_bit_pj
    return total + leak * cycles


def mac_energy_pj(arch: ArchSpec) -> float:
    return action_costs(arch).mac_pj


def dram_byte_pj(arch: ArchSpec) -> float:
    c = action_costs(arch).level(arch.dram.name)
    return min(c.per_byte("read"), c.per_byte("update"))


__all__ = [
    "ActionCosts",
    "ArrayActions",
    "LevelCost",
    "LevelEnergy",
    "action_costs",
    "banked_sram_pj",
    "dram_byte_pj",
    "energy_estimate_pj",
    "energy_sources",
    "load_energy_table",
    "mac_energy_pj",
    "node_scale",
    "price",
    "table_priced",
]
