"""The Image2StyleGAN embedding loop, batched: N images, N latents, one forward/backward.

Every image has its own latent and its own loss term; the loss that is back-propagated is
the sum of the per-image losses, and Adam works element-wise, so an image's trajectory does
not depend on its batch-mates (up to floating-point reduction order).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Callable, Sequence

import torch

from ..errors import WplusError
from ..losses import EmbeddingLoss, build_loss, psnr
from ..models.stylegan2 import Generator
from ..runtime import keep_freed_memory
from .callbacks import Callback, StepState, StopEmbedding
from .config import EmbedConfig
from .lbfgs import BatchedLBFGS
from .noise import noise_regulariser
from .precision import autocast, resolve_precision, tf32_allowed
from .schedule import LRSchedule
from .spaces import LatentSpace
from .steplog import StepLog
from .variables import Variables


@dataclass
class EmbedResult:
    """Outcome per image (index i of every field): the best latent seen and its render."""

    latents: torch.Tensor  # [N, num_ws, w_dim], the best ws (W+ form whatever the space)
    params: torch.Tensor  # the optimised parameter at its best (z, w or w+)
    images: torch.Tensor  # [N, 3, H, W], render of `latents` (and `noise`)
    loss: torch.Tensor  # [N] best loss (inf for an image stopped before its first step)
    psnr: torch.Tensor  # [N] PSNR of the best render, dB
    steps: int  # steps run (fewer than asked when stopped early)
    history: dict[str, list[list[float]]] = field(default_factory=dict)  # 'loss', 'psnr': per step, per image
    loss_name: str = ""
    config: EmbedConfig | None = None
    interrupted: bool = False  # Ctrl-C or a stop request arrived: fields hold the best so far
    error: str | None = None  # why the run stopped early on a failure (fields hold the best so far)
    warnings: list[str] = field(default_factory=list)  # one line each, e.g. the loss fallback
    noise: list[torch.Tensor] | None = None  # w+n / optimise_noise: the best maps, [N, 1, r, r] per noise layer


def _select(mask: torch.Tensor, new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    """Per image (dim 0): `new` where `mask` [N], else `old` (no host sync)."""
    return torch.where(mask.view(-1, *[1] * (new.ndim - 1)), new, old)


@dataclass
class BestSoFar:
    """Per image: the lowest loss seen, the parameter (and noise maps) and the render that gave it."""

    loss: torch.Tensor  # [N]
    param: torch.Tensor
    images: torch.Tensor
    noise: list[torch.Tensor] | None = None

    @classmethod
    def start(cls, param: torch.Tensor, images: torch.Tensor,
              noise: list[torch.Tensor] | None = None) -> "BestSoFar":
        return cls(torch.full((len(images),), float("inf"), device=images.device),
                   param.detach().clone(), torch.zeros_like(images),
                   [m.detach().clone() for m in noise] if noise is not None else None)

    @torch.no_grad()
    def update(self, loss: torch.Tensor, param: torch.Tensor, images: torch.Tensor,
               noise: list[torch.Tensor] | None = None, allowed: torch.Tensor | None = None) -> None:
        """Keep each image's state where its loss is lower (and `allowed`, a device bool, holds)."""
        improved = loss < self.loss
        if allowed is not None:
            improved = improved & allowed
        self.loss = torch.where(improved, loss, self.loss)
        self.param = _select(improved, param.detach(), self.param)
        self.images = _select(improved, images.detach().to(self.images.dtype), self.images)
        if noise is not None and self.noise is not None:
            self.noise = [_select(improved, m.detach(), old) for m, old in zip(noise, self.noise)]


def image_seeds(images: torch.Tensor, seed: int) -> list[int]:
    """Per-image seeds derived from content, so random inits ignore batch position."""
    out = []
    for img in images.detach().cpu().float():
        digest = hashlib.sha256(img.numpy().tobytes() + seed.to_bytes(8, "little", signed=True))
        out.append(int.from_bytes(digest.digest()[:7], "little"))
    return out


def check_images(G: Generator, images: torch.Tensor) -> None:
    expected = [3, G.resolution, G.resolution]
    if images.ndim != 4 or list(images.shape[1:]) != expected:
        raise WplusError(f"images must have shape [N, {', '.join(map(str, expected))}] for this "
                         f"generator, got {list(images.shape)} (use wplus.load_image to resize)")


