"""pytest options for the RTL benches (loaded with `-p hw.pytest_plugin`, see pyproject).

    --cases K   random cases per bench test (sets SPARSIM_CASES): groups for the
                compressor, words for the buffer, cycles for the PE, GEMMs for
                the arrays
    --seed S    stimulus seed (sets SPARSIM_SEED; a failure prints the one to replay)
    --slow      also run the tests marked `slow` (the full RTL parameter cross
                product); `-m slow` runs only those

Without `--slow` or a `-m` expression, tests marked `slow` are deselected, so a
plain `pytest` (and `make test`) runs the representative CI matrix.
"""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sparsim", "sparsim RTL benches")
    group.addoption(
        "--cases", type=int, default=None, help="random cases per RTL bench test (SPARSIM_CASES)"
    )
    group.addoption("--seed", type=int, default=None, help="RTL stimulus seed (SPARSIM_SEED)")
    group.addoption("--slow", action="store_true", default=False, help="also run tests marked slow")


def pytest_configure(config: pytest.Config) -> None:
    cases = config.getoption("cases")
    if cases is not None:
        if cases < 1:
            raise pytest.UsageError(f"--cases {cases}: need >= 1")
        os.environ["SPARSIM_CASES"] = str(cases)
    seed = config.getoption("seed")
    if seed is not None:
        os.environ["SPARSIM_SEED"] = str(seed)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("slow") or config.option.markexpr:
        return
    kept = [item for item in items if item.get_closest_marker("slow") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
