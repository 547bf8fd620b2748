"""`wplus directions compute | list`: semantic directions for a generator."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..app import METHODS, compute_directions
from ..editing.direction_files import load_directions
from .options import add_model_options, open_workspace


def add_parser(sub) -> None:
    p = sub.add_parser("directions", help="compute or list semantic directions (GANSpace, SeFa, attributes)")
    verbs = p.add_subparsers(dest="verb", required=True)
    c = verbs.add_parser("compute", help="compute directions for a generator")
    c.add_argument("method", choices=METHODS, help="ganspace = PCA of W; sefa = style-affine eigenvectors; "
                   "attributes = InterFaceGAN boundaries of measured face attributes")
    c.add_argument("--out", required=True, help="output .safetensors")
    c.add_argument("--components", type=int, default=10, help="how many (ganspace, sefa)")
    c.add_argument("--layers", help="default layers of the edits (sefa: the layers factorised), e.g. 0-3")
    c.add_argument("--samples", type=int, help="W samples (ganspace 100000, sefa 10000, attributes 4000)")
    c.add_argument("--seed", type=int, default=0)
    add_model_options(c, vgg16=False)
    c.set_defaults(func=run_compute)
    ls = verbs.add_parser("list", help="list the directions in a file")
    ls.add_argument("file")
    ls.set_defaults(func=run_list)


def run_compute(args: argparse.Namespace) -> int:
    dirs = compute_directions(open_workspace(args), args.method, Path(args.out), args.components, args.layers,
                              args.samples, args.seed)
    print(f"{len(dirs.directions)} {args.method} direction(s) -> {args.out}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    dirs = load_directions(args.file)
    print(f"{args.file}: {len(dirs.directions)} direction(s), w_dim {dirs.w_dim}, "
          f"generator {dirs.fingerprint or 'unknown'}")
    for name, d in dirs.directions.items():
        layers = "all" if d.layers is None else _ranges(d.layers)
        low, high = d.strength_range
        print(f"  {name:<16} layers {layers:<8} strength {low:g}..{high:g} (1 = {d.scale:.3g} in W)  "
              f"{d.source}{'; ' + d.note if d.note else ''}")
    return 0


def _ranges(layers: list[int]) -> str:
    """[0, 1, 2, 5] -> '0-2,5'."""
    parts, start = [], None
    for i, layer in enumerate(layers):
        start = layer if start is None else start
        if i + 1 == len(layers) or layers[i + 1] != layer + 1:
            parts.append(f"{start}-{layer}" if layer != start else str(layer))
            start = None
    return ",".join(parts)
