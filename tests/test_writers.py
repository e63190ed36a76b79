"""The one writer (`sparsim.writers`): a set of files replaced together or not
at all, even under SIGKILL; no temp file left after recovery; no stray file
when a write fails; ordinary file modes.

The SIGKILL tests run the real command in a child process whose `os.replace`
and `os.unlink` kill the process (SIGKILL: no handler, no cleanup) at the
k-th call, for every k the write makes: before the commit, between the
renames, during the journal's removal. The parent then checks that what a
reader sees is the old set or the new one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from sparsim import api
from sparsim.writers import JOURNAL, TEMP_PREFIX, WriteError, read_set, recover, write_set
from workloads.errors import InputError, WorkloadError

ROOT = Path(__file__).resolve().parents[1]

# Kill ourselves at the K-th os.replace / os.unlink call made after the
# workload is built (so only the writer's calls count).
KILLER = textwrap.dedent(
    """
    import os, signal, sys
    calls = {"n": 0}
    target = int(sys.argv[1])

    def counting(real):
        def wrapper(*a, **k):
            if armed[0]:
                calls["n"] += 1
                if calls["n"] == target:
                    os.kill(os.getpid(), signal.SIGKILL)
            return real(*a, **k)
        return wrapper

    armed = [False]
    os.replace = counting(os.replace)
    os.unlink = counting(os.unlink)
    import sparsim.writers as w
    real_write_set = w.write_set

    def armed_write_set(*a, **k):
        armed[0] = True
        return real_write_set(*a, **k)

    w.write_set = armed_write_set
    """
)


def _child(body: str, k: int, *args: str) -> int:
    code = KILLER + textwrap.dedent(body)
    proc = subprocess.run(
        [sys.executable, "-c", code, str(k), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode in (0, -signal.SIGKILL), proc.stderr
    return proc.returncode


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith((TEMP_PREFIX, JOURNAL)))


SAVE = """
from sparsim import api
wl = api.load_workload("conv:8x8x16:3x3x32", sys.argv[3], seed=int(sys.argv[4]))
api.save_workload(wl, sys.argv[2])
"""


def test_saved_workload_is_the_old_pair_or_the_new_one_under_sigkill(tmp_path):
    """A SIGKILL at every rename/unlink of `save_workload` (old pair 1:4, new 2:4):
    the reader gets the old workload or the new one, never the 2:4 masks beside
    a JSON that says 1:4, and recovery leaves no temp file."""
    target = tmp_path / "wl.json"
    old = api.load_workload("conv:8x8x16:3x3x32", "nm:1:4", seed=1)
    new = api.load_workload("conv:8x8x16:3x3x32", "nm:2:4", seed=2)
    seen = set()
    k = 1
    while True:
        for p in tmp_path.iterdir():
            p.unlink()
        api.save_workload(old, target)
        rc = _child(SAVE, k, str(target), "nm:2:4", "2")
        loaded = api.load_workload(target)  # recovers the folder first
        assert _leftovers(tmp_path) == []
        masks = [lw.mask for lw in loaded.layers]
        for want in (old, new):
            if loaded.layers[0].pattern == want.layers[0].pattern:
                for got, exp in zip(masks, [lw.mask for lw in want.layers], strict=True):
                    np.testing.assert_array_equal(got, exp)
                seen.add(str(want.layers[0].pattern))
                break
        else:
            raise AssertionError(f"kill at call {k}: neither the old nor the new workload")
        if rc == 0:
            break  # k went past the last call: the write completed
        k += 1
    assert seen == {"1:4", "2:4"} and k >= 4  # killed before and after the commit


RUN = """
from sparsim.cli import main
main(["run", "--workload", sys.argv[3], "--sparsity", "nm:2:4", "-o", sys.argv[2], "--quiet"])
"""


def test_run_outputs_are_the_old_set_or_the_new_one_under_sigkill(tmp_path):
    out = tmp_path / "run"
    k = 1
    kinds = set()
    while True:
        if out.exists():
            for p in out.iterdir():
                p.unlink()
        subprocess.run(
            [sys.executable, "-m", "sparsim", "run", "--workload", "gemm:16x32x32",
             "--arch", "tpu-v1", "-o", str(out), "--quiet"],
            check=True, capture_output=True, cwd=ROOT, timeout=300,
        )  # fmt: skip
        rc = _child(RUN, k, str(out), "gemm:32x64x64")
        files = read_set(out, ("result.json", "arch.resolved.json"))
        assert _leftovers(out) == []
        result = json.loads(files["result.json"])
        arch = json.loads(files["arch.resolved.json"])
        assert result["arch"] == arch["name"]  # the two files belong to one run
        kinds.add(arch["name"])
        if rc == 0:
            break
        k += 1
    assert kinds == {"tpu-v1", "edge"}


def test_a_torn_pair_is_a_clean_error_not_a_silent_load(tmp_path):
    """An .npz swapped in without its JSON (by hand, or an old writer) is refused."""
    a, b = tmp_path / "a", tmp_path / "b"
    api.save_workload(api.load_workload("gemm:8x16x16", "nm:1:4"), a / "wl.json")
    api.save_workload(api.load_workload("gemm:8x16x16", "nm:2:4", seed=3), b / "wl.json")
    (a / "wl.npz").write_bytes((b / "wl.npz").read_bytes())
    with pytest.raises(WorkloadError, match="arrays_sha256"):
        api.load_workload(a / "wl.json")


def test_modes_follow_umask_and_nothing_else_is_left(tmp_path):
    old = os.umask(0o022)
    try:
        written = write_set(tmp_path, {"a.json": "{}", "b.png": b"\x89PNG"})
    finally:
        os.umask(old)
    for p in written:
        assert p.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.png"]


def test_a_failed_write_leaves_no_stray_file_and_the_old_set(tmp_path):
    write_set(tmp_path, {"a.json": "old a", "b.json": "old b"})

    class Boom(bytes):
        def __bytes__(self):
            raise OSError(28, "No space left on device")

    with pytest.raises(WriteError, match="No space left"):
        write_set(tmp_path, {"a.json": "new a", "b.json": Boom()})
    assert (tmp_path / "a.json").read_text() == "old a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]


def test_an_output_onto_a_file_is_a_clean_error(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(WriteError, match="output folder"):
        write_set(tmp_path / "f", {"a.json": "{}"})


def test_recovery_rolls_a_committed_journal_forward_and_drops_uncommitted_temps(tmp_path):
    (tmp_path / "a.json").write_text("old")
    (tmp_path / f"{TEMP_PREFIX}1.a.json").write_text("new")
    (tmp_path / f"{TEMP_PREFIX}2.b.json").write_text("never committed")
    (tmp_path / JOURNAL).write_text(json.dumps({"moves": [[f"{TEMP_PREFIX}1.a.json", "a.json"]]}))
    recover(tmp_path)
    assert (tmp_path / "a.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_a_journal_cannot_move_files_out_of_its_folder(tmp_path):
    (tmp_path / JOURNAL).write_text(json.dumps({"moves": [[f"{TEMP_PREFIX}x", "../escape"]]}))
    with pytest.raises(WriteError, match="plain names"):
        recover(tmp_path)


def test_save_does_not_overwrite_an_npz_it_does_not_own(tmp_path):
    (tmp_path / "model.npz").write_bytes(b"someone's weights")
    wl = api.load_workload("gemm:8x16x16", "nm:2:4")
    with pytest.raises(InputError, match=r"model\.npz exists"):
        api.save_workload(wl, tmp_path / "model.json")
    assert (tmp_path / "model.npz").read_bytes() == b"someone's weights"


def test_a_pair_replaced_by_a_workload_without_arrays_drops_its_npz(tmp_path):
    api.save_workload(api.load_workload("gemm:8x16x16", "nm:2:4"), tmp_path / "wl.json")
    api.save_workload(api.load_workload("resnet50", "nm:2:4"), tmp_path / "wl.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wl.json"]
    assert api.load_workload(tmp_path / "wl.json").name == "resnet50"
