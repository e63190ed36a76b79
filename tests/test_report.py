"""The HTML report: self-contained, every point in the table, Pareto points marked,
rendered by headless Chromium to a screenshot that is not blank."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml
from matplotlib import image

from sparsim.cli import main
from sparsim.plots_sweep import pareto_front
from sparsim.store import read_results
from sparsim.sweep import load_sweep, run_sweep

SPEC = {
    "name": "report-test",
    "workloads": ["gemm:16x64x64"],
    "arch": ["edge"],
    "set": {"pe_array.rows": [4, 8], "pe_array.cols": [4, 16]},
    "sparsity": ["dense", "nm:2:4", "nm:1:4"],
    "dataflow": ["ws", "os"],
}
BROWSERS = ("chromium", "chromium-browser")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    spec = tmp / "s.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    db = tmp / "r.db"
    run_sweep(load_sweep(spec), db, workers=1)
    assert main(["report", str(db), "-o", str(tmp / "out")]) == 0
    return db, tmp / "out"


def test_page_is_self_contained_with_every_point(report):
    db, out = report
    page = (out / "index.html").read_text()
    rows = read_results(db)
    srcs = re.findall(r'src="([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "<link" not in page and "http" not in page  # nothing fetched
    assert page.count("<tr") - 1 == len(rows) == 24
    front = pareto_front(rows, "cycles", "energy_pj")
    assert page.count('<tr class="pareto">') == len(front) >= 1
    for stem in ("speedup_vs_sparsity", "pareto_energy_cycles", "heatmap"):
        assert (out / "figures" / f"{stem}.png").stat().st_size > 1000
        assert "<svg" in (out / "figures" / f"{stem}.svg").read_text()[:2000]


def test_pareto_front_is_the_non_dominated_points():
    rows = [
        {"key": k, "workload": "w", "cycles": c, "energy_pj": e}
        for k, c, e in [("a", 1, 9), ("b", 2, 5), ("c", 3, 6), ("d", 4, 1), ("e", 2, 5)]
    ]
    assert pareto_front(rows, "cycles", "energy_pj") == {"a", "b", "d"}


def test_bad_report_arguments_are_exit_2(report, tmp_path, capsys):
    db, _ = report
    assert main(["report", str(db), "-o", str(tmp_path), "--metric", "colour"]) == 2
    assert "colour" in capsys.readouterr().err
    assert main(["report", str(db), "-o", str(tmp_path), "--axes", "arch"]) == 2
    assert main(["report", str(tmp_path / "none.db"), "-o", str(tmp_path)]) == 2


def test_headless_chromium_renders_a_page_that_is_not_blank(report, tmp_path):
    _, out = report
    browser = next((b for b in map(shutil.which, BROWSERS) if b), None)
    if browser is None:
        pytest.fail(
            "headless Chromium not found (looked for chromium, chromium-browser on PATH): "
            "install Debian's `chromium` (apt-get install -y chromium; `make test` does it)"
        )
    shot = tmp_path / "report.png"
    argv = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,1600",
        f"--screenshot={shot}",
        (out / "index.html").as_uri(),
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert shot.is_file(), f"no screenshot; chromium said: {proc.stderr[-2000:]}"
    pixels = image.imread(shot)[..., :3]
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1200
    not_white = (pixels < 0.95).any(axis=-1).mean()
    colours = len({tuple(p) for p in (pixels[::7, ::7] * 255).astype(int).reshape(-1, 3)})
    assert not_white > 0.05, f"screenshot nearly blank ({not_white:.1%} non-white)"
    assert colours > 50, f"screenshot has only {colours} colours (figures not drawn?)"
