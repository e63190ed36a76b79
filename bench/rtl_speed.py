"""RTL cycles simulated per second through cocotb, before and after issue 11, side by side.

    python bench/rtl_speed.py [--cases K] [--seed N]

Runs, interleaved in one process (the machine's load hits both alike):

  * the 8x8 WS array bench (hw/tb/tb_ws_array.py, the CI config) with wave
    tracing on (what every run did before) and off (the default now: a
    failing run is replayed with tracing);
  * the 8x8 accelerator top's bench (hw/tb/tb_accel_top.py on
    hw/arch/accel-8x8-2of4.yaml) as first written (tracing on, the model at
    -O0 with cocotb's --public-flat-rw) and as now (tracing off, only the
    top's ports and parameters visible through VPI), built as in CI (-O0)
    and with the C++ optimizer (RtlConfig.build_options(optimize=True)).

Prints cycles per second inside the cocotb tests (bench and models included)
and the after/before ratio. Builds are cached under sim_build/.
"""

from __future__ import annotations

import argparse

from hw.configs import configs
from hw.sim import build_rtl, run_cocotb


def rate(config, *, waves: bool, build_options: dict, seed: int, cases: int) -> float:
    build = build_rtl(config.block, **build_options)
    run = run_cocotb(
        build,
        config.bench,
        seed=seed,
        cases=cases,
        extra_env=config.env,
        waves=waves,
        run_name=f"rtl_speed-{waves}",
    )
    return run.cycles / run.test_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    ws = next(c for c in configs("ws_array") if c.params["Rows"] == 8)
    top = next(c for c in configs("accel_top") if c.arch == "accel-8x8-2of4")
    plain = {"parameters": ws.params}
    rows = [
        (
            "ws_array 8x8",
            ws,
            dict(waves=True, build_options=plain),
            dict(waves=False, build_options=plain),
        ),
        (
            "accel_top 8x8",
            top,
            dict(waves=True, build_options={"parameters": top.params}),
            dict(waves=False, build_options=top.build_options()),
        ),
        (
            "accel_top 8x8 -Os",
            top,
            dict(waves=True, build_options={"parameters": top.params}),
            dict(waves=False, build_options=top.build_options(optimize=True)),
        ),
    ]
    print(f"{'bench':<20}{'before c/s':>12}{'after c/s':>12}{'ratio':>8}")
    for name, config, before, after in rows:
        b = a = 0.0
        for _ in range(args.repeats):  # interleaved, best of
            b = max(b, rate(config, seed=args.seed, cases=args.cases, **before))
            a = max(a, rate(config, seed=args.seed, cases=args.cases, **after))
        print(f"{name:<20}{b:>12,.0f}{a:>12,.0f}{a / b:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
