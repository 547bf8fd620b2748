"""W+ against W+n (Image2StyleGAN++ section 3): the same targets embedded in W+, in W+n with the
sequential schedule (W+ for the first half of the steps, then the noise maps alone) and with
the joint one, at the same total steps, all with Adam (the run's lr, or `EmbedConfig`'s 0.01
when the run's preset is L-BFGS, which cannot optimise maps); and whether what the maps
learned survives an edit.

Targets: the study's images, plus (for a generator with noise inputs) the three model samples
of the default targets rendered with fresh random noise maps instead of the generator's own,
so that W+ alone cannot reach them. Where the truth is known (model samples: their w and noise
maps), the edit is known too: a style-mixing edit replaces layers 0-3 of the code by another
sample's w and keeps the noise, so the true edit renders the mixed true code with the true
maps, and an embedding's edit renders its mixed code with its own maps (const noise for W+).
"""
from __future__ import annotations

import math

import torch

from ..editing.mix import mix
from ..inversion import EmbedConfig
from ..inversion.noise import init_noise_maps
from ..losses import psnr
from ..losses.ssim import ms_ssim_per_image
from ..models.stylegan2 import Generator
from ..seeds import z_block
from .common import Context, StudyResult, generator_samples, rows_figure

METHODS = {"W+": dict(space="w+"), "W+n sequential": dict(space="w+n", noise_schedule="sequential"),
           "W+n joint": dict(space="w+n", noise_schedule="joint")}
COLUMNS = ["method", "targets", "psnr", "ms_ssim", "gain_db", "noise_share_db", "edit_psnr", "edit_gain_db",
           "edit_survival"]
EDIT_LAYERS = range(4)
SAMPLE_SEED, EDIT_SEED, FRESH_NOISE_SEEDS = 123, 999, [11, 12, 13]
NOTE = (
    "gain_db: PSNR over W+'s. noise_share_db: PSNR of the code rendered with its optimised noise maps minus "
    "with the generator's const noise (what the maps alone carry). edit_psnr: PSNR of the style-mixing edit "
    "(layers 0-3 from another model sample, noise kept) against the true edit, on model samples (known w and "
    "noise; blank for photos); edit_gain_db: that PSNR over W+'s edit; edit_survival = edit_gain_db / gain_db, "
    "the fraction of the reconstruction gain still there after the edit (1: all of it; 0 or less: the maps "
    "over-fit the image). Figure columns: the targets; rows: target, W+, W+n sequential, W+n joint, the true "
    "edit (grey where unknown), then the edits of W+, W+n sequential, W+n joint.")


class Truth:
    """Targets with known codes and noise maps: index -> (w [1, num_ws, w_dim], maps or None)."""

    def __init__(self) -> None:
        self.known: dict[int, tuple[torch.Tensor, list[torch.Tensor] | None]] = {}

    def edit_target(self, G: Generator, i: int, style: torch.Tensor) -> torch.Tensor | None:
        if i not in self.known:
            return None
        w, maps = self.known[i]
        with torch.no_grad():
            return G.synthesis(mix(w, style, EDIT_LAYERS), noise=maps).clamp(-1, 1)[0]


def targets_and_truth(ctx: Context) -> tuple[torch.Tensor, dict[str, list[int]], Truth]:
    """The study's images, a fresh-noise copy of the model samples, the groups and the truths."""
    G, truth = ctx.G, Truth()
    z = z_block(3, G.z_dim, SAMPLE_SEED, G.w_avg.device)
    with torch.no_grad():
        sample_ws = G.mapping(z)
    samples = generator_samples(G, 3, SAMPLE_SEED)
    for i, image in enumerate(ctx.images):
        for j, sample in enumerate(samples):
            if torch.equal(image, sample):
                truth.known[i] = (sample_ws[j:j + 1], None)
    groups = dict(ctx.groups or {"all": list(range(len(ctx.images)))})
    if not G.has_noise:
        return ctx.images, groups, truth
    maps = init_noise_maps(G, FRESH_NOISE_SEEDS, "random")
    with torch.no_grad():
        fresh = G.synthesis(sample_ws, noise=maps).clamp(-1, 1)
    first = len(ctx.images)
    for j in range(3):
        truth.known[first + j] = (sample_ws[j:j + 1], [m[j:j + 1] for m in maps])
    groups["3 model samples, fresh noise"] = list(range(first, first + 3))
    return torch.cat([ctx.images, fresh]), groups, truth


