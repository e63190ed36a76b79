"""The same sweep on a 2-worker Dask LocalCluster (loopback TCP) gives the local run's rows."""

from __future__ import annotations

import json

import dask.distributed as distributed  # in the test extra (and sparsim[cluster])
import yaml

from sparsim.cli import main
from sparsim.store import Store

SPEC = {
    "name": "dask-test",
    "workloads": ["gemm:16x64x64", "conv:8x8x16:3x3x16"],
    "arch": ["edge", "vegeta"],
    "set": {"pe_array.rows": [4, 8]},
    "sparsity": ["dense", "nm:2:4", "nm:1:4"],
    "dataflow": ["ws", "os"],
}


def _rows(db) -> list[dict]:
    with Store(db) as s:
        assert s.integrity() == "ok"
        return s.rows(with_result=True)


def test_dask_local_cluster_gives_the_local_rows(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    local, dask_db = tmp_path / "local.db", tmp_path / "dask.db"
    assert main(["sweep", str(spec), "--store", str(local), "--workers", "2", "--quiet"]) == 0
    capsys.readouterr()
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        argv = ["sweep", str(spec), "--store", str(dask_db), "--scheduler"]
        argv += [cluster.scheduler_address, "--json", "--quiet"]
        assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["executor"] == "dask" and summary["workers"] == 2
    assert summary["computed"] == 2 * 2 * 2 * 3 * 2
    assert _rows(dask_db) == _rows(local)
