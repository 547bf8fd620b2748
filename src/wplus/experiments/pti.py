"""Pivotal tuning against W+ at the same step budget, and whether edits survive tuning.

Methods on the same targets: W+ optimisation with PTI's total step budget; PTI (W pivot,
low-rank delta) with and without its locality regulariser; PTI with full fine-tuning. For
each: reconstruction, seconds per image, stored delta size, how much the rest of the latent
space moved (PSNR between base and tuned renders of 16 random codes: higher = kept), and
whether style mixing still does what it does in the base generator: the cosine between the
change an edit makes in the tuned render and in the base render of the same code (1 = same).
"""
from __future__ import annotations

import time
from dataclasses import replace

import torch
import torch.nn.functional as F

from ..inversion.tuning import TUNE_PRESETS, TuneConfig, tune
from ..losses import psnr
from ..seeds import z_block
from .common import Context, StudyResult, metrics, rows_figure

COLUMNS = ["method", "targets", "steps", "psnr", "ms_ssim", "lpips", "seconds_per_image", "delta_kib",
           "others_kept_psnr", "edit_agreement"]
COARSE, FINE = slice(0, 4), slice(-4, None)
PTI_STEPS = TUNE_PRESETS["pti"].pivot_steps + TUNE_PRESETS["pti"].steps  # 800


