#!/usr/bin/env python3
"""Golden outputs for speed work on the model: every number it produces, dumped.

Runs `simulate` (default mapping, keep_on_chip on and off), `sparsim.api.run`
(the arch's dataflow, `--dataflow best` for each objective, `--compare best`)
and the estimate of every candidate mapping of the mapper's space over GEMMs
and convs (strided, padded, grouped, depthwise), dense, 2:4 and with
activation density < 1, on every preset; writes one JSON document. Compare
two dumps byte for byte (`cmp`): an optimization must leave them identical.

    PYTHONHASHSEED=0 .venv/bin/python bench/golden_speed.py -o out/golden/before.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mappings.dataflow import Dataflow  # noqa: E402
from simulator.arch import preset_names  # noqa: E402
from simulator.load import load_arch  # noqa: E402
from simulator.simulate import _Evaluator, candidate_mappings, plan_layer, simulate  # noqa: E402
from sparsim import api  # noqa: E402
from workloads.workload import Workload  # noqa: E402

INLINE = [
    "gemm:64x256x576",
    "gemm:1x1000x2048",
    "gemm:200x96x300",  # awkward sizes
    "conv:58x58x64:3x3x64",
    "conv:30x30x32:3x3x64:2",  # strided
    "conv:17x17x16:5x5x24",
]
# layers of the zoo with padding, 7x7 stride 2, grouped/depthwise and FC
MOBILENET = ["features.0", "features.2.expand", "features.2.dw", "features.4.dw", "classifier"]
RESNET = ["conv1", "layer2.0.conv2", "layer2.0.downsample"]
SPARSITIES = ["dense", "nm:2:4", "nm:2:4+act:0.5", "dense+act:0.3"]


def _subset(name: str, layers: list[str], sparsity: str) -> Workload:
    full = api.load_workload(name, sparsity)
    keep = tuple(lw for lw in full.layers if lw.name in layers)
    graph = full.graph.subgraph([lw.name for lw in keep]).copy() if full.graph else None
    return Workload(f"{name}-subset", keep, full.sparsity, graph)


def _candidates(workload: Workload, arch) -> list:
    """Every candidate's estimate, as the mapper scores them."""
    out = []
    for lw in workload.layers:
        plan = plan_layer(lw, arch)
        ev = _Evaluator(plan)
        for df in Dataflow:
            for m, est in candidate_mappings(plan, df, None, ev):
                out.append([lw.name, m.to_dict(), repr(est)])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--presets", nargs="*", default=preset_names())
    args = ap.parse_args()
    doc: dict = {}
    t0 = time.perf_counter()
    for preset in args.presets:
        arch = load_arch(preset)
        for sp in SPARSITIES:
            workloads = [api.load_workload(s, sp) for s in INLINE]
            workloads += [_subset("mobilenetv2", MOBILENET, sp), _subset("resnet50", RESNET, sp)]
            for i, wl in enumerate(workloads):
                key = f"{preset}|{sp}|{i}:{wl.name}"
                entry = {
                    "simulate": simulate(wl, arch).to_dict(),
                    "layer_by_layer": simulate(wl, arch, keep_on_chip=False).to_dict(),
                    "run": api.run(wl, arch).to_dict(),
                    "best_cycles": api.run(wl, arch, dataflow="best").to_dict(),
                }
                if i % 3 == 0:  # the other objectives and --compare best on a few
                    for obj in ("energy", "edp"):
                        entry[f"best_{obj}"] = api.run(
                            wl, arch, dataflow="best", objective=obj
                        ).to_dict()
                    if sp != "dense":
                        entry["compare_best"] = api.run(
                            wl, arch, dataflow="best", compare="best"
                        ).to_dict()
                if i % 2 == 0:
                    entry["candidates"] = _candidates(wl, arch)
                doc[key] = entry
        print(f"{preset}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1, sort_keys=True, default=repr) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
