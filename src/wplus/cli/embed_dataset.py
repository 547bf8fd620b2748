"""`wplus embed-dataset`: a manifest of images, resumable; scale out with torchrun."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..app import TuneOptions, embed_dataset
from ..inversion.tuning import TUNE_PRESETS
from .options import EDIT_EMBEDDING, add_embedding_options, add_model_options, embed_options, model_options
from .progress import ConsoleProgress


def add_parser(sub) -> None:
    p = sub.add_parser("embed-dataset", help="embed a manifest of images, resumable; scale out with torchrun")
    p.add_argument("manifest", help="text file of image paths (one per line) or a folder")
    p.add_argument("--out", required=True, help="run folder (re-run the same command to resume)")
    p.add_argument("--batch-size", type=int, default=8)
    add_model_options(p)
    add_embedding_options(p, EDIT_EMBEDDING)
    p.add_argument("--tune", choices=sorted(TUNE_PRESETS),
                   help="pivot-tune every image with this preset: deltas in OUT/deltas/, pivots as the latents")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    progress = ConsoleProgress()
    try:
        tuning = TuneOptions(args.tune) if args.tune else None
        result = embed_dataset(model_options(args), embed_options(args), args.manifest, out, args.batch_size, progress,
                               tuning)
    finally:
        progress.close()
    if result.rank.rank != 0:
        return 0
    print(f"{result.embedded_total} of {result.items} images embedded ({result.embedded_now} now, "
          f"{result.failed_now} failed now); index: {out / 'index.csv'}, codes: {out / 'latents.npz'}")
    return 0 if result.missing == 0 else 1
