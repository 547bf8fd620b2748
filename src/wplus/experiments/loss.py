"""Loss ablation (paper section 5.3): pixel MSE only, perceptual only, both."""
from __future__ import annotations

from dataclasses import replace

from .common import Context, StudyResult, metrics, rows_figure

COLUMNS = ["loss", "mse", "psnr", "ms_ssim", "perceptual"]


def run(ctx: Context) -> StudyResult:
    if ctx.perceptual_loss is None:
        return StudyResult("loss", COLUMNS, note="Skipped: VGG16 weights not found (pass --vgg16).")
    base = ctx.perceptual_loss
    variants = {"mse only": replace(base, name="mse", perceptual_weight=0.0),
                "perceptual only": replace(base, name="perceptual", mse_weight=0.0),
                "mse + perceptual": base}
    result = StudyResult("loss", COLUMNS, note="Rows of the figure: targets, then one row per loss.")
    figure_rows = [ctx.images.cpu()]
    for name, loss in variants.items():
        r = ctx.embed(loss=loss, space="w+")
        result.rows.append({"loss": name, **metrics(r.images, ctx.images, ctx)})
        figure_rows.append(r.images.clamp(-1, 1).cpu())
    result.figure = rows_figure(figure_rows)
    return result
