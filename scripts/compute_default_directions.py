"""Compute the directions shipped for the embedded default model (reproducible: fixed seeds).

    python scripts/compute_default_directions.py [--samples 6000] [--out PATH]

(default --out: src/wplus/weights/default-directions.safetensors)

Writes GANSpace pc0-pc9 (PCA of 100 000 W samples, all layers), SeFa on the coarse (0-3) and
fine (6-8) conv layers (sefa_coarse0-4, sefa_fine0-4), and InterFaceGAN boundaries of the
measured attributes (yaw, pitch, smile, face_scale, brightness, lighting) with their
conditional versions (NAME_only), fitted on `--samples` samples (seed 0).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from wplus import load_generator
from wplus.app.semantic import default_directions_path
from wplus.editing.direction_files import merge, save_directions
from wplus.editing.ganspace import ganspace
from wplus.editing.labelled import attribute_directions
from wplus.editing.sefa import sefa


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=6000, help="samples for the attribute boundaries")
    parser.add_argument("--out", default=str(default_directions_path()))
    args = parser.parse_args()
    G = load_generator()
    start = time.time()
    parts = [ganspace(G, components=10, n=100_000, seed=0),
             sefa(G, [0, 1, 2, 3], components=5, prefix="sefa_coarse"),
             sefa(G, [6, 7, 8], components=5, prefix="sefa_fine")]
    print(f"ganspace + sefa: {time.time() - start:.1f} s", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        if done % 512 == 0 or done == total:
            print(f"attributes: {done}/{total} samples, {time.time() - start:.0f} s", file=sys.stderr)

    parts.append(attribute_directions(G, args.samples, seed=0, progress=progress))
    dirs = merge(*parts)
    dirs.meta = {"parts": [p.meta for p in parts]}
    save_directions(Path(args.out), dirs)
    print(f"{len(dirs.directions)} directions -> {args.out} ({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
