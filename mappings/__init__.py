"""Mappings: dataflow, tiling and loop order as plain data; validity; the mapper."""

from mappings.dataflow import Dataflow, FoldTiming
from mappings.mapping import Mapping

__all__ = ["Dataflow", "FoldTiming", "Mapping"]
