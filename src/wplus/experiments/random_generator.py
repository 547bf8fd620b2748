"""The same images into the trained generator and into a randomly initialised one of the same
architecture (paper section 6: the embedding relies on what the generator learned)."""
from __future__ import annotations

import torch

from ..models.base import GeneratorBase
from ..models.families import make_generator
from .common import METRICS, Context, StudyResult, grouped_metrics, rows_figure

COLUMNS = ["generator", "targets", *METRICS]


def random_like(G: GeneratorBase, seed: int = 0) -> GeneratorBase:
    """A randomly initialised generator of G's family and config."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        R = make_generator(G.config)
    R.compute_w_avg(n=2000, seed=seed)
    return R.to(G.w_avg.device).eval().requires_grad_(False)


def run(ctx: Context) -> StudyResult:
    result = StudyResult("random-generator", COLUMNS,
                         note="Rows of the figure: targets, given generator, random generator.")
    figure_rows = [ctx.images.cpu()]
    for name, G in (("given", ctx.G), ("random init", random_like(ctx.G))):
        r = ctx.embed(G=G, space="w+")
        result.rows += [{"generator": name, **m} for m in grouped_metrics(r.images, ctx.images, ctx)]
        figure_rows.append(r.images.clamp(-1, 1).cpu())
    result.figure = rows_figure(figure_rows)
    return result
