"""`wplus tune`: pivotal tuning; each photo gets a pivot latent and a small generator delta."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..app import TuneJob, TuneOptions, tune_files
from ..inversion.tuning import TUNE_PRESETS
from .options import add_model_options, open_workspace
from .progress import ConsoleProgress


def add_parser(sub) -> None:
    p = sub.add_parser("tune", help="pivotal tuning (PTI): near-exact reconstructions stored as small deltas")
    p.add_argument("inputs", nargs="+", help="image files and/or folders")
    add_model_options(p)
    p.add_argument("--preset", choices=sorted(TUNE_PRESETS), default="pti",
                   help="pti = the paper's 450 pivot + 350 tuning steps; fast = 150 + 150, locality every 4th step")
    p.add_argument("--pivot", choices=("w", "w+"), help="latent space of the pivot (default w, as PTI)")
    p.add_argument("--pivot-steps", type=int, help="steps of the pivot embedding")
    p.add_argument("--steps", type=int, help="tuning steps")
    p.add_argument("--lr", type=float, help="learning rate of the weight updates")
    p.add_argument("--rank", type=int, help="rank of the low-rank weight updates (default 16)")
    p.add_argument("--full", action="store_true", help="full fine-tuning instead of low-rank updates (big deltas)")
    p.add_argument("--locality", type=float, dest="locality_weight",
                   help="weight of PTI's locality regulariser (default 0.1; 0 = off)")
    p.add_argument("--loss", choices=("auto", "mse", "mse+msssim", "i2s"), help="reconstruction loss")
    p.add_argument("--batch-size", type=int, default=8, help="images whose pivots are embedded together")
    p.add_argument("--align", action="store_true", help="detect and FFHQ-align faces first (MTCNN)")
    p.add_argument("--largest", action="store_true", help="with --align: only the largest face per photo")
    p.add_argument("--out", default="wplus-tuned", help="output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    options = TuneOptions(args.preset, args.pivot, args.pivot_steps, args.steps, args.lr, args.rank, args.full,
                          args.locality_weight, args.loss)
    job = TuneJob(args.inputs, Path(args.out), options, args.batch_size, args.align, args.largest)
    ws = open_workspace(args)
    progress = ConsoleProgress()
    try:
        result = tune_files(ws, job, progress)
    finally:
        progress.close()
    for image in result.images:
        kib = image.delta.stat().st_size / 1024
        print(f"{image.name}: PSNR {image.pivot_psnr:.2f} dB (pivot) -> {image.psnr:.2f} dB (tuned); "
              f"delta {image.delta.name} ({kib:.0f} KiB)")
    if result.interrupted:
        print(f"interrupted: the {len(result.images)} image(s) tuned so far are saved in {job.out}/", file=sys.stderr)
        return 130
    print(f"tuned {len(result.images)} image(s); results in {job.out}/ (use a delta with --delta FILE)"
          + (f"; skipped {result.skipped} input(s)" if result.skipped else ""))
    return 1 if result.skipped else 0
