"""Task: sample images from the generator by seed, with their w."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import WplusError
from ..io.images import image_grid, save_image
from ..io.latents import save_latents
from ..ranges import parse_int_ranges
from ..seeds import z_for_seeds
from .workspace import Workspace


@dataclass
class GenerateResult:
    images: list[Path]  # seedNNNN.png, one per seed
    grid: Path  # grid.png
    latents: Path  # seeds.npz: w of every seed, in seed order ('seeds' in its meta)


def parse_seeds(text: str) -> list[int]:
    """'0-7' or '1,4,9' or '0-3,10' -> list of ints."""
    try:
        return parse_int_ranges(text)
    except ValueError:
        raise WplusError(f"bad --seeds {text!r}; use e.g. 0-7 or 1,4,9") from None


def generate(ws: Workspace, seeds: list[int], out: Path, truncation: float = 1.0,
             noise_mode: str = "const") -> GenerateResult:
    """Render one image per seed (z from that seed alone, as NVIDIA's generate.py)."""
    if not seeds:
        raise WplusError("no seeds given; use e.g. 0-7 or 1,4,9")
    G = ws.G
    with torch.no_grad():
        w = G.mapping(z_for_seeds(seeds, G.z_dim, ws.device), truncation_psi=truncation)
        images = G.synthesis(w, noise_mode=noise_mode)
    out.mkdir(parents=True, exist_ok=True)
    paths = [save_image(img, out / f"seed{s:04d}.png") for s, img in zip(seeds, images)]
    grid = save_image(image_grid(images, columns=min(8, len(seeds))), out / "grid.png")
    latents = save_latents(out / "seeds.npz", w, {"generator": G.source, "generator_sha": ws.fingerprint,
                                                  "seeds": seeds, "truncation_psi": truncation})
    return GenerateResult(paths, grid, latents)
