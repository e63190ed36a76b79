"""Start-up stays fast because heavy modules load only where a command needs
them. A behaviour test (which modules a fresh process has loaded), not a
timing test: bench/startup.py measures the time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "scalesim"
HEAVY = ("matplotlib", "onnx", "torch", "scipy", "sklearn")


def loaded_after(code: str) -> set[str]:
    """Top-level modules a fresh interpreter holds after running `code`."""
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return {m.split(".")[0] for m in json.loads(proc.stdout.splitlines()[-1])}


def test_importing_the_cli_loads_no_heavy_module():
    loaded = loaded_after("import sparsim.cli")
    assert not loaded & {*HEAVY, "networkx", "simpy", "hw", "numpy"}


def test_importing_the_api_loads_no_heavy_module():
    assert not loaded_after("import sparsim.api") & {*HEAVY, "networkx", "hw"}


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--arch", str(DATA / "sa128_ws.cfg"), "--workload",
         str(DATA / "resnet50_scalesim.csv"), "--json"],
        ["run", "--workload", "gemm:64x64x64", "--sparsity", "nm:2:4"],
        ["presets"],
        ["--help"],
    ],
)  # fmt: skip
def test_a_command_loads_only_what_it_needs(argv):
    """`sparsim run` on SCALE-Sim files or a shape: no plotting, no importers'
    packages, no graph library, no RTL benches."""
    code = (
        "import contextlib, io\nfrom sparsim.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    main({argv!r})"
    )
    assert not loaded_after(code) & {*HEAVY, "networkx", "hw", "cocotb"}


def test_plotting_and_importers_still_load_their_packages_when_asked(tmp_path):
    out = tmp_path / "o"
    code = (
        "import contextlib, io\nfrom sparsim.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['run', '--workload', 'gemm:8x8x8', '-o', {str(out)!r}, '--plot']) == 0"
    )
    assert "matplotlib" in loaded_after(code)
    assert (out / "result.png").read_bytes()[:4] == b"\x89PNG"


def test_the_faces_objectives_are_the_mappers():
    from mappings.mapper import OBJECTIVES
    from sparsim import api

    assert api.OBJECTIVES == OBJECTIVES
