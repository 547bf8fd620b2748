"""Robustness to affine transforms of the input (paper section 5.4): translate, rotate, scale
the target, embed it, and measure how well it is reconstructed."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .common import METRICS, Context, StudyResult, grouped_metrics, rows_figure

COLUMNS = ["transform", "amount", "targets", *METRICS]
TRANSFORMS = {"translate (fraction of width)": [0.0, 0.05, 0.1, 0.2],
              "rotate (degrees)": [5.0, 15.0, 30.0],
              "scale": [0.8, 1.25]}


def transform(images: torch.Tensor, kind: str, amount: float) -> torch.Tensor:
    """Affine warp with border replication (no black corners)."""
    n = len(images)
    theta = torch.zeros(n, 2, 3, device=images.device)
    if kind.startswith("translate"):
        theta[:, 0, 0] = theta[:, 1, 1] = 1
        theta[:, 0, 2] = -2 * amount
    elif kind.startswith("rotate"):
        a = math.radians(amount)
        cos, sin = math.cos(a), math.sin(a)
        theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 0], theta[:, 1, 1] = cos, -sin, sin, cos
    else:
        theta[:, 0, 0] = theta[:, 1, 1] = 1 / amount
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, padding_mode="border", align_corners=False)


def run(ctx: Context) -> StudyResult:
    result = StudyResult("affine", COLUMNS, note="Figure: per transform, the transformed first target "
                         "(top) and its reconstruction (bottom).")
    tops, bottoms = [], []
    for kind, amounts in TRANSFORMS.items():
        for amount in amounts:
            targets = transform(ctx.images, kind, amount)
            r = ctx.embed(images=targets, space="w+")
            result.rows += [{"transform": kind, "amount": amount, **m} for m in grouped_metrics(r.images, targets, ctx)]
            tops.append(targets[:1].cpu())
            bottoms.append(r.images[:1].clamp(-1, 1).cpu())
    result.figure = rows_figure([torch.cat(tops), torch.cat(bottoms)])
    return result
