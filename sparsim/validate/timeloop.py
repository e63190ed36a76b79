"""Reading Timeloop v3 / Sparseloop outputs: `*.stats.txt`, `*.map.txt` and
Accelergy `*.ERT_summary.yaml`, as data (no Timeloop code, no Timeloop run).

A case folder is any directory that holds a `*.stats.txt` and a `*.map.txt`
(Timeloop writes both next to each other); `find_cases` walks a tree for them,
so new case folders of the same layout are picked up without code changes.

Counts are Timeloop's totals over instances (per-instance x utilized
instances). Sparseloop's stats have algorithmic and actual counts; plain
Timeloop's have one count (dense: algorithmic = actual).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ACTIONS = ("reads", "fills", "updates")


@dataclass(frozen=True, slots=True)
class DataspaceStats:
    """One data space (Weights / Inputs / Outputs, or A / B / Z) at one storage level."""

    name: str
    algorithmic: dict[str, float]  # action -> scalar accesses, summed over instances
    actual: dict[str, float]
    energy_per_access_pj: float
    energy_pj: float  # Timeloop's total for this data space at this level
    utilized_instances: int
    # Sparseloop: accesses its SAFs gated / skipped (per action), and the stored format
    gated: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, float] = field(default_factory=dict)
    representation_format: str = "none"  # e.g. "uop cp", "rle" ("none": uncompressed)

    @property
    def compressed(self) -> bool:
        return self.representation_format not in ("", "none")


@dataclass(frozen=True, slots=True)
class LevelStats:
    index: int  # Timeloop's level number (0 = arithmetic, innermost first)
    name: str
    arithmetic: bool
    word_bits: int
    instances: int
    dataspaces: tuple[DataspaceStats, ...] = ()
    energy_pj: float = 0.0  # all data spaces (or the computes, for arithmetic)
    compute_energy_pj: float = 0.0  # per compute (arithmetic level)
    computes_algorithmic: float = 0.0
    computes_actual: float = 0.0
    computes_gated: float = 0.0
    computes_skipped: float = 0.0
    block_size: int = 1  # words per vector access (the ERT prices one vector)

    def dataspace(self, name: str) -> DataspaceStats | None:
        for ds in self.dataspaces:
            if ds.name == name:
                return ds
        return None


@dataclass(frozen=True, slots=True)
class Stats:
    levels: tuple[LevelStats, ...]  # innermost (arithmetic) first, as Timeloop prints
    cycles: int
    energy_pj: float

    @property
    def storage(self) -> tuple[LevelStats, ...]:
        return tuple(lv for lv in self.levels if not lv.arithmetic)

    @property
    def arithmetic(self) -> LevelStats:
        return next(lv for lv in self.levels if lv.arithmetic)

    def energy_by_level_pj(self) -> dict[str, float]:
        return {lv.name: lv.energy_pj for lv in self.levels}


@dataclass(frozen=True, slots=True)
class Loop:
    dim: str
    bound: int
    spatial: str | None = None  # "X" / "Y" for Spatial-X / Spatial-Y


@dataclass(frozen=True, slots=True)
class MapLevel:
    """One storage level of a map: the tile sizes it keeps and the loops under it
    (over its children's tiles, outer to inner)."""

    name: str
    tiles: dict[str, int]  # data space -> tile size kept at this level (dense elements)
    loops: tuple[Loop, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Case:
    """A case folder: its stats, its map and (when present) its ERT."""

    name: str
    folder: Path
    stats: Stats
    mapping: tuple[MapLevel, ...]  # outermost first
    ert: dict[str, dict[str, float]] | None

    @property
    def dims(self) -> dict[str, int]:
        """The problem's dimension sizes: the product of every loop's bound per dimension."""
        out: dict[str, int] = {}
        for lv in self.mapping:
            for lp in lv.loops:
                out[lp.dim] = out.get(lp.dim, 1) * lp.bound
        return out


class TimeloopFormatError(ValueError):
    """A Timeloop output file this reader does not understand (names file and line)."""


_NUM = r"([-+]?[0-9.]+(?:[eE][-+]?\d+)?)"
_KV = re.compile(r"^\s*(.+?)\s*:\s*(.*?)\s*$")


def _num(text: str) -> float:
    m = re.match(_NUM, text.strip())
    if not m:
        raise ValueError(text)
    return float(m.group(1))


def _kv_lines(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        m = _KV.match(line)
        if m and m.group(2):
            out.setdefault(m.group(1), m.group(2))
    return out


def _counts(kv: dict[str, str], prefix: str) -> dict[str, float] | None:
    out = {}
    for action in ACTIONS:
        key = f"{prefix}scalar {action} (per-instance)"
        if key not in kv:
            return None
        out[action] = _num(kv[key])
    return out


def _dataspace(name: str, lines: list[str]) -> DataspaceStats:
    kv = _kv_lines(lines)
    inst = int(_num(kv.get("Utilized instances (max)", kv.get("Utilized instances", "1"))))
    plain = _counts({k.replace("Scalar", "scalar"): v for k, v in kv.items()}, "")
    algo = _counts(kv, "Algorithmic ") or plain
    actual = _counts(kv, "Actual ") or plain
    if algo is None or actual is None:
        raise TimeloopFormatError(f"data space {name}: no scalar reads/fills/updates")
    gated = _counts(kv, "Gated ") or dict.fromkeys(ACTIONS, 0.0)
    skipped = _counts(kv, "Skipped ") or dict.fromkeys(ACTIONS, 0.0)
    return DataspaceStats(
        name=name,
        algorithmic={a: v * inst for a, v in algo.items()},
        actual={a: v * inst for a, v in actual.items()},
        energy_per_access_pj=_num(kv.get("Energy (per-scalar-access)", "0")),
        energy_pj=_num(kv.get("Energy (total)", "0")),
        utilized_instances=inst,
        gated={a: v * inst for a, v in gated.items()},
        skipped={a: v * inst for a, v in skipped.items()},
        representation_format=" ".join(kv.get("Representation format", "none").split()).lower(),
    )


def parse_stats(text: str, source: str = "stats") -> Stats:
    """Parse a `timeloop-*.stats.txt` (Timeloop v3 or Sparseloop)."""
    lines = text.splitlines()
    try:
        end = next(i for i, s in enumerate(lines) if s.strip() == "Networks")
    except StopIteration:
        end = len(lines)
    starts = [i for i, s in enumerate(lines[:end]) if re.match(r"^Level \d+$", s.strip())]
    if not starts:
        raise TimeloopFormatError(f"{source}: no 'Level N' blocks")
    levels = []
    for j, st in enumerate(starts):
        block = lines[st : (starts[j + 1] if j + 1 < len(starts) else end)]
        index = int(block[0].split()[1])
        name_line = next((s for s in block if s.strip().startswith("===")), None)
        if name_line is None:
            raise TimeloopFormatError(f"{source}: level {index} has no '=== name ===' line")
        name = name_line.strip().strip("=").strip()
        kv = _kv_lines(block)
        word_bits = int(_num(kv.get("Word bits", kv.get("Data word bits", "0"))))
        instances = int(_num(kv.get("Instances", "1")))
        per_op = kv.get("Compute energy", kv.get("Energy-per-op"))
        if per_op is not None or "Computes (total)" in kv or "Actual Computes (total)" in kv:
            algo = kv.get("Algorithmic Computes (total)", kv.get("Computes (total)", "0"))
            actual = kv.get("Actual Computes (total)", kv.get("Computes (total)", "0"))
            levels.append(
                LevelStats(
                    index, name, True, word_bits, instances,
                    energy_pj=_num(kv.get("Energy (total)", "0")),
                    compute_energy_pj=_num(per_op or "0"),
                    computes_algorithmic=_num(algo),
                    computes_actual=_num(actual),
                    computes_gated=_num(kv.get("Gated Computes (total)", "0")),
                    computes_skipped=_num(kv.get("Skipped Computes (total)", "0")),
                )
            )  # fmt: skip
            continue
        # data space blocks: a line "<Name>:" at the STATS indentation, up to the next one
        stats_at = next((i for i, s in enumerate(block) if s.strip() == "STATS"), len(block))
        heads = [
            i
            for i in range(stats_at, len(block))
            if re.match(r"^    [A-Za-z_][\w]*:\s*$", block[i])
        ]
        spaces = []
        for k, h in enumerate(heads):
            body = block[h + 1 : heads[k + 1] if k + 1 < len(heads) else len(block)]
            try:
                spaces.append(_dataspace(block[h].strip().rstrip(":"), body))
            except (TimeloopFormatError, ValueError) as exc:
                raise TimeloopFormatError(f"{source}: level {index} ({name}): {exc}") from exc
        block = int(_num(kv.get("Block size", kv.get("Data block size", "1"))))
        levels.append(
            LevelStats(
                index, name, False, word_bits, instances, tuple(spaces),
                energy_pj=sum(ds.energy_pj for ds in spaces), block_size=block,
            )
        )  # fmt: skip
    summary = _kv_lines(lines[end:])
    cycles = int(_num(summary.get("Cycles", "0")))
    energy_uj = summary.get("Energy")
    total = sum(lv.energy_pj for lv in levels)
    # tiny designs print "Energy: 0.00 uJ": the sum over levels is the precise figure
    printed = _num(energy_uj) * 1e6 if energy_uj else 0.0
    return Stats(tuple(levels), cycles, printed if printed > 0.5 * total else total)


_MAP_HEAD = re.compile(r"^(\S+)\s*\[(.*)\]\s*$")
_MAP_TILE = re.compile(r"(\w+):(\d+)(?:\s*\((\d+)\))?")
_MAP_LOOP = re.compile(r"for\s+(\w+)\s+in\s+\[(\d+):(\d+)\)(?:\s*\(Spatial-([XY])\))?")


def parse_map(text: str, source: str = "map") -> tuple[MapLevel, ...]:
    """Parse a `timeloop-*.map.txt`: levels outermost first, each with its tiles
    and the loops printed under it."""
    levels: list[MapLevel] = []
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or set(s) <= {"-"}:
            continue
        head = _MAP_HEAD.match(s)
        if head and "for " not in s:
            tiles = {m.group(1): int(m.group(2)) for m in _MAP_TILE.finditer(head.group(2))}
            levels.append(MapLevel(head.group(1), tiles, ()))
            continue
        loop = _MAP_LOOP.search(s)
        if loop and levels:
            lo, hi = int(loop.group(2)), int(loop.group(3))
            lv = levels[-1]
            levels[-1] = MapLevel(
                lv.name, lv.tiles, (*lv.loops, Loop(loop.group(1), hi - lo, loop.group(4)))
            )
            continue
        raise TimeloopFormatError(f"{source}:{n}: not a level header or a loop: {s!r}")
    if not levels:
        raise TimeloopFormatError(f"{source}: no levels")
    return tuple(levels)


def parse_ert(text: str, source: str = "ERT") -> dict[str, dict[str, float]]:
    """Accelergy ERT (or ERT_summary): component -> action -> energy (pJ); a
    summary's `average_energy` where an action has a range."""
    doc = yaml.safe_load(text) or {}
    body = doc.get("ERT_summary") or doc.get("ERT") or {}
    out: dict[str, dict[str, float]] = {}
    for comp in body.get("table_summary") or body.get("tables") or []:
        actions = {}
        for act in comp.get("actions", []):
            energy = act.get("energy", act.get("average_energy"))
            if energy is None:
                continue
            actions[act["name"]] = float(energy)
        out[comp["name"]] = actions
    if not out:
        raise TimeloopFormatError(f"{source}: no components with actions")
    return out


def ert_component(ert: dict[str, dict[str, float]], level: str) -> dict[str, float] | None:
    """The ERT entry for a Timeloop level name (`system.eyeriss.PE[0..167].psum_spad`
    for `psum_spad`)."""
    for name, actions in ert.items():
        if re.sub(r"\[[^\]]*\]", "", name).split(".")[-1] == level:
            return actions
    return None


def find_cases(root: Path) -> list[Case]:
    """Every folder under `root` that holds a stats file and a map file, sorted."""
    cases = []
    for stats_path in sorted(Path(root).rglob("*.stats.txt")):
        folder = stats_path.parent
        maps = sorted(folder.glob("*.map.txt"))
        if not maps:
            continue
        erts = sorted(folder.glob("*ERT*.yaml"))
        cases.append(
            Case(
                name=str(folder.relative_to(root)),
                folder=folder,
                stats=parse_stats(stats_path.read_text(), str(stats_path)),
                mapping=parse_map(maps[0].read_text(), str(maps[0])),
                ert=parse_ert(erts[0].read_text(), str(erts[0])) if erts else None,
            )
        )
    return cases


def tile_check(case: Case, projections: dict[str, str]) -> list[str]:
    """Self-check of the reading: each level's printed tile size equals the product
    of the loop bounds under it over the data space's dimensions (inputs of a
    convolution excepted: their sliding window is not a product). Returns the
    mismatches (empty when the map was read right)."""
    bad = []
    for i, lv in enumerate(case.mapping):
        below = [lp for deeper in case.mapping[i:] for lp in deeper.loops]
        for ds, size in lv.tiles.items():
            dims = projections.get(ds)
            if dims is None:
                continue
            want = math.prod(lp.bound for lp in below if lp.dim in dims)
            if want != size:
                bad.append(f"{lv.name}.{ds}: map says {size}, loops give {want}")
    return bad


__all__ = [
    "ACTIONS",
    "Case",
    "DataspaceStats",
    "LevelStats",
    "Loop",
    "MapLevel",
    "Stats",
    "TimeloopFormatError",
    "ert_component",
    "find_cases",
    "parse_ert",
    "parse_map",
    "parse_stats",
    "tile_check",
]
