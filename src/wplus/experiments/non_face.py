"""Non-face images into a face generator (paper section 5.5), and a morph between two of them."""
from __future__ import annotations

import torch

from ..editing import interpolate
from .common import METRICS, NON_FACE_SAMPLES, Context, StudyResult, bundled_images, metrics, rows_figure

COLUMNS = ["image", *METRICS]


def run(ctx: Context) -> StudyResult:
    images, names = bundled_images(NON_FACE_SAMPLES, ctx.G.resolution)
    images = images.to(ctx.G.w_avg.device)
    r = ctx.embed(images=images, space="w+")
    result = StudyResult("non-face", COLUMNS, note="Figure: targets, reconstructions, and a W+ morph "
                         "between the first two embeddings.")
    for i, name in enumerate(names):
        result.rows.append({"image": name, **metrics(r.images[i:i + 1], images[i:i + 1], ctx)})
    row3 = torch.zeros(0)
    if len(images) >= 2:
        ws = interpolate(r.latents[0], r.latents[1], torch.linspace(0, 1, len(images)))
        with torch.no_grad():
            row3 = ctx.G.synthesis(ws).clamp(-1, 1).cpu()
    rows = [images.cpu(), r.images.clamp(-1, 1).cpu()] + ([row3] if len(row3) else [])
    result.figure = rows_figure(rows)
    return result
