"""Design-space sweeps: a YAML spec expanded into resolved design points
(`spec`), computed on local processes or a Dask cluster (`run`, `evaluate`)
into the result store (`sparsim.store`)."""

from sparsim.sweep.evaluate import model_version
from sparsim.sweep.run import SweepError, SweepSummary, run_sweep
from sparsim.sweep.spec import DesignPoint, Sweep, load_sweep, parse_sweep

__all__ = [
    "DesignPoint",
    "Sweep",
    "SweepError",
    "SweepSummary",
    "load_sweep",
    "model_version",
    "parse_sweep",
    "run_sweep",
]
