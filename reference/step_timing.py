"""The timing loop the PyTorch reference scripts' bench modes share: untimed warm-up steps,
then `repeats` timed runs of `steps` steps; prints one JSON line with the median seconds per
step (and per epoch of 60,000 images in batches of `batch`, 128 unless given), which `vae bench
pytorch` reads."""
import json, math, statistics, time

import torch


def report_step_seconds(step, warmup, repeats, steps, **fields):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - started) / steps)
    seconds = statistics.median(times)
    batch = fields.pop("batch", 128)
    print(json.dumps({"framework": fields.pop("framework", f"pytorch {torch.__version__}"), "threads": torch.get_num_threads(), **fields,
                      "step_seconds": seconds, "epoch_seconds": seconds * math.ceil(60000 / batch),
                      "images_per_second": batch / seconds}), flush=True)
