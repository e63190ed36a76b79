"""sparsim's accelerator model: arch specs, the reference model, the tile model,
the memory hierarchy, energy. The core does no I/O (the face, `sparsim/`, sits on top:
API, CLI, writers, plots)."""

from simulator.arch import (
    ArchSpec,
    MemLevelSpec,
    MemorySpec,
    PEArraySpec,
    preset_names,
)
from simulator.load import load_arch
from simulator.results import Comparison, LayerResult, WorkloadResult
from simulator.roofline import Roofline, roofline
from simulator.simulate import (
    compare_to_dense,
    estimate,
    mappings_of,
    schedule_residency,
    simulate,
    simulate_layer,
)
from simulator.spec_reader import SpecError

__all__ = [
    "ArchSpec",
    "Comparison",
    "LayerResult",
    "MemLevelSpec",
    "MemorySpec",
    "PEArraySpec",
    "Roofline",
    "SpecError",
    "WorkloadResult",
    "compare_to_dense",
    "estimate",
    "load_arch",
    "mappings_of",
    "preset_names",
    "roofline",
    "schedule_residency",
    "simulate",
    "simulate_layer",
]
