"""`wplus morph`: interpolate between two images or latent files."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..app import morph_files
from .options import add_edit_options, edit_sources, open_workspace
from .progress import ConsoleProgress


def add_parser(sub) -> None:
    p = sub.add_parser("morph", help="interpolate between two images or latent files")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--frames", type=int, default=30)
    p.add_argument("--video", action="store_true", help="MP4 instead of GIF")
    p.add_argument("--out", default="wplus-out/morph")
    add_edit_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = morph_files(open_workspace(args), args.a, args.b, Path(args.out), args.frames, args.video,
                         edit_sources(args), ConsoleProgress())
    print(f"morph of {result.frames} frames: {result.strip}, {result.animation}, {result.latents}")
    return 0
