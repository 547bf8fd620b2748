"""Z vs W vs W+ (paper section 5.1, table 1): the extended space reconstructs best."""
from __future__ import annotations

from .common import METRICS, Context, StudyResult, grouped_metrics, rows_figure

COLUMNS = ["space", "targets", *METRICS]


def run(ctx: Context) -> StudyResult:
    result = StudyResult("spaces", COLUMNS, note="Rows of the figure: targets, then Z, W, W+ reconstructions.")
    figure_rows = [ctx.images.cpu()]
    for space in ("z", "w", "w+"):
        r = ctx.embed(space=space)
        result.rows += [{"space": space, **m} for m in grouped_metrics(r.images, ctx.images, ctx)]
        figure_rows.append(r.images.clamp(-1, 1).cpu())
    result.figure = rows_figure(figure_rows)
    return result
