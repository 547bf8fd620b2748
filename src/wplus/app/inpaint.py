"""Task: inpainting (Image2StyleGAN++): embed a photo with its holes ignored, then fill the
holes from the generator's render.

Outputs per input NAME in `out`: NAME.npz (the code), NAME_recon.png (the render),
NAME_inpainted.png (the photo where the mask keeps it, the render in the holes) and
NAME_inpaint.png (input with holes greyed | render | inpainted). In space w+n the noise maps
are optimised too and saved in NAME.npz.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..inversion import embed
from ..inversion.noise import named_noise
from ..io.images import image_grid, load_image, save_image
from ..io.latents import save_latents
from ..io.masks import load_mask
from .events import EventSink, ignore
from .workspace import EmbedOptions, Workspace


@dataclass
class InpaintResult:
    latents: Path
    recon: Path
    inpainted: Path
    figure: Path
    psnr_kept: float  # PSNR of the render where the mask keeps the photo, dB


def inpaint_file(ws: Workspace, photo: str | Path, mask: str | Path, out: Path,
                 options: EmbedOptions = EmbedOptions(), emit: EventSink = ignore) -> InpaintResult:
    """Fill the black parts of `mask` in `photo` (both resized to the generator's side)."""
    config, loss = ws.embedding(options, emit)
    image = load_image(photo, ws.G.resolution)
    weights = load_mask(mask, ws.G.resolution)
    target = image.tensor.to(ws.device)
    result = embed(ws.G, target, config, loss=loss, masks=weights)
    render = result.images.clamp(-1, 1)
    keep = weights.to(render)
    filled = keep * target + (1 - keep) * render
    holes_shown = keep * target + (1 - keep) * -0.5  # holes in dark grey
    out.mkdir(parents=True, exist_ok=True)
    name = image.name
    kept = ((render - target).square() * keep).sum() / (keep.sum() * 3)
    return InpaintResult(
        save_latents(out / f"{name}.npz", result.latents, {**ws.run_meta(config, loss), "source": str(photo),
                                                              "mask": str(mask), "steps_run": result.steps},
                     **(named_noise(ws.G, result.noise) if result.noise is not None else {})),
        save_image(render[0], out / f"{name}_recon.png"),
        save_image(filled[0], out / f"{name}_inpainted.png"),
        save_image(image_grid(torch.cat([holes_shown, render, filled])), out / f"{name}_inpaint.png"),
        float(10 * torch.log10(4 / kept.clamp_min(1e-12))))
