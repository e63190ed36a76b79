"""Energy = action counts x energy per action (Accelergy's habit).

Per-action energies come from a YAML table (`simulator/energy_tables/`) in
which every entry carries its unit and published source. The counts come
from the tile model and the memory model; this module does no I/O beyond
loading a table.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from simulator.spec_reader import Node, SpecError, load_yaml
from workloads.inputs import is_regular_file

TABLE_PACKAGE = "simulator.energy_tables"
ACTIONS = (
    "mac_int8",
    "mac_gated",
    "pe_register_byte",
    "glb_byte",
    "dram_byte",
    "metadata_bit",
    "leakage_pe_cycle",
    "leakage_glb_kib_cycle",
)


@dataclass(frozen=True, slots=True)
class EnergyEntry:
    value_pj: float
    unit: str
    source: str


@dataclass(frozen=True, slots=True)
class EnergyTable:
    name: str
    technology_nm: float
    entries: dict[str, EnergyEntry]

    def __getitem__(self, action: str) -> float:
        return self.entries[action].value_pj


@functools.lru_cache(maxsize=32)
def load_energy_table(name_or_path: str) -> EnergyTable:
    """A packaged table by name (`default`) or a YAML file with the same layout
    (cached: tables are read-only, and every layer of every run asks for one)."""
    packaged = resources.files(TABLE_PACKAGE).joinpath(f"{name_or_path}.yaml")
    path = Path(str(packaged)) if is_regular_file(str(packaged)) else Path(name_or_path)
    if not is_regular_file(path):
        raise SpecError(
            str(name_or_path), "energy.table", name_or_path, "'default' or an energy YAML file"
        )
    top = Node(load_yaml(path), str(path))
    ents = top.child("entries")
    entries = {}
    for action in ACTIONS:
        e = ents.child(action)
        entries[action] = EnergyEntry(
            e.non_negative("value"), e.get("unit", str), e.get("source", str)
        )
        e.finish()
    ents.finish()
    table = EnergyTable(top.get("name", str), top.non_negative("technology_nm"), entries)
    top.finish()
    return table


@dataclass(frozen=True, slots=True)
class ActionCounts:
    """What a layer did, counted in the units the energy table prices."""

    macs: int  # real MACs: nonzero weight x activation slots executed
    gated_macs: int  # multiplier slots that held a zero weight (or padding)
    pe_register_bytes: int
    glb_bytes: int
    dram_bytes: int
    metadata_bits: int
    pe_cycles: int  # PEs x total cycles (leakage)
    glb_kib_cycles: float


def energy_breakdown_pj(
    counts: ActionCounts, table: EnergyTable, zero_gating: bool
) -> dict[str, float]:
    """Energy per component in pJ; `total` is their sum."""
    gated_cost = table["mac_gated"] if zero_gating else table["mac_int8"]
    parts = {
        "mac": counts.macs * table["mac_int8"],
        "mac_gated": counts.gated_macs * gated_cost,
        "pe_registers": counts.pe_register_bytes * table["pe_register_byte"],
        "glb": counts.glb_bytes * table["glb_byte"],
        "dram": counts.dram_bytes * table["dram_byte"],
        "metadata": counts.metadata_bits * table["metadata_bit"],
        "leakage": counts.pe_cycles * table["leakage_pe_cycle"]
        + counts.glb_kib_cycles * table["leakage_glb_kib_cycle"],
    }
    parts["total"] = sum(parts.values())
    return parts
