"""Sweep specs: validation (file, field, which point), expansion, local execution, resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from simulator.load import load_arch
from sparsim.cli import main
from sparsim.store import Store
from sparsim.sweep import load_sweep, model_version, run_sweep
from sparsim.sweep.evaluate import evaluate
from sparsim.sweep.spec import parse_sweep
from workloads.errors import InputError

SMALL = {
    "name": "small",
    "workloads": ["gemm:32x64x64"],
    "arch": ["edge"],
    "set": {"pe_array.rows": [4, 8], "memory.glb.capacity_kib": [64, 256]},
    "sparsity": ["dense", "nm:2:4"],
    "dataflow": ["ws", "os"],
}


def write_spec(tmp_path: Path, doc: dict, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return path


def test_expansion_is_the_cross_product_with_overrides_applied(tmp_path):
    sweep = load_sweep(write_spec(tmp_path, SMALL))
    assert len(sweep.points) == 1 * 4 * 2 * 2
    rows = {p.arch.pe_array.rows for p in sweep.points}
    glb = {p.arch.glb.capacity_bytes for p in sweep.points}
    assert rows == {4, 8} and glb == {64 * 1024, 256 * 1024}
    # what is not overridden is the preset's
    edge = load_arch("edge")
    assert all(p.arch.pe_array.cols == edge.pe_array.cols for p in sweep.points)
    assert len({p.key(model_version()) for p in sweep.points}) == len(sweep.points)


def test_objective_only_splits_points_that_search(tmp_path):
    doc = dict(SMALL, set={}, dataflow=["ws", "best"], objective=["cycles", "edp"])
    sweep = load_sweep(write_spec(tmp_path, doc))
    # ws: one point per sparsity; best: one per sparsity and objective
    assert len(sweep.points) == 2 * 1 + 2 * 2


@pytest.mark.parametrize(
    ("change", "field", "where"),
    [
        ({"set": {"pe_array.rows": [8, 0]}}, "pe_array.rows", "arch point 1"),
        ({"set": {"pe_array.bogus": [1]}}, "pe_array.bogus", "arch point 0"),
        ({"set": {"memory.glb.capacity_kib": [-1]}}, "memory.glb.capacity_kib", "arch point 0"),
        ({"sparsity": ["dense", "nm:5:4"]}, "sparsity[1]", ""),
        ({"dataflow": ["ws", "diagonal"]}, "dataflow[1]", ""),
        ({"objective": "speed"}, "objective[0]", ""),
        ({"batch": [1, 0]}, "batch[1]", ""),
        ({"arch": ["edge", "nope"]}, "arch[1]", ""),
        ({"workloads": ["missing.onnx"]}, "workloads[0]", ""),
        ({"colour": "red"}, "colour", ""),
    ],
)
def test_a_bad_point_is_a_clean_exit_2_naming_file_field_and_point(
    tmp_path, capsys, change, field, where
):
    spec = write_spec(tmp_path, {**SMALL, **change})
    store = tmp_path / "r.db"
    assert main(["sweep", str(spec), "--store", str(store), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(spec) in err and field in err and where in err
    assert "Traceback" not in err
    assert not store.exists()  # nothing ran


def test_sweep_runs_locally_and_a_rerun_computes_nothing(tmp_path, capsys):
    spec = write_spec(tmp_path, SMALL)
    store = tmp_path / "r.db"
    argv = ["sweep", str(spec), "--store", str(store), "--workers", "2", "--json", "--quiet"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["computed"] == 16 and first["cached"] == 0
    assert main(argv) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["computed"] == 0 and second["cached"] == 16
    with Store(store) as s:
        rows = s.rows(with_result=True)
    assert len(rows) == 16
    # each row is the point's own simulation (same numbers as running it directly)
    sweep = load_sweep(spec)
    point = sweep.points[5]
    direct = evaluate(point, point.key(model_version()), model_version())
    stored = next(r for r in rows if r["key"] == direct["key"])
    assert stored["cycles"] == direct["cycles"] and stored["energy_pj"] == direct["energy_pj"]
    assert stored["result"] == json.loads(direct["result"])
    assert json.loads(stored["overrides"]) == dict(point.overrides)


def test_a_new_model_version_invalidates_old_rows(tmp_path, monkeypatch):
    spec = write_spec(tmp_path, dict(SMALL, set={}))
    store = tmp_path / "r.db"
    sweep = load_sweep(spec)
    assert run_sweep(sweep, store, workers=1).computed == 4
    import sparsim.sweep.run as run_mod

    monkeypatch.setattr(run_mod, "model_version", lambda: "changed-model")
    summary = run_sweep(sweep, store, workers=1)
    assert summary.stale_dropped == 4 and summary.computed == 4
    with Store(store) as s:
        assert {r["model_version"] for r in s.rows()} == {"changed-model"}


def test_workload_files_are_read_beside_the_spec_and_hashed(tmp_path):
    from sparsim.api import save_workload
    from workloads.specs import build_workload, parse_shape, parse_sparsity

    wl = build_workload([parse_shape("gemm:8x16x16")], parse_sparsity("nm:2:4"), seed=1)
    save_workload(wl, tmp_path / "wl.json")
    doc = {"workloads": [{"workload": "wl.json", "accuracy": 0.9}], "arch": "edge"}
    sweep = parse_sweep(doc, "inline.yaml", tmp_path)
    key = sweep.points[0].key("m")
    assert sweep.points[0].workload.accuracy == 0.9
    wl2 = build_workload([parse_shape("gemm:8x16x16")], parse_sparsity("nm:2:4"), seed=2)
    save_workload(wl2, tmp_path / "wl.json")  # new weights: a new point
    assert parse_sweep(doc, "inline.yaml", tmp_path).points[0].key("m") != key


def test_sparsity_error_inside_a_workload_is_bad_input(tmp_path):
    with pytest.raises(InputError, match="workloads\\[0\\]"):
        parse_sweep({"workloads": [42]}, "x.yaml")


def test_an_unknown_workload_is_exit_2_and_creates_no_store(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text("name: x\nworkloads: [no-such-net]\narch: [edge]\n")
    store = tmp_path / "results.db"
    assert main(["sweep", str(spec), "--store", str(store), "--quiet"]) == 2
    assert "no-such-net" in capsys.readouterr().err
    assert not store.exists()


# --- SIGKILL midway, then resume ----------------------------------------------------------

KILL_SPEC = textwrap.dedent(
    """
    name: killme
    workloads: [gemm:32x64x64]
    arch: [edge]
    set:
      pe_array.rows: [4, 8, 16, 32]
      pe_array.cols: [4, 8, 16, 32]
      memory.glb.capacity_kib: [64, 256]
    sparsity: [dense, nm:2:4, nm:1:4]
    dataflow: [ws, os]
    """
)


def _stored(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM points").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _start(spec: Path, db: Path) -> subprocess.Popen:
    argv = [sys.executable, "-m", "sparsim", "sweep", str(spec), "--store", str(db)]
    argv += ["--workers", "1", "--batch-size", "2", "--quiet"]
    return subprocess.Popen(argv, start_new_session=True, stderr=subprocess.PIPE, text=True)


def _wait_for_rows(proc: subprocess.Popen, db: Path, n: int) -> None:
    deadline = time.monotonic() + 60
    while _stored(db) < n:
        assert proc.poll() is None, f"sweep ended early: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.02)


def _full(db: Path) -> list[dict]:
    with Store(db) as s:
        assert s.integrity() == "ok"
        (dups,) = s.conn.execute("SELECT COUNT(*) - COUNT(DISTINCT key) FROM points").fetchone()
        assert dups == 0
        return s.rows(with_result=True)


def test_sigkill_midway_then_resume_equals_an_uninterrupted_run(tmp_path):
    spec = tmp_path / "kill.yaml"
    spec.write_text(KILL_SPEC)
    sweep = load_sweep(spec)
    total = len(sweep.points)
    assert total == 192
    reference = tmp_path / "reference.db"
    run_sweep(sweep, reference, workers=1)

    # 1. SIGKILL the client and its worker together
    db = tmp_path / "resumed.db"
    proc = _start(spec, db)
    _wait_for_rows(proc, db, 20)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = _stored(db)
    assert 20 <= killed_at < total, "the kill did not land midway"
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # 2. SIGKILL only the worker: the client stops cleanly (exit 1), keeping what finished
    proc = _start(spec, db)
    _wait_for_rows(proc, db, killed_at + 10)
    workers = _children(proc.pid)
    assert workers, "no worker process found"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    assert proc.wait(timeout=60) == 1
    assert "rerun to resume" in proc.stderr.read()
    assert _stored(db) < total

    # 3. resume: only the missing points run
    summary = run_sweep(sweep, db, workers=1)
    assert summary.cached + summary.computed == total and summary.cached >= killed_at + 10
    assert _full(db) == _full(reference)


def test_ctrl_c_stops_cleanly_and_keeps_what_finished(tmp_path):
    spec = tmp_path / "kill.yaml"
    spec.write_text(KILL_SPEC)
    db = tmp_path / "r.db"
    proc = _start(spec, db)
    _wait_for_rows(proc, db, 10)
    workers = _children(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends the foreground group
    assert proc.wait(timeout=30) == 130
    assert "interrupted" in proc.stderr.read()
    assert all(not Path(f"/proc/{pid}").exists() or _zombie(pid) for pid in workers)
    stored = _stored(db)
    assert 10 <= stored < 192
    with Store(db) as s:
        assert s.integrity() == "ok" and len(s.keys()) == stored


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_progress_bar_shows_rate_and_eta():
    import io

    from sparsim.sweep.run import ProgressBar

    out = io.StringIO()
    bar = ProgressBar(out, 10, enabled=True)
    bar(5)
    bar(10)
    bar.close()
    text = out.getvalue()
    assert "5/10" in text and "10/10" in text and "pts/s" in text and "ETA" in text
    quiet = io.StringIO()
    ProgressBar(quiet, 10, enabled=False)(3)
    assert quiet.getvalue() == ""
