"""sparsim's accelerator model: arch specs, the reference model, the tile model,
the memory hierarchy, energy. The core does no I/O (the face, `sparsim/`, sits on top:
API, CLI, writers, plots).

The names below load on first use: `import simulator.load` stays cheap.
"""

from workloads.lazy import lazy_exports

# name -> module: loaded on first use (PEP 562), so importing one
# submodule does not load the whole package (and its numpy/networkx) with it
_EXPORTS = {
    "ArchSpec": "simulator.arch",
    "MemLevelSpec": "simulator.arch",
    "MemorySpec": "simulator.arch",
    "PEArraySpec": "simulator.arch",
    "preset_names": "simulator.arch",
    "load_arch": "simulator.load",
    "Comparison": "simulator.results",
    "LayerResult": "simulator.results",
    "WorkloadResult": "simulator.results",
    "Roofline": "simulator.roofline",
    "roofline": "simulator.roofline",
    "compare_to_dense": "simulator.simulate",
    "simulate": "simulator.simulate",
    "simulate_layer": "simulator.simulate",
    "estimate": "simulator.simulate",
    "mappings_of": "simulator.simulate",
    "same_mappings": "simulator.simulate",
    "schedule_residency": "simulator.simulate",
    "SpecError": "simulator.spec_reader",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


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
    "same_mappings",
    "schedule_residency",
    "simulate",
    "simulate_layer",
]
