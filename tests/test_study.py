"""`sparsim study`: pruned, fine-tuned digits nets through a sweep, a table and a report."""

from __future__ import annotations

import pytest

from sparsim.cli import main
from sparsim.store import Store, read_results
from sparsim.study import format_table, table

METHODS = "nm:2:4,blockdiag:2,channel:0.5"


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    argv = ["study", "-o", str(out), "--fast", "--methods", METHODS, "--presets", "edge,vegeta"]
    assert main([*argv, "--quiet", "--workers", "1"]) == 0
    return out


def test_study_is_a_sweep_in_a_store(study):
    with Store(study / "results.db") as s:
        assert s.sweeps() == ["codesign-study"]
        assert s.integrity() == "ok"
    rows = read_results(study / "results.db")
    # 2 models x (dense + 3 methods) x 2 presets
    assert len(rows) == 16
    assert all(0.5 < r["accuracy"] <= 1.0 for r in rows)
    assert (study / "study.yaml").is_file() and (study / "report" / "index.html").is_file()
    assert (study / "study.png").stat().st_size > 10_000
    page = (study / "report" / "index.html").read_text()
    assert "Accuracy vs speedup vs energy" in page and "blockdiag:2" in page


def test_table_is_against_the_dense_model_on_each_preset(study):
    cells = table(read_results(study / "results.db"))
    assert len(cells) == 16
    for model in ("digits-mlp", "digits-cnn"):
        for preset in ("edge", "vegeta"):
            dense = cells[(model, "dense", preset)]
            assert dense.speedup == 1.0 and dense.energy_saving == 1.0
            # both presets run 2:4 in hardware; channel pruning shrinks every hidden layer
            assert cells[(model, "nm:2:4", preset)].speedup > 1.05
            assert cells[(model, "channel:0.5", preset)].speedup > 1.2
            assert cells[(model, "channel:0.5", preset)].energy_saving > 1.2
    text = format_table(cells)
    assert text.count("| digits-") == 8 and "| edge" in text and "| vegeta" in text


def test_bad_study_arguments_are_exit_2(tmp_path, capsys):
    assert main(["study", "-o", str(tmp_path), "--methods", "nm:5:4"]) == 2
    assert main(["study", "-o", str(tmp_path), "--presets", "edge,warp-drive"]) == 2
    assert "warp-drive" in capsys.readouterr().err
