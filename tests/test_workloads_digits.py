"""Digits: real nets trained in seconds, honest accuracy after pruning (fast table)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sparsim.cli import main
from workloads.digits import (
    FAST_SPECS,
    accuracy,
    digits_workload,
    format_table,
    load_digits_data,
    prune_net,
    pruning_table,
    trained_net,
)
from workloads.sparsity import NM, satisfies_nm
from workloads.sparsity_spec import parse_sparsity

FAST_EPOCHS = {"mlp": 15, "cnn": 8}


@pytest.fixture(scope="module")
def table():
    rows = pruning_table(
        (*FAST_SPECS, "magnitude:0.5"), seed=0, epochs=FAST_EPOCHS, finetune_epochs=3
    )
    return {(r.model, r.spec): r for r in rows}, rows


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_pruning_table_is_sane(table, model):
    by, _ = table
    dense = by[(model, "dense")].accuracy
    assert dense > 0.9
    nm = by[(model, "nm:2:4")]
    assert nm.accuracy_finetuned >= dense - 0.03  # 2:4 with a short fine-tune: close to dense
    assert nm.density == pytest.approx(0.5, abs=0.01)
    # at high sparsity, random pruning destroys the net and magnitude pruning much less
    assert by[(model, "random:0.9")].accuracy < by[(model, "magnitude:0.9")].accuracy - 0.1
    assert by[(model, "magnitude:0.5")].accuracy > dense - 0.05
    channel = by[(model, "channel:0.5")]
    assert channel.density < 0.5 and channel.accuracy_finetuned > 0.85  # a smaller dense net


def test_table_formats_every_row(table):
    _, rows = table
    text = format_table(rows)
    assert all(spec in text for spec in FAST_SPECS) and "MLP density" in text


def test_masks_of_the_pruned_nets_satisfy_their_pattern():
    net = trained_net("cnn", 0, FAST_EPOCHS["cnn"])
    pruned = prune_net(net, parse_sparsity("nm:1:4"))
    assert all(satisfies_nm(m, NM(1, 4), axis=0) for m in pruned.masks)
    data = load_digits_data(0)
    assert 0.1 < accuracy(pruned, data.x_test, data.y_test) <= 1.0


def test_digits_workload_runs_with_real_masks_and_activation_densities(capsys):
    wl = digits_workload("mlp")
    assert [lw.gemm.k for lw in wl.layers] == [64, 128, 64]
    assert all(lw.weights is not None for lw in wl.layers)
    assert wl.layers[0].activation_density < 1.0  # blank pixels of the digits
    assert 0.2 < wl.layers[1].activation_density < 0.9  # ReLU zeros
    # the same (cached) net through the CLI
    assert main(["run", "--workload", "digits-mlp", "--sparsity", "nm:2:4", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [layer["mode"] for layer in doc["layers"]] == ["2:4"] * 3
    assert np.isclose(doc["totals"]["effective_macs"] / doc["totals"]["macs"], 0.5, atol=0.02)
