"""sparsim's accelerator model: arch specs, the reference model, the tile model,
memory and energy. The core does no I/O (the CLI sits on top in simulator.cli)."""

from simulator.arch import ArchSpec, PEArraySpec, load_arch, preset_names
from simulator.results import Comparison, LayerResult, WorkloadResult
from simulator.simulate import compare_to_dense, simulate, simulate_layer
from simulator.spec_reader import SpecError

__all__ = [
    "ArchSpec",
    "Comparison",
    "LayerResult",
    "PEArraySpec",
    "SpecError",
    "WorkloadResult",
    "compare_to_dense",
    "load_arch",
    "preset_names",
    "simulate",
    "simulate_layer",
]
