"""The model's version: what a stored result was computed with.

Bump `MODEL_VERSION` whenever a change to `workloads`, `mappings` or
`simulator` changes any number a result carries (cycles, energy, bytes,
mappings). The sweep store keys every design point by it (together with a
digest of the model's source files, `sparsim.sweep.model_version`), so rows
from an older model are never served as current ones.
"""

MODEL_VERSION = "1"

__all__ = ["MODEL_VERSION"]
