"""A mapping is data: the dataflow, tiling factors per memory level, loop order, bypass.

The PE array's own tiling is fixed by the dataflow (a fold is rows x cols of
the stationary operand). Above it, a memory level holds a tile of the GEMM
(`LevelTile`: elements along M, N and K of one group's GEMM), and the loops
over that level's tiles run in `loop_order` (outer to inner). An empty
`tiles` asks the simulator for its default tiling (simulator.tiling). An
operand in `bypass` skips the GLB: it streams from DRAM into the array
through a small staging buffer (TPU v1's weight FIFO), so it takes no GLB
tile but is fetched again for every GLB tile that uses it.

Validity here is what needs no hardware numbers: dimensions, the loop
order, one tile per level. Capacity and the supported patterns are checked
where the bytes are known (simulator.tiling.check_fits).
"""

from __future__ import annotations

from dataclasses import dataclass

from mappings.dataflow import LOOP_DIMS, Dataflow, Operand
from workloads.errors import InputError
from workloads.layers import GemmShape

LOOP_ORDERS = ("nmk", "mnk", "nkm", "mkn", "knm", "kmn")


class MappingError(InputError):
    """A mapping that cannot run (bad tile, loop order, level)."""


@dataclass(frozen=True, slots=True)
class LevelTile:
    """The GEMM tile held at one memory level: elements of one group's M, N, K."""

    level: str
    m: int
    n: int
    k: int
    # the loops over this level's tiles inside its parent's tile, outer to inner
    # (None: the mapping's loop_order)
    loop_order: str | None = None

    def clamp(self, gemm: GemmShape) -> LevelTile:
        """The tile cut to the GEMM (a tile larger than a dimension holds all of it)."""
        return LevelTile(
            self.level, min(self.m, gemm.m), min(self.n, gemm.n), min(self.k, gemm.k),
            self.loop_order,
        )  # fmt: skip

    def trips(self, gemm: GemmShape) -> tuple[int, int, int]:
        """Tiles along M, N, K."""
        return (-(-gemm.m // self.m), -(-gemm.n // self.n), -(-gemm.k // self.k))


@dataclass(frozen=True, slots=True)
class Mapping:
    """How one layer is mapped: dataflow, per-level tiles, loop order (outer to inner)."""

    dataflow: Dataflow = Dataflow.WS
    tiles: tuple[LevelTile, ...] = ()
    loop_order: str = "nmk"
    bypass: tuple[Operand, ...] = ()

    def tile(self, level: str) -> LevelTile | None:
        for t in self.tiles:
            if t.level == level:
                return t
        return None

    @staticmethod
    def from_dict(doc: dict) -> Mapping:
        return mapping_from_dict(doc)

    def describe(self) -> str:
        tiles = ", ".join(f"{t.level} {t.m}x{t.n}x{t.k}" for t in self.tiles) or "default tiles"
        bypass = f"; {'+'.join(map(str, self.bypass))} bypass the GLB" if self.bypass else ""
        return f"{self.dataflow.value} ({tiles}; loops {self.loop_order}{bypass})"

    def to_dict(self) -> dict:
        return {
            "dataflow": self.dataflow.value,
            "tiles": [
                {"level": t.level, "m": t.m, "n": t.n, "k": t.k}
                | ({"loop_order": t.loop_order} if t.loop_order else {})
                for t in self.tiles
            ],
            "loop_order": self.loop_order,
            "bypass": [op.value for op in self.bypass],
        }


def mapping_from_dict(doc: dict) -> Mapping:
    """The inverse of `Mapping.to_dict` (a result's record of the mapping it ran)."""
    tiles = tuple(
        LevelTile(t["level"], t["m"], t["n"], t["k"], t.get("loop_order")) for t in doc["tiles"]
    )
    bypass = tuple(Operand(b) for b in doc.get("bypass", ()))
    return Mapping(Dataflow(doc["dataflow"]), tiles, doc.get("loop_order", "nmk"), bypass)


def check_mapping(mapping: Mapping, levels: tuple[str, ...], source: str) -> None:
    """Raise MappingError if the mapping cannot describe a run (tiles larger than
    the GEMM are fine: they are clamped to it)."""
    if sorted(mapping.loop_order) != sorted(LOOP_DIMS):
        raise MappingError(source, "loop_order", mapping.loop_order, "a permutation of m, n, k")
    for op in mapping.bypass:
        if op is Operand.OUTPUTS:
            raise MappingError(source, "bypass", op.value, "weights or inputs")
    seen = set()
    for t in mapping.tiles:
        if t.level not in levels:
            allowed = f"a tiled level: {', '.join(levels)}"
            raise MappingError(source, "tiles.level", t.level, allowed)
        if t.level in seen:
            raise MappingError(source, "tiles.level", t.level, "one tile per level")
        seen.add(t.level)
        if t.loop_order is not None and sorted(t.loop_order) != sorted(LOOP_DIMS):
            allowed = "a permutation of m, n, k"
            raise MappingError(source, f"tiles.{t.level}.loop_order", t.loop_order, allowed)
        for dim in LOOP_DIMS:
            size = getattr(t, dim)
            if not isinstance(size, int) or size < 1:
                raise MappingError(source, f"tiles.{t.level}.{dim}", size, "an integer >= 1")
