"""Energy = actions x energy per action, per level and per action (Accelergy's habit).

Prices (`action_costs`, once per arch):
- MACs by data type and width (`PEArraySpec.mac_name`: int4/int8/int16 by the
  wider operand, fp16, bf16), a gated slot at `mac_gated_fraction` of a MAC;
- every memory level per access of its `word_bits`: as the spec gives it
  (`memory.<level>.energy`), else from an Accelergy ERT component of the
  same name (or `ert_component`), else DRAM per bit and SRAM from the fit to
  published points (`energy_table.SramFit`: capacity and width);
- PE registers per bit (or the ERT's per-operand scratchpads: `weights_spad`,
  `ifmap_spad`, `psum_spad`), array network hops per bit, N:M index bits
  decoded, leakage per PE-cycle and per KiB-cycle of SRAM.
Table values are at the table's node; another `technology_nm` scales them
by node / table node (first-order C V^2 with V held: an assumption; Horowitz
ISSCC 2014 discusses why voltage no longer scales). ERT and spec-given
values are used as they are.

Accesses are bytes (`accesses`); a level's energy is accesses in words
(bits / word_bits) times its energy per access: reads at the read energy,
fills at the write energy, updates at the update energy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from mappings.dataflow import Operand
from simulator.accesses import PE_REGISTERS, Accesses
from simulator.arch import ArchSpec, LevelKind, MemLevelSpec
from simulator.energy_table import EnergyTable, load_energy_table

REG_ERT_NAMES = {
    Operand.WEIGHTS: ("weights_spad", "weight_spad", "weights_reg", "pe_registers"),
    Operand.INPUTS: ("ifmap_spad", "inputs_spad", "input_spad", "inputs_reg", "pe_registers"),
    Operand.OUTPUTS: ("psum_spad", "outputs_spad", "output_spad", "psum_reg", "pe_registers"),
}


@dataclass(frozen=True, slots=True)
class LevelCost:
    """pJ per access of `word_bits`."""

    word_bits: int
    read_pj: float
    write_pj: float
    update_pj: float
    leakage_pj_per_cycle: float
    source: str  # spec | ert | fit | table

    def per_byte(self, action: str) -> float:
        if action == "read":
            pj = self.read_pj
        elif action == "fill":
            pj = self.write_pj
        elif action == "update":
            pj = self.update_pj
        else:
            raise KeyError(action)
        return pj * 8 / self.word_bits


@dataclass(frozen=True, slots=True)
class ActionCosts:
    mac_pj: float
    mac_gated_pj: float
    levels: tuple[tuple[str, LevelCost], ...]
    registers: tuple[tuple[Operand, LevelCost], ...]
    network_hop_bit_pj: float
    metadata_bit_pj: float
    leakage_pe_cycle_pj: float

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


def _ert_cost(actions: dict[str, float], word_bits: int, leak: float, source: str) -> LevelCost:
    read = actions.get("read", actions.get("write", 0.0))
    write = actions.get("write", read)
    update = actions.get("update", write)
    return LevelCost(word_bits, read, write, update, leak, source)


@functools.lru_cache(maxsize=256)
def action_costs(arch: ArchSpec) -> ActionCosts:
    """Energy per action for every component of the arch."""
    table: EnergyTable = arch.table
    over = dict(arch.energy_overrides)
    scale = (arch.technology_nm or table.technology_nm) / table.technology_nm

    def entry(key: str) -> float:
        return over[key] if key in over else table[key] * scale

    pe = arch.pe_array
    mac_key = f"mac_{pe.mac_name}"
    mac = over.get(mac_key, table.mac[pe.mac_name].value_pj * scale)
    gated = mac * over.get("mac_gated_fraction", table["mac_gated_fraction"])
    ert_mac = table.ert_component("mac")
    if ert_mac is not None:
        mac = ert_mac.get("mac_random", mac)
        gated = ert_mac.get("mac_gated", gated)

    levels = []
    for lv in arch.memory.all_levels:
        levels.append((lv.name, _level_cost(lv, table, entry)))
    regs = []
    reg_bits = {Operand.WEIGHTS: pe.w_bits, Operand.INPUTS: pe.a_bits, Operand.OUTPUTS: pe.acc_bits}
    for op, names in REG_ERT_NAMES.items():
        found = table.ert_component(*names)
        bits = reg_bits[op]
        if found is not None:
            regs.append((op, _ert_cost(found, bits, 0.0, "ert")))
        else:
            e = entry("register_bit") * bits
            regs.append((op, LevelCost(bits, e, e, e, 0.0, "table")))
    return ActionCosts(
        mac_pj=mac,
        mac_gated_pj=gated,
        levels=tuple(levels),
        registers=tuple(regs),
        network_hop_bit_pj=entry("network_hop_bit"),
        metadata_bit_pj=entry("metadata_bit"),
        leakage_pe_cycle_pj=entry("leakage_pe_cycle"),
    )


def _level_cost(lv: MemLevelSpec, table: EnergyTable, entry) -> LevelCost:
    kib = (lv.capacity_bytes or 0) / 1024
    leak = lv.energy.leakage_pj_per_cycle
    if leak is None:
        leak = 0.0 if lv.kind is LevelKind.DRAM else entry("leakage_sram_kib_cycle") * kib
    given = lv.energy
    found = table.ert_component(*([lv.ert_component] if lv.ert_component else []), lv.name)
    if lv.kind is LevelKind.DRAM and found is None:
        found = table.ert_component("DRAM")
    if found is not None:
        base = _ert_cost(found, lv.word_bits, leak, "ert")
    elif lv.kind is LevelKind.DRAM:
        e = entry("dram_bit") * lv.word_bits
        base = LevelCost(lv.word_bits, e, e, e, leak, "table")
    else:
        # an access reads one bank: the bank's capacity sets the energy
        fit = table.sram.access_pj((lv.capacity_bytes or 0) / lv.banks, lv.word_bits)
        e = fit * entry("dram_bit") / table["dram_bit"]  # the node scale
        base = LevelCost(lv.word_bits, e, e, e, leak, "fit")
    if given.read_pj is None and given.write_pj is None and given.update_pj is None:
        return base
    read = given.read_pj if given.read_pj is not None else base.read_pj
    write = given.write_pj if given.write_pj is not None else base.write_pj
    update = given.update_pj if given.update_pj is not None else write
    return LevelCost(lv.word_bits, read, write, update, leak, "spec")


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
                c = costs.register(op)
                total += (
                    a.reads_bytes * c.per_byte("read")
                    + a.fills_bytes * c.per_byte("fill")
                    + a.updates_bytes * c.per_byte("update")
                )
            continue
        c = costs.level(lv.name)
        t = lv.total
        total += (
            t.reads_bytes * c.per_byte("read")
            + t.fills_bytes * c.per_byte("fill")
            + t.updates_bytes * c.per_byte("update")
        )
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
    "dram_byte_pj",
    "energy_estimate_pj",
    "load_energy_table",
    "mac_energy_pj",
    "price",
]
