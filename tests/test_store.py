"""The result store: export (CSV, JSON), pandas, atomic batches, bad files."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
import yaml

from sparsim.cli import main
from sparsim.store import FLAT, Store, read_results, results_frame
from sparsim.sweep import load_sweep, run_sweep

SPEC = {
    "name": "store-test",
    "workloads": ["gemm:16x32x32", "conv:8x8x8:3x3x8"],
    "arch": ["edge"],
    "set": {"pe_array.cols": [4, 8]},
    "sparsity": ["dense", "nm:2:4"],
    "dataflow": ["ws"],
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("store")
    spec = tmp / "s.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    db = tmp / "r.db"
    assert run_sweep(load_sweep(spec), db, workers=1).computed == 8
    return db


def test_export_csv_and_json_hold_every_point(store, capsys):
    rows = read_results(store)
    assert main(["export", str(store), "--csv"]) == 0
    parsed = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["key"] for r in parsed] == [r["key"] for r in rows]
    assert list(parsed[0]) == list(FLAT)
    assert [int(r["cycles"]) for r in parsed] == [r["cycles"] for r in rows]
    assert main(["export", str(store), "--json", "--layers", "--sweep", "store-test"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc) == 8 and all(d["result"]["layers"] for d in doc)
    assert {d["speedup"] for d in doc if d["sparsity"] == "dense"} == {1.0}


def test_export_to_a_file(store, tmp_path):
    out = tmp_path / "x.csv"
    assert main(["export", str(store), "--csv", "-o", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 9


def test_dataframe(store):
    df = results_frame(store, "store-test")
    assert df.shape == (8, len(FLAT))
    assert set(df["sparsity"]) == {"dense", "nm:2:4"}
    assert (df.loc[df["sparsity"] == "nm:2:4", "speedup"] > 1).all()


def test_a_batch_is_one_transaction(tmp_path):
    db = tmp_path / "t.db"
    with Store(db) as s:
        good = {"key": "a", "model_version": "m"}
        bad = {"key": "b", "model_version": None}  # NOT NULL fails mid-batch
        with pytest.raises(sqlite3.IntegrityError):
            s.add("x", [good, bad])
        assert s.keys() == set()
        s.add("x", [good])
        assert s.keys() == {"a"}


def test_bad_files_are_exit_2(tmp_path, capsys):
    junk = tmp_path / "junk.db"
    junk.write_text("not a database at all " * 100)
    assert main(["export", str(junk), "--csv"]) == 2
    assert "junk.db" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing.db"), "--json"]) == 2
    assert "missing.db" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing.db")]) == 2  # no format


def test_unknown_sweep_is_exit_2(store, capsys):
    assert main(["export", str(store), "--csv", "--sweep", "nope"]) == 2
    assert "store-test" in capsys.readouterr().err


def test_the_api_reads_a_store(store):
    from sparsim import api

    assert len(api.read_results(store)) == 8
    assert api.results_frame(store).shape[0] == 8
