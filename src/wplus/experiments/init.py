"""Mean-latent vs random initialisation in W+ (paper section 5.2)."""
from __future__ import annotations

from .common import METRICS, Context, StudyResult, grouped_metrics, rows_figure

COLUMNS = ["init", "targets", *METRICS]


def run(ctx: Context) -> StudyResult:
    result = StudyResult("init", COLUMNS, note="Rows of the figure: targets, mean init, random init.")
    figure_rows = [ctx.images.cpu()]
    for init in ("mean", "random"):
        r = ctx.embed(init=init, space="w+")
        result.rows += [{"init": init, **m} for m in grouped_metrics(r.images, ctx.images, ctx)]
        figure_rows.append(r.images.clamp(-1, 1).cpu())
    result.figure = rows_figure(figure_rows)
    return result
