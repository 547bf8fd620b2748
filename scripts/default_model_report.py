#!/usr/bin/env python
"""Measure the default model against its teacher and write the model card's figures.

    python scripts/default_model_report.py --checkpoint runs/default-model/checkpoint.pt \
        [--teacher ../shared/weights/dcgan_faces/weights.tar] [--steps 1000] [--out docs]

Writes OUT/img/default-samples.png (64 model samples | 64 teacher samples),
OUT/img/default-embeddability.png (rows: 8 held-out teacher samples, their Z, W and W+
reconstructions) and OUT/img/default-mixing.png (rows: content, style, coarse layers 0-3 from
the style, the last four layers from the style), and prints a Markdown table of detection
rate, Fréchet distance (O-Net features), style mixing and embeddability.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from wplus.io.images import image_grid, save_image
from wplus.io.mtcnn import MTCNN
from wplus.training.dcgan import NZ, load_dcgan_teacher
from wplus.training.export import load_g_ema
from wplus.training.report import detection_rate, embeddability, frechet_distance, onet_features, sample, style_mixing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--teacher", default="../shared/weights/dcgan_faces/weights.tar")
    parser.add_argument("--detect", type=int, default=1000, help="samples for the detection rate")
    parser.add_argument("--fd", type=int, default=2000, help="samples per set for the Fréchet distance")
    parser.add_argument("--embed", type=int, default=32, help="held-out teacher samples to embed")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--out", default="docs")
    args = parser.parse_args()
    G, state = load_g_ema(args.checkpoint)
    teacher = load_dcgan_teacher(args.teacher)
    model_fn = lambda z: G(z, noise_mode="const")
    det = MTCNN()
    grid = torch.cat([image_grid(sample(model_fn, NZ, 64, 1), 8), image_grid(sample(teacher, NZ, 64, 1), 8)], dim=2)
    img_dir = Path(args.out) / "img"
    img_dir.mkdir(parents=True, exist_ok=True)
    save_image(grid, img_dir / "default-samples.png")
    rate_model = detection_rate(sample(model_fn, NZ, args.detect, 2), det)
    rate_teacher = detection_rate(sample(teacher, NZ, args.detect, 2), det)
    f_model = onet_features(sample(model_fn, NZ, args.fd, 3), det)
    f_teacher = onet_features(sample(teacher, NZ, args.fd, 4), det)
    f_teacher2 = onet_features(sample(teacher, NZ, args.fd, 5), det)
    pairs = 64
    mixing, rows = style_mixing(G, pairs, 7)
    save_image(image_grid(torch.cat([r[:8] for r in rows.split(pairs)]), columns=8), img_dir / "default-mixing.png")
    held_out = sample(teacher, NZ, args.embed, 6)
    emb = embeddability(G, held_out, args.steps)
    print(f"step {state['step']}\n")
    print("| figure | model | teacher |\n|---|---|---|")
    print(f"| MTCNN face detected (p >= 0.9), {args.detect} samples | {rate_model:.1%} | {rate_teacher:.1%} |")
    print(f"| Fréchet distance to teacher, O-Net features, {args.fd} vs {args.fd} | "
          f"{frechet_distance(f_model, f_teacher):.2f} | {frechet_distance(f_teacher2, f_teacher):.2f} (floor) |")
    figure = torch.cat([held_out[:8]] + [images[:8] for _, _, images in emb.values()])
    save_image(image_grid(figure, columns=min(8, args.embed)), img_dir / "default-embeddability.png")
    for name, layers in (("coarse", "0-3"), ("fine", f"{G.num_ws - 4}-{G.num_ws - 1}")):
        rms, shift = mixing[name]
        print(f"| style mixing, {name} layers {layers} from another sample ({pairs} pairs): RMS change / "
              f"uniform colour-shift share of it | {rms:.3f} / {shift:.2f} | - |")
    for space, (p, s, _) in emb.items():
        print(f"| embed {args.embed} teacher samples in {space.upper()}, {args.steps} steps: PSNR / MS-SSIM | "
              f"{p:.2f} dB / {s:.3f} | - |")


if __name__ == "__main__":
    main()
