"""Inpainting (Image2StyleGAN++ section 5): embed with a centred hole ignored, then compare
the render with the truth inside the hole, against a blurred fill, and outside it, against an
embedding that saw the whole image."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..losses import masked_mse
from .common import Context, StudyResult, rows_figure

HOLE_FRACTIONS = (0.10, 0.25, 0.40)
COLUMNS = ["hole", "targets", "psnr_outside_masked", "psnr_outside_unmasked", "psnr_inside_inpainted",
           "psnr_inside_blur_fill"]


def centred_hole(side: int, fraction: float) -> torch.Tensor:
    """Mask [1, 1, side, side]: 1 everywhere but a centred square covering `fraction` of it,
    lowered by a sixth of the side (over the eyes, nose and mouth of an aligned face)."""
    hole = max(1, round(side * fraction ** 0.5))
    top, left = min(side - hole, (side - hole) // 2 + side // 6), (side - hole) // 2
    mask = torch.ones(1, 1, side, side)
    mask[..., top:top + hole, left:left + hole] = 0
    return mask


def blur_fill(images: torch.Tensor, mask: torch.Tensor, sigma: float) -> torch.Tensor:
    """The naive fill: normalised Gaussian blur of the kept pixels, used inside the hole."""
    radius = int(3 * sigma)
    x = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    k1 = torch.exp(-x ** 2 / (2 * sigma ** 2))
    kernel = (k1[:, None] * k1[None, :])[None, None]
    blur = lambda t: F.conv2d(F.pad(t, [radius] * 4, mode="replicate"), kernel.expand(t.shape[1], 1, -1, -1),
                              groups=t.shape[1])
    filled = blur(images * mask) / blur(mask.expand(len(images), -1, -1, -1)).clamp_min(1e-6)
    return mask * images + (1 - mask) * filled


def region_psnr(x: torch.Tensor, y: torch.Tensor, weights: torch.Tensor) -> float:
    """Mean over images of the PSNR (data range 2) where `weights` is 1."""
    return float((10 * torch.log10(4 / masked_mse(x.clamp(-1, 1), y, weights).clamp_min(1e-12))).mean())


def run(ctx: Context) -> StudyResult:
    result = StudyResult("inpaint", COLUMNS, note=(
        "Figure (25 % hole): inputs with the hole, inpainted (render inside the hole), truth, blurred fill. "
        "PSNR outside: the render against the truth where the mask keeps it, for the masked embedding and "
        "for a W+ embedding of the whole image; inside: the inpainted and the blur-filled hole against the truth."))
    side = ctx.images.shape[-1]
    whole = ctx.embed(space="w+").images.clamp(-1, 1)
    groups = ctx.groups or {"all": list(range(len(ctx.images)))}
    for fraction in HOLE_FRACTIONS:
        mask = centred_hole(side, fraction).to(ctx.images)
        render = ctx.embed(space="w+", masks=mask).images.clamp(-1, 1)
        inpainted = mask * ctx.images + (1 - mask) * render
        blurred = blur_fill(ctx.images, mask, sigma=side * fraction ** 0.5 / 4)
        for name, idx in groups.items():
            truth, keep = ctx.images[idx], mask.expand(len(idx), -1, -1, -1)
            hole = 1 - keep
            result.rows.append({"hole": f"{round(100 * fraction)} %", "targets": name,
                                "psnr_outside_masked": region_psnr(render[idx], truth, keep),
                                "psnr_outside_unmasked": region_psnr(whole[idx], truth, keep),
                                "psnr_inside_inpainted": region_psnr(inpainted[idx], truth, hole),
                                "psnr_inside_blur_fill": region_psnr(blurred[idx], truth, hole)})
        if fraction == 0.25:
            shown = mask * ctx.images + (1 - mask) * -0.5
            result.figure = rows_figure([shown.cpu(), inpainted.cpu(), ctx.images.cpu(), blurred.cpu()])
    return result
