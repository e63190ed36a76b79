"""Energy tables: energy per action, read when an arch spec is loaded.

Two forms are accepted, both YAML:

- sparsim's own table (`simulator/energy_tables/default.yaml`): MAC energy
  per data type, network / DRAM / metadata / wire energy per bit, SRAM area
  per bit, leakage, and the published SRAM and register-file points the
  per-access energy of every on-chip store (PE scratchpads included) is
  fitted to (`sram_points`). Every number carries its unit and source.
- an Accelergy ERT, read as it is: the full form (`ERT: {tables: [{name,
  actions: [{name, arguments, energy}]}]}`) or the summary form
  average_energy, max_energy}]}]}`). An action is priced as Timeloop v3
  prices it (`Topology::ParseAccelergyERT`): the most expensive of its
  argument rows (random data and address), i.e. the summary's `max_energy`.
  Components are matched to the arch's levels by name (`ert_component`);
  anything the ERT does not price falls back to the default table, and
  `simulator.energy.energy_sources` says which did.

This module reads files and knows no arch types (arch.py imports it).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from simulator.spec_reader import Node, SpecError, load_yaml
from workloads.inputs import is_regular_file

TABLE_PACKAGE = "simulator.energy_tables"
MAC_TYPES = ("int4", "int8", "int16", "fp16", "bf16")
ENTRIES = (
    "mac_gated_fraction",
    "network_hop_bit",
    "dram_bit",
    "wire_bit_mm",
    "sram_bit_area_um2",
    "metadata_bit",
    "leakage_pe_cycle",
    "leakage_sram_kib_cycle",
)


# Timeloop v3's arithmetic action names (include/model/topology.hpp)
COMPUTE_ACTIONS = ("mac_random", "mult_random", "mac", "mult", "compute")
COMPUTE_NAMES = ("mac", "macs", "macc", "mult", "multiplier", "alu", "compute", "intmac", "fpmac")


@dataclass(frozen=True, slots=True)
class EnergyEntry:
    value_pj: float
    unit: str
    source: str


@dataclass(frozen=True, slots=True)
class SramFit:
    """E(C, w) = w * alpha * (C / 1 KiB) ** beta pJ per access of w bits, fitted in
    log space to published points (register files to MB SRAMs); `max_error` is the
    largest relative error on them. Increasing in C and in w for alpha, beta > 0."""

    alpha: float
    beta: float
    max_error: float
    points: tuple[tuple[float, int, float], ...]  # (capacity KiB, word bits, pJ)

    def access_pj(self, capacity_bytes: float, word_bits: int) -> float:
        kib = max(capacity_bytes / 1024, 1 / 1024)
        return word_bits * self.alpha * kib**self.beta


@dataclass(frozen=True, slots=True)
class EnergyTable:
    """Energy per action at `technology_nm` and `supply_v` (values as given;
    `simulator.energy.action_costs` rescales them to the arch's node and supply)."""

    name: str
    technology_nm: float
    mac: dict[str, EnergyEntry]
    entries: dict[str, EnergyEntry]
    sram: SramFit
    # Accelergy ERT: component name -> action -> pJ (None for sparsim's own tables)
    ert: dict[str, dict[str, float]] | None = None
    file: str = field(default="", compare=False)
    supply_v: float | None = None  # the supply the values were taken at (None: not stated)

    def __getitem__(self, action: str) -> float:
        return self.entries[action].value_pj

    def __hash__(self) -> int:
        return hash((self.name, self.technology_nm, self.file))

    def ert_component_named(self, *names: str) -> tuple[str, dict[str, float]] | None:
        """(full component name, actions) of the first component whose last name part
        (array suffix `[0..167]` dropped) equals one of `names`, case-insensitively."""
        if not self.ert:
            return None
        for want in names:
            for comp, actions in self.ert.items():
                if short_name(comp) == want.lower():
                    return comp, actions
        return None

    def ert_compute(self) -> tuple[str, dict[str, float]] | None:
        """The ERT's compute component (Timeloop's arithmetic level): one named like a
        MAC, else the one component with a compute action."""
        if not self.ert:
            return None
        for comp, actions in self.ert.items():
            if short_name(comp) in COMPUTE_NAMES:
                return comp, actions
        found = [(c, a) for c, a in self.ert.items() if set(a) & set(COMPUTE_ACTIONS)]
        return found[0] if len(found) == 1 else None


def short_name(component: str) -> str:
    # drop array suffixes first: `DRAM[1..1]` has dots of its own
    return re.sub(r"\[[^\]]*\]", "", component).split(".")[-1].lower()


def fit_sram(points: list[tuple[float, int, float]]) -> SramFit:
    """Least squares of log(pJ per bit) against log(capacity)."""
    xs = [math.log(c) for c, _, _ in points]
    ys = [math.log(e / w) for _, w, e in points]
    n = len(points)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    beta = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    alpha = math.exp(my - beta * mx)
    err = max(abs(w * alpha * c**beta - e) / e for c, w, e in points)
    return SramFit(alpha, beta, err, tuple(points))


@functools.cache
def _default_path() -> Path:
    return Path(str(resources.files(TABLE_PACKAGE).joinpath("default.yaml")))


def default_table() -> EnergyTable:
    return load_energy_table("default")


@functools.lru_cache(maxsize=32)
def load_energy_table(name_or_path: str, blame: str = "", blame_field: str = "energy.table"):
    """A packaged table by name (`default`), a sparsim table file or an Accelergy
    ERT file. A missing or bad file is blamed on `blame` (the arch file) and
    `blame_field`."""
    packaged = resources.files(TABLE_PACKAGE).joinpath(f"{name_or_path}.yaml")
    path = Path(str(packaged)) if is_regular_file(str(packaged)) else Path(name_or_path)
    if not is_regular_file(path):
        raise SpecError(
            blame or str(name_or_path),
            blame_field,
            name_or_path,
            "'default', an energy table YAML file or an Accelergy ERT YAML file",
        )
    data = load_yaml(path)
    if isinstance(data, dict) and ("ERT" in data or "ERT_summary" in data):
        return _read_ert(data, str(path))
    return _read_table(data, str(path))


def _entry(node: Node, key: str) -> EnergyEntry:
    e = node.child(key)
    entry = EnergyEntry(e.non_negative("value"), e.get("unit", str), e.get("source", str))
    e.finish()
    return entry


def _read_table(data: object, source: str) -> EnergyTable:
    top = Node(data, source)
    macs = top.child("mac")
    mac = {t: _entry(macs, t) for t in MAC_TYPES}
    macs.finish()
    ents = top.child("entries")
    entries = {a: _entry(ents, a) for a in ENTRIES}
    ents.finish()
    raw = top.get("sram_points", list, allowed="a list of {capacity_kib, word_bits, pj, source}")
    points = []
    for i, item in enumerate(raw):
        p = Node(item, source, f"sram_points[{i}]")
        points.append(
            (
                p.get("capacity_kib", float, check=lambda v: v > 0, allowed="a number > 0"),
                p.positive_int("word_bits"),
                p.get("pj", float, check=lambda v: v > 0, allowed="a number > 0"),
            )
        )
        p.get("source", str)
        p.finish()
    if len(points) < 2:
        raise top.error("sram_points", raw, "at least two points to fit")
    if fit_sram(points).beta <= 0:
        # a fit falling with capacity would price a bigger SRAM cheaper
        raise top.error("sram_points", raw, "points whose energy per bit grows with capacity")
    table = EnergyTable(
        top.get("name", str),
        top.get("technology_nm", float, check=lambda v: v > 0, allowed="a number > 0"),
        mac,
        entries,
        fit_sram(points),
        None,
        source,
        top.get("supply_v", float, None, allowed="a number > 0 (volts)", check=lambda v: v > 0),
    )
    top.finish()
    return table


def _read_ert(data: dict, source: str) -> EnergyTable:
    """An Accelergy ERT (full or summary form) on top of the default table."""
    summary = "ERT_summary" in data
    top = Node(data, source)
    body = top.child("ERT_summary" if summary else "ERT")
    body.get("version", (float, str, int), None)
    rows = body.get("table_summary" if summary else "tables", list, allowed="a list of components")
    ert: dict[str, dict[str, float]] = {}
    for i, row in enumerate(rows):
        comp = Node(row, source, f"{body.path}.tables[{i}]")
        name = comp.get("name", str)
        acts: dict[str, float] = {}
        for j, act in enumerate(comp.get("actions", list)):
            a = Node(act, source, f"{comp.path}.actions[{j}]")
            aname = a.get("name", str)
            # Timeloop prices an action at its most expensive argument row (random data
            # and address): the full form's max over rows, the summary's max_energy
            key = next((k for k in ("max_energy", "energy", "average_energy") if a.has(k)), None)
            if key is None:
                raise a.error("energy", "<missing>", "a number >= 0 (pJ per action)")
            acts[aname] = max(acts.get(aname, 0.0), a.non_negative(key))
            for other in ("energy", "average_energy", "min_energy"):
                if other != key:
                    a.get(other, (float, int), None)
            a.get("arguments", (dict, float, str, type(None)), None)
            a.finish()
        comp.get("primitive_estimation(s)", list, None)
        comp.finish()
        ert[name] = acts
    body.finish()
    top.finish()
    base = default_table()
    return EnergyTable(
        f"ERT {Path(source).name}", base.technology_nm, base.mac, base.entries, base.sram, ert,
        source,
    )  # fmt: skip


__all__ = [
    "MAC_TYPES",
    "EnergyEntry",
    "EnergyTable",
    "SramFit",
    "default_table",
    "fit_sram",
    "load_energy_table",
    "short_name",
]
