"""`wplus embed`: embed image files into the generator's latent space."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..app import EmbedJob, embed_files
from .options import add_embedding_options, add_model_options, embed_options, open_workspace
from .progress import ConsoleProgress


def add_parser(sub) -> None:
    p = sub.add_parser("embed", help="embed images into the generator's latent space")
    p.add_argument("inputs", nargs="+", help="image files and/or folders")
    add_model_options(p)
    add_embedding_options(p)
    p.add_argument("--batch-size", type=int, default=8, help="images optimised together")
    p.add_argument("--out", default="wplus-out", help="output folder")
    p.add_argument("--video", action="store_true", help="also write an MP4 of the optimisation")
    p.add_argument("--align", action="store_true", help="detect and FFHQ-align faces first (MTCNN)")
    p.add_argument("--largest", action="store_true", help="with --align: only the largest face per photo")
    p.add_argument("--paste-back", action="store_true", help="with --align: paste reconstructions into the photo")
    p.add_argument("--mask", help="image: white = pixels to match, black = ignore (any size; resized like the inputs)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    job = EmbedJob(args.inputs, Path(args.out), embed_options(args), args.batch_size, args.align, args.largest,
                   args.paste_back, args.video, Path(args.mask) if args.mask else None)
    ws = open_workspace(args)
    progress = ConsoleProgress()
    try:
        result = embed_files(ws, job, progress)
    finally:
        progress.close()
    if result.interrupted or result.error:
        steps, batch = result.stopped_at
        what = "interrupted" if result.interrupted else f"error: {result.error}; stopped"
        print(f"{what} at step {steps} of batch {batch}: its best-so-far results "
              f"and those of earlier batches are saved in {job.out}/", file=sys.stderr)
        return 130 if result.interrupted else 2
    print(f"embedded {len(result.images)} image(s) into {result.space.upper()} with {result.loss_name} loss, "
          f"mean PSNR {result.mean_psnr:.2f} dB; results in {job.out}/"
          + (f"; skipped {result.skipped} input(s)" if result.skipped else ""))
    return 1 if result.skipped else 0
