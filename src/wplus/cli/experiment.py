"""`wplus experiment`: reproduce the paper's studies on a generator."""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from ..app import STUDY_NAMES, run_experiments
from .options import add_embedding_options, add_model_options, embed_options, open_workspace
from .progress import ConsoleProgress


def add_parser(sub) -> None:
    p = sub.add_parser("experiment", help="reproduce the paper's studies on a generator")
    p.add_argument("name", choices=STUDY_NAMES)
    p.add_argument("--images", help="folder of target images (default: 3 generator samples + a photo)")
    p.add_argument("--out", default="wplus-out/experiments")
    add_model_options(p)
    add_embedding_options(p, ("preset", "steps", "loss"))
    p.set_defaults(func=run)


STUDY_STEPS = 300  # per embedding without --preset or --steps: the studies run many


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    options = embed_options(args)
    if args.steps is None and args.preset == "default":
        options = replace(options, steps=STUDY_STEPS)
    written = run_experiments(open_workspace(args), args.name, out, options, args.images, ConsoleProgress())
    for study in (n for n in STUDY_NAMES if n != "all"):
        mine = [p for p in written if p.stem == study]
        if mine:
            print(f"{study}: " + ", ".join(map(str, mine)))
    return 0
