"""Pivotal tuning on the embedded default model: the `pti` study on 8 held-out teacher faces
and the aligned bundled photo, plus the delta size at config-f 1024² and the tuning time at
config-f 256² (random weights: sizes and step times do not depend on the values).

    python scripts/pti_report.py [--teacher ../shared/weights/dcgan_faces/weights.tar] [--out docs/experiments]

Writes OUT/pti.csv, OUT/pti.md (the table, then the size and time section) and OUT/pti.png.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from wplus import load_generator
from wplus.app.inputs import aligned_faces, bundled_examples
from wplus.checkpoints import save_generator
from wplus.experiments import pti
from wplus.experiments.common import Context, write_study
from wplus.inversion import EmbedConfig, embed
from wplus.inversion.tuning import TUNE_PRESETS, tune, tuning_loss
from wplus.io.deltas import save_delta
from wplus.models.delta import GeneratorDelta
from wplus.models.stylegan2 import Generator, GeneratorConfig
from wplus.training.dcgan import NZ, load_dcgan_teacher
from wplus.training.report import sample

CONFIG_F = dict(channel_base=32768, channel_max=512, mapping_layers=8)


def targets(teacher_path: str, G) -> tuple[torch.Tensor, list[str], dict[str, list[int]]]:
    faces = sample(load_dcgan_teacher(teacher_path), NZ, 8, 6)  # the model card's held-out seed
    photo = aligned_faces(bundled_examples()["astronaut"], G.resolution, largest=True)[0].tensor
    names = [f"teacher{k}" for k in range(8)] + ["astronaut"]
    return torch.cat([faces, photo]), names, {"8 held-out teacher faces": list(range(8)), "photo (aligned)": [8]}


def delta_size(rank: int) -> list[str]:
    """Stored sizes at config-f 1024²: the full generator (fp32 and fp16) and a rank-`rank` delta."""
    G = Generator(GeneratorConfig(resolution=1024, **CONFIG_F))
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {"generator fp32": save_generator(G, Path(tmp) / "g32.safetensors").stat().st_size,
                 "generator fp16": save_generator(G, Path(tmp) / "g16.safetensors", dtype=torch.float16).stat().st_size,
                 f"rank-{rank} delta fp16": save_delta(GeneratorDelta.zeros(G, rank, fingerprint="0" * 16),
                                                       Path(tmp) / "d.safetensors").stat().st_size,
                 "full delta fp16": save_delta(GeneratorDelta.zeros(G, None, fingerprint="0" * 16),
                                               Path(tmp) / "f.safetensors").stat().st_size}
    mb = lambda b: f"{b / 2**20:.2f} MiB"
    lines = ["| config-f 1024² file | size | share of the fp32 generator |", "|---|---|---|"]
    lines += [f"| {k} | {mb(v)} | 1/{sizes['generator fp32'] / v:.0f} |" for k, v in sizes.items()]
    return lines


def step_times(resolution: int, repeats: int = 3) -> tuple[float, float]:
    """Seconds per pivot step (W+, batch 1) and per tuning step (with the locality term)."""
    G = Generator(GeneratorConfig(resolution=resolution, **CONFIG_F)).eval().requires_grad_(False)
    G.compute_w_avg(n=1000)
    target = torch.rand(1, 3, resolution, resolution) * 2 - 1
    cfg = TUNE_PRESETS["pti"]
    embed(G, target, EmbedConfig(steps=1, loss="mse+msssim"))  # warm-up
    start = time.perf_counter()
    embed(G, target, EmbedConfig(space=cfg.pivot, steps=repeats, loss="mse+msssim"))
    pivot = (time.perf_counter() - start) / repeats
    pivots = G.mapping(torch.randn(1, G.z_dim))
    tune(G, target, cfg, loss="mse+msssim", pivots=pivots, steps=1)
    start = time.perf_counter()
    tune(G, target, cfg, loss="mse+msssim", pivots=pivots, steps=repeats)
    return pivot, (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", default="../shared/weights/dcgan_faces/weights.tar")
    parser.add_argument("--out", default="docs/experiments")
    args = parser.parse_args()
    G = load_generator()
    images, names, groups = targets(args.teacher, G)
    loss = tuning_loss("auto")
    ctx = Context(G, images, names, EmbedConfig(steps=800), loss, None, None, Path(args.out), groups)  # PTI's 450 + 350
    paths = write_study(pti.run(ctx), Path(args.out))
    cfg = TUNE_PRESETS["pti"]
    pivot, tuning = step_times(256)
    per_image = cfg.pivot_steps * pivot + cfg.steps * tuning
    extra = ["", "### Delta size and time at config-f widths", "",
             f"Measured by `python scripts/pti_report.py` on random-weight config-f generators, this machine "
             f"({torch.get_num_threads()} threads), loss {loss.name}.", "", *delta_size(cfg.rank or 8), "",
             f"config-f 256², batch 1: {pivot:.2f} s per pivot step, {tuning:.2f} s per tuning step (locality "
             f"term included): about {per_image / 60:.1f} min per image for the `pti` preset "
             f"({cfg.pivot_steps} + {cfg.steps} steps)."]
    with open(paths[1], "a") as f:
        f.write("\n".join(extra) + "\n")
    print(paths[1].read_text())


if __name__ == "__main__":
    main()
