"""W+ against W+n on held-out teacher faces: the `noise` study on the embedded default model (or
on a copy whose noise strengths are all set to --strength: a modified generator, since the
shipped one learned to ignore its noise) with 8 held-out teacher faces and the aligned bundled
photo as targets (the study adds the fresh-noise model samples itself).

    python scripts/noise_report.py [--strength 0.1] [--steps 1000] [--out docs/experiments]
    python scripts/noise_report.py --strength 0.1 --save-generator /tmp/noisy.safetensors   # for the CLI

Writes OUT/noise-teacher.{md,csv,png} (OUT/noise-teacher-s0.1.* with --strength 0.1).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from wplus import load_generator
from wplus.app.inputs import aligned_faces, bundled_examples
from wplus.checkpoints import save_generator
from wplus.experiments import noise
from wplus.experiments.common import Context, write_study
from wplus.inversion import EmbedConfig
from wplus.losses import build_loss
from wplus.training.dcgan import NZ, load_dcgan_teacher
from wplus.training.report import sample


def targets(teacher_path: str, resolution: int) -> tuple[torch.Tensor, list[str], dict[str, list[int]]]:
    """8 held-out teacher faces (the model card's seed) and the aligned bundled photo."""
    faces = sample(load_dcgan_teacher(teacher_path), NZ, 8, 6)
    photo = aligned_faces(bundled_examples()["astronaut"], resolution, largest=True)[0].tensor
    names = [f"teacher{k}" for k in range(8)] + ["astronaut"]
    return torch.cat([faces, photo]), names, {"8 held-out teacher faces": list(range(8)), "photo (aligned)": [8]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", default="../shared/weights/dcgan_faces/weights.tar")
    parser.add_argument("--strength", type=float, help="set every layer's noise strength (a modified generator)")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--out", default="docs/experiments")
    parser.add_argument("--save-generator", help="only write the (modified) generator here and stop")
    args = parser.parse_args()
    G = load_generator()
    if args.strength is not None:
        for layer in G.synthesis.layers():
            layer.noise_strength.fill_(args.strength)
    if args.save_generator:
        print(save_generator(G, args.save_generator))
        return
    images, names, groups = targets(args.teacher, G.resolution)
    config = EmbedConfig(steps=args.steps)
    loss = build_loss(config.loss)
    ctx = Context(G, images, names, config, loss, None, None, Path(args.out), groups)
    result = noise.run(ctx)
    modified = f" (MODIFIED: every noise strength set to {args.strength})" if args.strength is not None else ""
    result.name = "noise-teacher" + (f"-s{args.strength:g}" if args.strength is not None else "")
    result.note = (f"Generator: the embedded default model{modified}; {args.steps} steps per method, "
                   f"loss {loss.name}. " + result.note)
    print(write_study(result, Path(args.out))[1].read_text())


if __name__ == "__main__":
    main()