def check_masks(masks: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Masks [N or 1, 1, R, R] in [0, 1] on the images' device, each with something to match."""
    n, _, h, w = images.shape
    if masks.ndim != 4 or masks.shape[1] != 1 or masks.shape[0] not in (1, n) or tuple(masks.shape[2:]) != (h, w):
        raise WplusError(f"masks must have shape [{n} or 1, 1, {h}, {w}], got {list(masks.shape)}")
    masks = masks.to(images).clamp(0, 1)
    if (masks.flatten(1).sum(1) == 0).any():
        raise WplusError("a mask is empty (all black): white marks the pixels to match, black the ones to ignore")
    return masks.expand(n, -1, -1, -1)


def embed(G: Generator, images: torch.Tensor, config: EmbedConfig | None = None, *,
          loss: str | EmbeddingLoss | None = None, callbacks: Sequence[Callback] = (),
          seeds: list[int] | None = None, masks: torch.Tensor | None = None, start: torch.Tensor | None = None,
          start_noise: list[torch.Tensor] | None = None, **overrides) -> EmbedResult:
    """Embed `images` into `G`'s latent space (Image2StyleGAN: Adam on the latent code).

    Args:
        G: generator (its parameters are not modified).
        images: target images at the generator's resolution, in [-1, 1].
        config: an `EmbedConfig` (default `EmbedConfig()`); keyword `overrides` replace fields.
        loss: a loss name (`"mse"`, `"i2s"`, ...; sets `config.loss`) or a prebuilt
            `EmbeddingLoss` used as is. A fallback warning lands in `result.warnings`.
        callbacks: called after each step with a `StepState`; one may raise `StopEmbedding`
            to end the run early, keeping the best so far (as Ctrl-C does).
        seeds: per-image seeds for random init (default: derived from image content).
        masks: per-pixel loss weights in [0, 1] (1 = match this pixel, 0 = ignore it, e.g. a
            hole to inpaint), one per image or one for all; every loss term is weighted.
        start: starting codes instead of `config.init` (spaces w+ and w+n), e.g. to refine a code.
        start_noise: w+n: starting noise maps (one per noise layer) instead of the generator's.

    Shape:
        images: [N, 3, R, R]; masks: [N or 1, 1, R, R]; result.latents: [N, num_ws, w_dim];
        result.images: [N, 3, R, R].

    Returns:
        An `EmbedResult` with each image's best latent, its render, loss and PSNR. A loss
        that becomes non-finite stops the run: the best results so far come back with
        `result.error` set.

    Example:
        >>> G = wplus.load_generator()
        >>> target = wplus.load_image("photo.png", G.resolution).tensor
        >>> result = wplus.embed(G, target, space="w+", steps=300, loss="mse")
        >>> result.latents.shape
        torch.Size([1, 10, 256])
    """
    if isinstance(loss, str):
        overrides["loss"], loss = loss, None
    config = replace(config or EmbedConfig(), **overrides)
    check_images(G, images)
    device = G.w_avg.device
    if device.type == "cpu":
        keep_freed_memory()
    images = images.to(device)
    masks = check_masks(masks, images) if masks is not None else None
    if loss is None:
        loss = build_loss(config.loss, mse_weight=config.mse_weight, perceptual_weight=config.perceptual_weight,
                          perceptual_resolution=config.perceptual_resolution)
    loss.to(device)
    space = LatentSpace(config.space)
    seeds = seeds if seeds is not None else image_seeds(images, config.seed)
    variables = Variables.start(G, space, config, seeds, start, start_noise)
    run = _Run.start(G, space, variables, loss, images, masks)
    best = BestSoFar.start(run.variables.param, images, run.variables.noise)
    log = StepLog(len(images), device, config.sync_every, config.patience if config.early_stop else None,
                  config.min_improvement)
    interrupted = False
    with tf32_allowed(device, run.precision == "bf16"):
        try:
            _optimise(run, callbacks, log, best)
        except (KeyboardInterrupt, StopEmbedding):  # keep what was computed; the caller decides
            interrupted = True
    error = log.finish()
    with torch.no_grad():
        latents = space.to_ws(G, best.param)
    return EmbedResult(latents=latents.detach(), params=best.param, images=best.images, loss=best.loss,
                       psnr=psnr(best.images, images), steps=len(log.history["loss"]), history=log.history,
                       loss_name=loss.name, config=config, interrupted=interrupted, error=error,
                       warnings=[loss.warning] if loss.warning else [], noise=best.noise)


class NonFiniteLoss(WplusError):
    """The loss became NaN or infinite (learning rate too high, or a broken input)."""


@dataclass
class _Run:
    """The fixed parts of one run: what is optimised, and how a step renders and scores it."""

    G: Generator
    space: LatentSpace
    variables: Variables
    loss: EmbeddingLoss
    prepared: dict
    precision: str  # 'fp32' or 'bf16'
    score: Callable[[torch.Tensor, list[torch.Tensor] | None], tuple[torch.Tensor, torch.Tensor]]

    @classmethod
    def start(cls, G: Generator, space: LatentSpace, variables: Variables, loss: EmbeddingLoss,
              images: torch.Tensor, masks: torch.Tensor | None) -> "_Run":
        config = variables.config
        precision = resolve_precision(config.precision, images.device, config.optimiser)
        with torch.no_grad(), autocast(images.device, precision):
            prepared = loss.prepare(images, masks)

        score = _compiled_score(config.compile) if config.compile != "off" else _score
        score = partial(score, G, loss, prepared, config.noise_mode)
        return cls(G, space, variables, loss, prepared, precision, score)

    def forward(self, step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(per-image loss [N], render, ws, the latent rendered) of `step`; the loss includes
        the noise maps' penalty when they are optimised."""
        latent = self.variables.latent(step)
        ws = self.space.to_ws(self.G, latent)  # fp32: the mapping (Z) stays out of autocast
        with autocast(ws.device, self.precision):
            rendered, per_image = self.score(ws, self.variables.noise)
        if self.variables.noise is not None and self.variables.config.noise_penalty > 0:
            per_image = per_image + self.variables.config.noise_penalty * noise_regulariser(self.variables.noise)
        return per_image, rendered, ws, latent


def _score(G: Generator, loss: EmbeddingLoss, prepared: dict, noise_mode: str, ws: torch.Tensor,
           noise: list[torch.Tensor] | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Render `ws` (with per-image `noise` maps when given) and score it: (render in fp32, loss [N])."""
    rendered = G.synthesis(ws, noise_mode=noise_mode, noise=noise).float()
    return rendered, loss(rendered, prepared)


_COMPILED: dict[str, Callable] = {}


def _compiled_score(mode: str) -> Callable:
    """`_score` under torch.compile, one per mode for the process (recompiled per generator)."""
    if mode not in _COMPILED:
        _COMPILED[mode] = torch.compile(_score, mode=mode)
    return _COMPILED[mode]


def _optimiser(variables: Variables) -> torch.optim.Adam | BatchedLBFGS:
    config = variables.config
    if config.optimiser == "lbfgs":
        return BatchedLBFGS(variables.param, config.lr, config.lbfgs_memory, config.max_step)
    return torch.optim.Adam(variables.param_groups(), lr=config.lr, betas=config.betas, eps=config.eps)


def _optimise(run: _Run, callbacks: Sequence[Callback], log: StepLog, best: BestSoFar) -> None:
    """The Adam loop. Every step updates `best` and `log` on the device (PSNR over the whole
    image, masks or not); the host reads them only when `log` is due."""
    config, variables = run.variables.config, run.variables
    opt = _optimiser(variables)
    schedule = LRSchedule(config.lr_rampup, config.lr_rampdown)
    target = run.prepared["target"]
    for step in range(config.steps):
        if not schedule.constant:
            for group in opt.param_groups:
                group["lr"] = group["base_lr"] * schedule.factor(step, config.steps)
        variables.begin_step(step, best.param, best.loss)
        per_image, rendered, ws, latent = run.forward(step)
        with torch.no_grad():
            step_psnr = psnr(rendered, target)
            log.record(step, per_image.detach(), step_psnr)
            best.update(per_image.detach(), latent, rendered, variables.noise, allowed=log.healthy)
            log.note_best(step, best.loss)
        if callbacks:
            state = StepState(step, config.steps, per_image.detach(), step_psnr, best.loss.clone(),
                              rendered.detach(), ws.detach(), [m.detach() for m in variables.noise or []] or None)
            for cb in callbacks:
                cb(state)
        opt.zero_grad(set_to_none=True)
        per_image.sum().backward()
        opt.step(per_image.detach()) if isinstance(opt, BatchedLBFGS) else opt.step()
        variables.after_step()
        if log.due(step) and log.read(step):
            return
