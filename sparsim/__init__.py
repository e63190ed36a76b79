"""sparsim: a hardware co-design simulator for sparse DNN accelerators.

This package is the face: the notebook API (`sparsim.api`), the command line
(`sparsim.cli`), the one atomic writer (`sparsim.writers`) and the plots. It
sits on top of `workloads`, `mappings`, `simulator` and `hw`; none of them
imports it. Importing `sparsim` itself is cheap: submodules load on use.
"""

__version__ = "0.2.0"

__all__ = ["__version__"]
