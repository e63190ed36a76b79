"""Turn an `--arch` argument into an ArchSpec: the one place that knows every
form an architecture can take (preset name, YAML spec, SCALE-Sim `.cfg`)."""

from __future__ import annotations

from pathlib import Path

from simulator.arch import ArchSpec, load_arch_yaml, preset_names
from simulator.scalesim_cfg import read_scalesim_cfg
from simulator.spec_reader import SpecError
from workloads.inputs import is_regular_file


def load_arch(name_or_path: str | Path) -> ArchSpec:
    """Load a preset by name, an architecture YAML file or a SCALE-Sim `.cfg` file."""
    text = str(name_or_path)
    if text in preset_names():
        return load_arch_yaml(text)
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".cfg"):
        raise SpecError(
            "--arch",
            "arch",
            text,
            f"a preset ({', '.join(preset_names())}), a .yaml file or a SCALE-Sim .cfg file",
        )
    if not is_regular_file(path):
        kind = "SCALE-Sim .cfg" if suffix == ".cfg" else "architecture YAML"
        raise SpecError(str(path), "file", text, f"an existing {kind} file")
    if suffix == ".cfg":
        return read_scalesim_cfg(path)
    return load_arch_yaml(path)


__all__ = ["load_arch"]