def _renders(G: Generator, latents: torch.Tensor, noise: list[torch.Tensor] | None,
             style: torch.Tensor) -> dict[str, torch.Tensor]:
    """The reconstruction, the same code with const noise, and the edit (with the code's maps)."""
    with torch.no_grad():
        render = lambda ws, maps: G.synthesis(ws, noise_mode="const", noise=maps).clamp(-1, 1)
        return {"recon": render(latents, noise), "const": render(latents, None),
                "edit": render(mix(latents, style.expand_as(latents), EDIT_LAYERS), noise)}


def _mean_psnr(x: torch.Tensor, y: torch.Tensor) -> float:
    return psnr(x, y).mean().item()


def run(ctx: Context) -> StudyResult:
    targets, groups, truth = targets_and_truth(ctx)
    with torch.no_grad():
        style = ctx.G.mapping(z_block(1, ctx.G.z_dim, EDIT_SEED, ctx.G.w_avg.device))
    edit_truth = [truth.edit_target(ctx.G, i, style) for i in range(len(targets))]
    renders = {}
    adam = {} if ctx.config.optimiser == "adam" else dict(optimiser="adam", lr=EmbedConfig.lr)
    for name, overrides in METHODS.items():
        result = ctx.embed(targets, optimise_noise=False, **adam, **overrides)
        renders[name] = _renders(ctx.G, result.latents, result.noise, style)
    strengths = [abs(float(layer.noise_strength)) for layer in ctx.G.synthesis.layers()]
    shown = f"{min(strengths):.3g}-{max(strengths):.3g}" if strengths else "none (no noise inputs)"
    result = StudyResult("noise", COLUMNS, note=f"Noise strengths |s| of this generator: {shown}. " + NOTE)
    for group, idx in groups.items():
        base: dict[str, float] = {}
        result.rows += [_row(name, group, idx, r, targets, edit_truth, base) for name, r in renders.items()]
    result.figure = _figure(targets, renders, edit_truth)
    return result


def _row(name: str, group: str, idx: list[int], r: dict[str, torch.Tensor], targets: torch.Tensor,
         edit_truth: list[torch.Tensor | None], base: dict[str, float]) -> dict:
    """One table row; `base` holds W+'s PSNRs (filled by W+'s row, the first)."""
    truth, known = targets[idx], [i for i in idx if edit_truth[i] is not None]
    value = _mean_psnr(r["recon"][idx], truth)
    edit = (_mean_psnr(r["edit"][known], torch.stack([edit_truth[i] for i in known]))
            if known else float("nan"))
    base.setdefault("psnr", value)
    base.setdefault("edit", edit)
    gain, edit_gain = value - base["psnr"], edit - base["edit"]
    return {"method": name, "targets": group, "psnr": value,
            "ms_ssim": ms_ssim_per_image(r["recon"][idx], truth).mean().item(),
            "gain_db": gain, "noise_share_db": value - _mean_psnr(r["const"][idx], truth),
            "edit_psnr": edit, "edit_gain_db": edit_gain,
            "edit_survival": edit_gain / gain if abs(gain) >= 0.05 and not math.isnan(edit) else float("nan")}


def _figure(targets: torch.Tensor, renders: dict[str, dict[str, torch.Tensor]],
            edit_truth: list[torch.Tensor | None]) -> torch.Tensor:
    grey = torch.zeros_like(targets[0])
    truths = torch.stack([t if t is not None else grey for t in edit_truth])
    rows = [targets] + [r["recon"] for r in renders.values()] + [truths] + [r["edit"] for r in renders.values()]
    return rows_figure([row.cpu() for row in rows])
