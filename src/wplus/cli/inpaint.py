"""`wplus inpaint`: fill the holes of a photo from the generator (Image2StyleGAN++)."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..app.inpaint import inpaint_file
from .options import add_embedding_options, add_model_options, embed_options, open_workspace
from .progress import ConsoleProgress


def add_parser(sub) -> None:
    p = sub.add_parser("inpaint", help="fill a photo's holes (black in --mask) from the generator")
    p.add_argument("photo", help="the photo (an aligned face for a face model)")
    p.add_argument("--mask", required=True, help="white = keep, black = hole to fill; any size")
    p.add_argument("--out", default="wplus-out/inpaint")
    add_model_options(p)
    add_embedding_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = inpaint_file(open_workspace(args), args.photo, args.mask, Path(args.out), embed_options(args),
                          ConsoleProgress())
    print(f"input with holes | render | inpainted: {result.figure} (render matches the kept pixels at "
          f"{result.psnr_kept:.2f} dB); {result.inpainted}, {result.latents}")
    return 0
