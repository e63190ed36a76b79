"""Running the silicon / analytic anchors of `anchors.yaml` through sparsim.

Every number on the sparsim side comes from the model run on the named
preset (`sparsim.api`) or from the preset's own spec and energy table; none
is stored here. A case that the model cannot produce a number for reports
`None` with the reason, and fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from simulator.arch import ArchSpec
from simulator.load import load_arch
from workloads.errors import InputError

ANCHORS = Path(__file__).with_name("anchors.yaml")
KINDS = ("time_ms", "speedup", "peak_tops", "utilization_min", "energy_ratios")


@dataclass(frozen=True, slots=True)
class Check:
    """One number held to its reference."""

    case: str
    quantity: str
    reference: float
    sparsim: float | None
    unit: str
    tolerance: str  # how it is judged, in words
    passed: bool
    source: str
    why: str
    known_gap: str = ""
    fast: bool = False
    note: str = ""

    @property
    def error(self) -> float | None:
        if self.sparsim is None or not self.reference:
            return None
        return (self.sparsim - self.reference) / self.reference


def load_anchor_cases(path: Path = ANCHORS) -> list[dict[str, Any]]:
    try:
        doc = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as exc:
        raise InputError(
            str(path), "YAML", type(exc).__name__, "a YAML mapping with `cases`"
        ) from None
    if not isinstance(doc, dict):
        raise InputError(str(path), "top level", type(doc).__name__, "a mapping with `cases`")
    cases = doc.get("cases")
    if not isinstance(cases, list):
        raise InputError(str(path), "cases", type(cases).__name__, "a list of cases")
    for i, case in enumerate(cases):
        for key in ("id", "kind", "reference", "source", "why"):
            if key not in case:
                raise InputError(str(path), f"cases[{i}].{key}", "missing", "required")
        if case["kind"] not in KINDS:
            raise InputError(str(path), f"cases[{i}].kind", case["kind"], ", ".join(KINDS))
        if case.get("activations", "dram") not in ("dram", "on_chip"):
            raise InputError(
                str(path), f"cases[{i}].activations", case["activations"], "dram or on_chip"
            )
    return cases


def _rel(
    case: dict, quantity: str, ref: float, got: float | None, unit: str, note: str = ""
) -> Check:
    tol = float(case["tolerance"])
    ok = got is not None and abs(got - ref) <= tol * abs(ref)
    return Check(
        case["id"], quantity, ref, got, unit, f"within {tol:.0%}", ok, case["source"].strip(),
        case["why"].strip(), case.get("known_gap", ""), bool(case.get("fast")), note,
    )  # fmt: skip


def _time_s(res, arch: ArchSpec) -> float:
    totals = res.totals
    t = getattr(totals, "time_s", None)
    return float(t) if t is not None else totals.cycles.total / (arch.clock_mhz * 1e6)


def _run(case: dict):
    from sparsim import api

    arch = load_arch(case["arch"])
    wl = api.load_workload(case["workload"], case.get("sparsity", "dense"))
    # `activations: on_chip`: the workload's inputs and outputs stay in the
    # activation buffer, as inside a network (the TPU v1 roofline's premise)
    on_chip = case.get("activations", "dram") == "on_chip"
    return arch, api.run(wl, arch, io_on_chip=on_chip)


def peak_macs_per_cycle(arch: ArchSpec) -> float:
    """Dense MACs per cycle of the whole chip as the preset describes it."""
    pe = arch.pe_array
    return pe.rows * pe.cols * pe.multipliers * arch.cores


def energy_per_access_ratios(arch: ArchSpec, bits: int) -> tuple[dict[str, float | None], str]:
    """Energy of one `bits`-wide access at each level over one MAC, as the model
    prices them for this arch (`simulator.energy.action_costs`: the spec's, the
    ERT's or the table's figures, SRAM from its capacity and width)."""
    from simulator.energy import table_priced

    ratios = _access_ratios(arch, bits)
    note = f"MAC {_mac_pj(arch):.3g} pJ ({arch.pe_array.mac_name})"
    derived = _access_ratios(table_priced(arch), bits)
    if derived != ratios:  # the spec pins some figures: say what the derivation gives
        note += "; without the spec's figures " + ", ".join(
            f"{k} {v:.3g}" for k, v in derived.items()
        )
    return ratios, note


def _mac_pj(arch: ArchSpec) -> float:
    from simulator.energy import action_costs

    return action_costs(arch).mac_pj


def _access_ratios(arch: ArchSpec, bits: int) -> dict[str, float]:
    from mappings.dataflow import Operand
    from simulator.energy import action_costs

    costs = action_costs(arch)
    nbytes = bits / 8
    regs = [costs.register(op).per_byte("read") for op in Operand]
    glb = costs.level(arch.glb.name).per_byte("read")
    dram = costs.level(arch.dram.name).per_byte("read")
    per_access = {
        "rf": sum(regs) / len(regs) * nbytes,  # the three operands' PE registers, averaged
        "array": costs.network_hop_bit_pj * bits,  # one hop to the neighbouring PE
        "glb": glb * nbytes,
        "dram": dram * nbytes,
    }
    return {k: v / costs.mac_pj for k, v in per_access.items()}


def run_case(case: dict) -> list[Check]:
    kind, ref = case["kind"], case["reference"]
    unit = case.get("unit", "")
    if kind == "time_ms":
        arch, res = _run(case)
        sparse = getattr(res, "sparse", res)
        return [_rel(case, "time", float(ref), _time_s(sparse, arch) * 1e3, unit)]
    if kind == "speedup":
        _, res = _run(case)
        got = getattr(res, "speedup", None)
        note = f"compute alone {res.compute_speedup:.3f}x" if got is not None else ""
        return [_rel(case, "speedup", float(ref), got, unit, note)]
    if kind == "peak_tops":
        arch = load_arch(case["arch"])
        tops = 2 * peak_macs_per_cycle(arch) * arch.clock_mhz * 1e6 / 1e12
        return [_rel(case, "peak", float(ref), tops, unit)]
    if kind == "utilization_min":
        _, res = _run(case)
        got = getattr(res, "sparse", res).totals.utilization
        ok = got >= float(ref)
        return [
            Check(
                case["id"], "utilization", float(ref), got, unit, f">= {ref}", ok,
                case["source"].strip(), case["why"].strip(), case.get("known_gap", ""),
                bool(case.get("fast")),
            )
        ]  # fmt: skip
    if kind == "energy_ratios":
        arch = load_arch(case["arch"])
        ratios, note = energy_per_access_ratios(arch, int(case.get("data_bits", 16)))
        return [
            _rel(case, f"{level} / MAC", float(r), ratios.get(level), unit, note)
            for level, r in case["reference"].items()
        ]
    raise AssertionError(kind)  # load_anchor_cases checked the kinds


__all__ = [
    "ANCHORS",
    "KINDS",
    "Check",
    "energy_per_access_ratios",
    "load_anchor_cases",
    "peak_macs_per_cycle",
    "run_case",
]
