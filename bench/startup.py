#!/usr/bin/env python3
"""CLI start-up time, and sparsim vs SCALE-Sim on ResNet-50 (128 x 128 OS) as
whole processes, measured side by side in one run.

Start-up: the wall time of fresh processes (median of --repeat, interleaved):
the bare interpreter, `sparsim --version` (imports and argument parsing),
and `sparsim run` of ResNet-50 from SCALE-Sim's own `.cfg` + topology `.csv`
(the whole job). With `--baseline DIR` (an older checkout, e.g. from
`git archive COMMIT | tar -x -C DIR`) the same commands run from there too,
interleaved with this tree's, so before/after share the machine's load.

Peer: SCALE-Sim 3.0.0 through ../shared/peers/scalesim.sh (its own venv;
installs on first use) on the same files, once (it takes minutes and ~10 GB);
the ratio is its wall time over sparsim's median, and the two cycle totals
are checked equal (645,320, peers README). `--no-peer` skips it.

    .venv/bin/python bench/startup.py [--repeat 7] [--baseline DIR] [--no-peer]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PEERS = Path(os.environ.get("SPARSIM_PEERS", REPO.parent / "shared" / "peers"))
DATA = REPO / "tests" / "data" / "scalesim"  # the same files as peers/examples/
SCALESIM_OS_CYCLES = 645_320  # ResNet-50, 128 x 128 OS, SCALE-Sim 3.0.0 (peers README)


def os_inputs(out: Path) -> tuple[Path, Path]:
    """The 128 x 128 example config switched to OS, and the ResNet-50 topology."""
    cfg = (DATA / "sa128_ws.cfg").read_text()
    cfg = cfg.replace("run_name = sa128_ws", "run_name = sa128_os")
    cfg = cfg.replace("Dataflow : ws", "Dataflow : os")
    path = out / "sa128_os.cfg"
    path.write_text(cfg)
    return path, DATA / "resnet50_scalesim.csv"


# As a user's Python runs: bytecode cached in __pycache__ (this machine's
# environment may set PYTHONDONTWRITEBYTECODE, which recompiles every module
# of ours in every process); one untimed warm-up run per tree writes it.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(argv: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall time and CPU time (user + sys) of one whole process, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, env=ENV)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{proc.stderr}")
    return elapsed, cpu, proc.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="runs of each command (median)")
    ap.add_argument("--baseline", type=Path, help="an older checkout to time beside this one")
    ap.add_argument("--no-peer", action="store_true", help="start-up only, no SCALE-Sim")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sparsim-startup-"))
    cfg, topo = os_inputs(tmp)
    py = sys.executable
    commands = {
        "python -c pass": [py, "-c", "pass"],
        "sparsim --version": [py, "-m", "sparsim", "--version"],
        "sparsim run ResNet-50 (.cfg, .csv)": [
            py, "-m", "sparsim", "run", "--arch", str(cfg), "--workload", str(topo), "--json",
        ],
    }  # fmt: skip
    trees = {"this tree": REPO}
    if args.baseline:
        trees["baseline"] = args.baseline.resolve()
    times: dict[tuple[str, str], list[float]] = {}
    cpus: dict[tuple[str, str], list[float]] = {}
    doc = None
    for argv in commands.values():
        for cwd in trees.values():
            wall(argv, cwd)  # warm-up: bytecode written
    for _ in range(args.repeat):  # interleaved: every tree sees the same load
        for label, argv in commands.items():
            for tree, cwd in trees.items():
                elapsed, cpu, stdout = wall(argv, cwd)
                times.setdefault((label, tree), []).append(elapsed)
                cpus.setdefault((label, tree), []).append(cpu)
                if tree == "this tree" and "run" in argv:
                    doc = stdout

    ours_cycles = json.loads(doc)["totals"]["cycles"]["compute"] if doc else None
    load = os.getloadavg()[0]
    print(
        f"start-up: fresh processes, median of {args.repeat} (wall / CPU user+sys), "
        f"load average {load:.1f} on {os.cpu_count()} CPUs"
    )
    head = f"{'command':<36}" + "".join(f"{tree:>24}" for tree in trees)
    print(head)
    print("-" * len(head))
    for label in commands:
        cells = ""
        for tree in trees:
            t, c = times[(label, tree)], cpus[(label, tree)]
            cells += f"{statistics.median(t):>12.3f} / {statistics.median(c):.3f} s"
        print(f"{label:<36}{cells}")
    run_label = "sparsim run ResNet-50 (.cfg, .csv)"
    ours = statistics.median(times[(run_label, "this tree")])
    floor = statistics.median(times[("python -c pass", "this tree")])
    print(f"sparsim's own share of the run (over the bare interpreter): {ours - floor:.3f} s")
    if args.baseline:
        base = statistics.median(times[(run_label, "baseline")])
        base_cpu = statistics.median(cpus[(run_label, "baseline")])
        ours_cpu = statistics.median(cpus[(run_label, "this tree")])
        print(
            f"run vs baseline: wall {base:.3f} -> {ours:.3f} s ({base / ours:.2f}x), "
            f"CPU {base_cpu:.3f} -> {ours_cpu:.3f} s ({base_cpu / ours_cpu:.2f}x)"
        )
    if args.no_peer:
        return 0
    peer = [str(PEERS / "scalesim.sh"), "-c", str(cfg), "-t", str(topo), "-p", str(tmp / "peer")]
    subprocess.run([str(PEERS / "scalesim.sh"), "--install"], check=True, capture_output=True)
    theirs, theirs_cpu, _ = wall([*peer, "-s", "N", "-q"], REPO)
    with open(tmp / "peer" / "sa128_os" / "COMPUTE_REPORT.csv") as fh:
        rows = list(csv.reader(fh))
    col = [h.strip() for h in rows[0]].index("Total Cycles")
    peer_cycles = sum(int(float(r[col])) for r in rows[1:] if r)
    after, _, _ = wall(commands[run_label], REPO)  # sparsim again, right after the peer
    ours = statistics.median([*times[(run_label, "this tree")], after])
    print(
        f"\nResNet-50, 128x128 OS, whole processes: SCALE-Sim {theirs:.1f} s "
        f"(CPU {theirs_cpu:.1f} s), sparsim {ours:.3f} s -> {theirs / ours:,.0f}x "
        f"(load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"compute cycles: sparsim {ours_cycles:,}, SCALE-Sim {peer_cycles:,} "
        f"({'equal' if ours_cycles == peer_cycles else 'DIFFERENT'}; "
        f"peers README {SCALESIM_OS_CYCLES:,})"
    )
    return 0 if ours_cycles == peer_cycles else 1


if __name__ == "__main__":
    sys.exit(main())
