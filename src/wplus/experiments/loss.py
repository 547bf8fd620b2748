"""Loss ablation (paper section 5.3): pixel MSE only, perceptual only, both.

Without VGG16 weights the paper's perceptual term cannot be computed; the study then ablates
the fallback loss's terms instead (MSE only, MS-SSIM only, both) and says so in its note.
"""
from __future__ import annotations

from dataclasses import replace

from ..losses import EmbeddingLoss
from .common import METRICS, Context, StudyResult, grouped_metrics, rows_figure

COLUMNS = ["loss", "targets", *METRICS]


def variants(ctx: Context) -> tuple[dict[str, EmbeddingLoss], str]:
    """name -> loss, and a note on which losses were compared."""
    if ctx.perceptual_loss is not None:
        base = ctx.perceptual_loss
        return {"mse only": replace(base, name="mse", perceptual_weight=0.0),
                "perceptual only": replace(base, name="perceptual", mse_weight=0.0),
                "mse + perceptual": base}, "The paper's VGG16 loss (conv1_1, conv1_2, conv3_2, conv4_2)."
    return {"mse only": EmbeddingLoss("mse"),
            "ms-ssim only": EmbeddingLoss("msssim", mse_weight=0.0, msssim_weight=1.0),
            "mse + ms-ssim": EmbeddingLoss("mse+msssim", msssim_weight=1.0)}, \
        "VGG16 weights not found, so the fallback loss's terms are ablated (pass --vgg16 for the paper's)."


def run(ctx: Context) -> StudyResult:
    losses, which = variants(ctx)
    result = StudyResult("loss", COLUMNS, note=f"{which} Rows of the figure: targets, then one row per loss.")
    figure_rows = [ctx.images.cpu()]
    for name, loss in losses.items():
        r = ctx.embed(loss=loss, space="w+")
        result.rows += [{"loss": name, **m} for m in grouped_metrics(r.images, ctx.images, ctx)]
        figure_rows.append(r.images.clamp(-1, 1).cpu())
    result.figure = rows_figure(figure_rows)
    return result
