"""The Image2StyleGAN embedding loop, batched: N images, N latents, one forward/backward.

Every image has its own latent and its own loss term; the loss that is back-propagated is
the sum of the per-image losses, and Adam works element-wise, so an image's trajectory does
not depend on its batch-mates (up to floating-point reduction order).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Sequence

import torch

from ..errors import WplusError
from ..losses import EmbeddingLoss, build_loss, psnr
from ..models.stylegan2 import Generator
from ..runtime import keep_freed_memory
from .callbacks import Callback, StepState, StopEmbedding
from .config import EmbedConfig
from .spaces import LatentSpace


@dataclass
class EmbedResult:
    """Outcome per image (index i of every field): the best latent seen and its render."""

    latents: torch.Tensor  # [N, num_ws, w_dim], the best ws (W+ form whatever the space)
    params: torch.Tensor  # the optimised parameter at its best (z, w or w+)
    images: torch.Tensor  # [N, 3, H, W], render of `latents`
    loss: torch.Tensor  # [N] best loss (inf for an image stopped before its first step)
    psnr: torch.Tensor  # [N] PSNR of the best render, dB
    steps: int  # steps run (fewer than asked when stopped early)
    history: dict[str, list[list[float]]] = field(default_factory=dict)  # 'loss', 'psnr': per step, per image
    loss_name: str = ""
    config: EmbedConfig | None = None
    interrupted: bool = False  # Ctrl-C or a stop request arrived: fields hold the best so far
    error: str | None = None  # why the run stopped early on a failure (fields hold the best so far)
    warnings: list[str] = field(default_factory=list)  # one line each, e.g. the loss fallback


@dataclass
class BestSoFar:
    """Per image: the lowest loss seen, the parameter and the render that gave it."""

    loss: torch.Tensor  # [N]
    param: torch.Tensor
    images: torch.Tensor

    @classmethod
    def start(cls, param: torch.Tensor, images: torch.Tensor) -> "BestSoFar":
        return cls(torch.full((len(images),), float("inf"), device=images.device),
                   param.detach().clone(), torch.zeros_like(images))

    @torch.no_grad()
    def update(self, loss: torch.Tensor, param: torch.Tensor, images: torch.Tensor) -> None:
        improved = loss < self.loss
        self.loss = torch.where(improved, loss, self.loss)
        self.param[improved] = param[improved]
        self.images[improved] = images[improved]


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
          seeds: list[int] | None = None, masks: torch.Tensor | None = None, **overrides) -> EmbedResult:
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
    param = space.init(G, config.init, seeds).requires_grad_(True)
    best = BestSoFar.start(param, images)
    prepared = loss.prepare(images, masks)
    history: dict[str, list[list[float]]] = {"loss": [], "psnr": []}
    interrupted, error = False, None
    try:
        _optimise(G, space, param, loss, prepared, config, callbacks, history, best)
    except (KeyboardInterrupt, StopEmbedding):  # keep what was computed; the caller decides
        interrupted = True
    except NonFiniteLoss as exc:
        error = str(exc)
    with torch.no_grad():
        latents = space.to_ws(G, best.param)
    return EmbedResult(latents=latents.detach(), params=best.param, images=best.images, loss=best.loss,
                       psnr=psnr(best.images, images), steps=len(history["loss"]), history=history,
                       loss_name=loss.name, config=config, interrupted=interrupted, error=error,
                       warnings=[loss.warning] if loss.warning else [])


class NonFiniteLoss(WplusError):
    """The loss became NaN or infinite (learning rate too high, or a broken input)."""


def _optimise(G: Generator, space: LatentSpace, param: torch.Tensor, loss: EmbeddingLoss,
              prepared: dict, config: EmbedConfig, callbacks: Sequence[Callback],
              history: dict[str, list[list[float]]], best: BestSoFar) -> None:
    """The Adam loop: updates `best` and appends to `history` after every step (PSNR over
    the whole image, masks or not)."""
    opt = torch.optim.Adam([param], lr=config.lr, betas=config.betas, eps=config.eps)
    images = prepared["target"]
    last_improvement, reference = 0, best.loss.clone()
    for step in range(config.steps):
        ws = space.to_ws(G, param)
        rendered = G.synthesis(ws, noise_mode=config.noise_mode)
        per_image = loss(rendered, prepared)
        if not torch.isfinite(per_image).all():
            raise NonFiniteLoss(f"the loss became non-finite at step {step}; lower the learning rate "
                                "(the best results before it are kept)")
        best.update(per_image.detach(), param, rendered.detach())
        with torch.no_grad():
            step_psnr = psnr(rendered, images)
        history["loss"].append(per_image.tolist())
        history["psnr"].append(step_psnr.tolist())
        for cb in callbacks:
            cb(StepState(step, config.steps, per_image.detach(), step_psnr, best.loss.clone(),
                         rendered.detach(), ws.detach()))
        opt.zero_grad(set_to_none=True)
        per_image.sum().backward()
        opt.step()
        if config.early_stop:
            if (best.loss < reference * (1 - config.min_improvement)).any():
                last_improvement, reference = step, best.loss.clone()
            elif step - last_improvement >= config.patience:
                break
