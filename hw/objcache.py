"""A compiler wrapper that shares Verilator's runtime objects between builds.

Every Verilator build compiles the same runtime files (verilated.cpp,
verilated_vpi.cpp, the trace writers, ...) with the same flags: about half of
a small model's build time. hw.sim.build_rtl runs make with
OBJCACHE="<python> <this file> <cache dir> <verilator include dir>", which
Verilator's makefile puts in front of every compiler call:

    python objcache.py CACHE INCLUDE c++ <flags> -c -o verilated.o .../verilated.cpp

A call that compiles one source from INCLUDE is looked up in CACHE under a
hash of the whole command line (the output name aside) and of the source and
every header in INCLUDE; a hit copies the object, a miss compiles and stores
it. Every other call (the model's own C++) just runs. A plain script with no
imports of ours, so make can call it from any directory.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def _headers_digest(include: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(include.rglob("*")):
        if path.is_file() and path.suffix in (".h", ".cpp"):
            digest.update(str(path.relative_to(include)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def main(argv: list[str]) -> int:
    cache, include, cmd = Path(argv[0]), Path(argv[1]).resolve(), argv[2:]
    if "-c" not in cmd or "-o" not in cmd:
        return subprocess.call(cmd)
    out_at = cmd.index("-o") + 1
    sources = [a for a in cmd if a.endswith(".cpp")]
    if len(sources) != 1 or out_at >= len(cmd):
        return subprocess.call(cmd)
    source = Path(sources[0]).resolve()
    if include not in source.parents:
        return subprocess.call(cmd)
    key_parts = [*cmd[:out_at], *cmd[out_at + 1 :], _headers_digest(include)]
    key = hashlib.sha256("\0".join(key_parts).encode()).hexdigest()[:32]
    cached = cache / f"{source.stem}-{key}.o"
    target = Path(cmd[out_at])
    if cached.is_file():
        target.write_bytes(cached.read_bytes())
        return 0
    status = subprocess.call(cmd)
    if status == 0 and target.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(target.read_bytes())
        os.replace(tmp, cached)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
