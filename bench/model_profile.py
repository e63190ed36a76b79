#!/usr/bin/env python3
"""Per-layer model cost and a golden dump to prove an optimisation changes no number.

Runs every zoo workload's first `--layers` layers, dense and nm:2:4, on every
preset (plus `--dataflow best` for resnet50 on edge) through `sparsim.api.run`,
each case with the simulator's default-mapping cache cleared, and prints the
median CPU ms per layer simulation. `--dump DIR` writes each case's `to_dict()`
JSON; `--check DIR` compares against such a dump byte for byte (exit 1 on any
difference). `--profile FILE` writes cProfile stats of the whole batch.

    .venv/bin/python bench/model_profile.py [--dump DIR | --check DIR] [--profile FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.arch import preset_names
from simulator.load import load_arch
from simulator.simulate import _default_mapping_cached
from simulator.tiling import _enumerate_steps
from sparsim import api
from workloads.workload import Workload
from workloads.zoo import zoo_names


def cases(layers: int):
    for name in zoo_names():
        for sparsity in ("dense", "nm:2:4"):
            wl = api.load_workload(name, sparsity)
            wl = Workload(wl.name, wl.layers[:layers], sparsity=wl.sparsity, graph=None)
            for preset in preset_names():
                yield f"{name}_{sparsity.replace(':', '-')}_{preset}", wl, preset, None
    wl = api.load_workload("resnet50", "dense")
    wl = Workload(wl.name, wl.layers[:layers], sparsity=wl.sparsity, graph=None)
    yield "resnet50_dense_edge_best", wl, "edge", "best"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=10)
    ap.add_argument("--dump", type=Path)
    ap.add_argument("--check", type=Path)
    ap.add_argument("--profile", type=Path)
    args = ap.parse_args()
    prof = cProfile.Profile() if args.profile else None
    per_layer, diffs, total_cpu, total_layers = [], [], 0.0, 0
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
    for key, wl, preset, dataflow in cases(args.layers):
        _default_mapping_cached.cache_clear()  # each case pays for its own search
        _enumerate_steps.cache_clear()
        arch = load_arch(preset)
        t0 = time.process_time()
        if prof:
            prof.enable()
        res = api.run(wl, arch, dataflow)
        if prof:
            prof.disable()
        cpu = time.process_time() - t0
        sims = len(wl.layers) * (1 if wl.sparsity == "dense" else 2)
        per_layer.append(cpu * 1e3 / sims)
        total_cpu += cpu
        total_layers += sims
        text = json.dumps(res.to_dict(), indent=1, sort_keys=True)
        if args.dump:
            (args.dump / f"{key}.json").write_text(text)
        if args.check and (args.check / f"{key}.json").read_text() != text:
            diffs.append(key)
    print(
        f"{len(per_layer)} cases, {total_layers} layer simulations, {total_cpu:.2f} CPU s; "
        f"median {statistics.median(per_layer):.3f} CPU ms/layer, "
        f"mean {total_cpu * 1e3 / total_layers:.3f}"
    )
    if prof:
        prof.dump_stats(str(args.profile))
    if args.check:
        print(f"golden check: {'IDENTICAL' if not diffs else f'{len(diffs)} DIFFER: {diffs}'}")
        return 1 if diffs else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