def _render(G, ws: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return G.synthesis(ws, noise_mode="const").clamp(-1, 1)


def _mixed(codes: torch.Tensor, donors: torch.Tensor, layers: slice) -> torch.Tensor:
    out = codes.clone()
    out[:, layers] = donors[:, layers]
    return out


def _edit_agreement(G, tuned: list, pivots: torch.Tensor, donors: torch.Tensor) -> list[float]:
    """Per image: mean over the coarse and fine mixes of cos(tuned edit change, base edit change)."""
    scores = []
    for i, Gi in enumerate(tuned):
        cos = []
        for layers in (COARSE, FINE):
            code, edited = pivots[i:i + 1], _mixed(pivots[i:i + 1], donors[i:i + 1], layers)
            base = (_render(G, edited) - _render(G, code)).flatten()
            mine = (_render(Gi, edited) - _render(Gi, code)).flatten()
            cos.append(F.cosine_similarity(base, mine, dim=0).item())
        scores.append(sum(cos) / len(cos))
    return scores


def _others_kept(G, tuned: list, probes: torch.Tensor) -> list[float]:
    base = _render(G, probes)
    return [psnr(_render(Gi, probes), base).mean().item() for Gi in tuned]


NOTE = ("PTI preset: W pivot {pivot_steps} steps at lr {pivot_lr}, then {steps} tuning steps at lr {lr}, rank "
        "{rank}, locality weight {locality_weight} (PTI's 450 + 350 scaled to the run's --steps); W+ gets the same "
        "total steps; the `fast` preset's steps are scaled likewise. seconds_per_image includes the pivot "
        "embedding (its share of the batched run). "
        "others_kept_psnr: base vs tuned renders of 16 random codes. edit_agreement: cosine between the change that "
        "mixing coarse (0-3) or fine (last 4) layers from a model sample makes in the tuned and in the base "
        "generator. Figure: target | W+ | W+ coarse mix | W+ fine mix | PTI | PTI coarse mix | PTI fine mix.")
Run = tuple  # (images, seconds per image, delta KiB or None, per-image generators, total steps)


def scaled(config: TuneConfig, budget: int, base: int) -> TuneConfig:
    """`config` with its pivot and tuning steps scaled by budget / base (at least 1 each)."""
    return replace(config, pivot_steps=max(1, round(config.pivot_steps * budget / base)),
                   steps=max(1, round(config.steps * budget / base)))


def _runs(ctx: Context, config: TuneConfig) -> tuple[dict[str, Run], torch.Tensor, torch.Tensor]:
    """Every method's renders, time and tuned generators; the shared pivots; W+ codes."""
    n, budget = len(ctx.images), config.pivot_steps + config.steps
    start = time.perf_counter()
    whole = ctx.embed(space="w+", steps=budget)
    seconds = (time.perf_counter() - start) / n
    runs = {f"W+ optimisation ({ctx.config.optimiser})": (whole.images, seconds, None, [ctx.G] * n, budget)}
    start = time.perf_counter()
    pivots = tune(ctx.G, ctx.images, replace(config, steps=0), loss=ctx.loss).pivots
    pivot_seconds = (time.perf_counter() - start) / n
    variants = {f"PTI rank {config.rank}": (config, pivots),
                f"PTI rank {config.rank}, no locality": (replace(config, locality_weight=0.0), pivots),
                "PTI full fine-tuning": (replace(config, rank=None), pivots),
                "PTI fast preset": (scaled(TUNE_PRESETS["fast"], budget, PTI_STEPS), None)}  # its own pivot
    for name, (cfg, given) in variants.items():
        start = time.perf_counter()
        tuned_run = tune(ctx.G, ctx.images, cfg, loss=ctx.loss, pivots=given)
        seconds = (time.perf_counter() - start) / n + (pivot_seconds if given is not None else 0.0)
        tuned = [d.apply(ctx.G, fingerprint=d.base_fingerprint) for d in tuned_run.deltas]
        kib = 2 * tuned_run.deltas[0].num_values() / 1024  # float16
        runs[name] = (tuned_run.images, seconds, kib, tuned, cfg.pivot_steps + cfg.steps)
    return runs, pivots, whole.latents


def run(ctx: Context, config: TuneConfig = TUNE_PRESETS["pti"]) -> StudyResult:
    """The PTI preset's schedule scaled to `ctx.config.steps` in all (its own 800 with `--steps 800`)."""
    config = scaled(config, ctx.config.steps, PTI_STEPS)
    result = StudyResult("pti", COLUMNS, note=NOTE.format(**config.to_dict()))
    n = len(ctx.images)
    runs, pivots, wplus_codes = _runs(ctx, config)
    donors = ctx.G.mapping(z_block(n, ctx.G.z_dim, 4242))
    probes = ctx.G.mapping(z_block(16, ctx.G.z_dim, 777))
    nan = [float("nan")] * n
    for name, (images, seconds, kib, tuned, steps) in runs.items():
        kept = _others_kept(ctx.G, tuned, probes) if kib else nan
        agree = _edit_agreement(ctx.G, tuned, pivots, donors) if kib else nan
        for group, idx in (ctx.groups or {"all": list(range(n))}).items():
            m = metrics(images[idx], ctx.images[idx], ctx)
            result.rows.append({"method": name, "targets": group, "steps": steps, "psnr": m["psnr"],
                                "ms_ssim": m["ms_ssim"], "lpips": m["lpips"], "seconds_per_image": seconds,
                                "delta_kib": kib or float("nan"),
                                "others_kept_psnr": sum(kept[i] for i in idx) / len(idx),
                                "edit_agreement": sum(agree[i] for i in idx) / len(idx)})
    result.figure = _figure(ctx, wplus_codes, pivots, donors, runs[f"PTI rank {config.rank}"][3])
    return result


def _figure(ctx: Context, wplus_codes: torch.Tensor, pivots: torch.Tensor, donors: torch.Tensor,
            tuned: list) -> torch.Tensor:
    n = len(ctx.images)
    shown = [n - 1] + list(range(min(3, n - 1)))  # the photo (the last target) first
    columns = []
    for i in shown:
        code, piv, donor = wplus_codes[i:i + 1], pivots[i:i + 1], donors[i:i + 1]
        row = [ctx.images[i:i + 1].clamp(-1, 1)]
        row += [_render(ctx.G, c) for c in (code, _mixed(code, donor, COARSE), _mixed(code, donor, FINE))]
        row += [_render(tuned[i], c) for c in (piv, _mixed(piv, donor, COARSE), _mixed(piv, donor, FINE))]
        columns.append(torch.cat(row).cpu())
    return rows_figure(columns)
