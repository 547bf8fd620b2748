"""`wplus generate`: sample images (and their w) from the generator."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..app import generate, parse_seeds
from ..models.stylegan2 import NOISE_MODES
from .options import add_model_options, open_workspace


def add_parser(sub) -> None:
    p = sub.add_parser("generate", help="sample images (and their w) from the generator")
    add_model_options(p, vgg16=False)
    p.add_argument("--seeds", default="0-7", help="e.g. 0-7 or 1,4,9")
    p.add_argument("--truncation", type=float, default=1.0)
    p.add_argument("--noise-mode", choices=NOISE_MODES, default="const")
    p.add_argument("--out", default="wplus-out/generated")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    seeds = parse_seeds(args.seeds)
    out = Path(args.out)
    generate(open_workspace(args), seeds, out, args.truncation, args.noise_mode)
    print(f"generated {len(seeds)} image(s) and their w in {out}/")
    return 0
