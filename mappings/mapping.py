"""A mapping is data: the dataflow and how a layer is cut into folds."""

from __future__ import annotations

from dataclasses import dataclass

from mappings.dataflow import Dataflow


@dataclass(frozen=True, slots=True)
class Mapping:
    """How one layer is mapped onto the PE array.

    For now a mapping fixes the dataflow; the array dimensions decide the
    fold (tile) sizes. Tiling factors per memory level, loop order and bypass
    join this record as the mapper grows.
    """

    dataflow: Dataflow = Dataflow.WS
