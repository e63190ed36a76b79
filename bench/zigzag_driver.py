"""Runs inside ZigZag's own venv (../shared/peers/zigzag.sh bench/zigzag_driver.py ...):
ResNet-50 with ZigZag's per-layer temporal-mapping search (LOMA) on its bundled
tpu_like hardware; prints one JSON line: wall seconds, layers, latency, energy."""

import json
import logging
import os
import sys
import time

t0 = time.perf_counter()
logging.basicConfig(level=logging.WARNING)
from zigzag import api  # noqa: E402

workload, out = sys.argv[1], sys.argv[2]
inputs = os.path.join(os.path.dirname(api.__file__), "inputs")
energy, latency, cmes = api.get_hardware_performance_zigzag(
    workload=workload,
    accelerator=os.path.join(inputs, "hardware", "tpu_like.yaml"),
    mapping=os.path.join(inputs, "mapping", "tpu_like.yaml"),
    opt="latency",
    dump_folder=out,
    loma_show_progress_bar=False,
)
print(
    json.dumps(
        {
            "wall_s": time.perf_counter() - t0,
            "cpu_s": time.process_time(),
            "layers": len(cmes[0][1]),
            "latency_cycles": float(latency),
            "energy_pj": float(energy),
        }
    )
)
