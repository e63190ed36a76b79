"""Mappings: dataflow, tiling and loop order as plain data; validity; the mapper
(`mappings.mapper`, the one module here that imports the simulator)."""

from mappings.dataflow import Dataflow, FoldTiming, Operand
from mappings.mapping import LOOP_ORDERS, LevelTile, Mapping, MappingError, check_mapping

__all__ = [
    "LOOP_ORDERS",
    "Dataflow",
    "FoldTiming",
    "LevelTile",
    "Mapping",
    "MappingError",
    "Operand",
    "check_mapping",
]
