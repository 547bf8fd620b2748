"""The Image2StyleGAN embedding loop, batched: N images, N latents, one forward/backward.

Every image has its own latent and its own loss term; the loss that is back-propagated is
the sum of the per-image losses, and Adam works element-wise, so an image's trajectory does
not depend on its batch-mates (up to floating-point reduction order).
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, replace
from typing import Sequence

import torch

from ..errors import WplusError
from ..losses import EmbeddingLoss, build_loss, psnr
from ..models.stylegan2 import Generator
from ..runtime import keep_freed_memory
from .callbacks import Callback, StepState
from .spaces import LatentSpace


@dataclass(frozen=True)
class EmbedConfig:
    """Settings of one embedding run. Defaults are the paper's, except `steps` (1000)."""

    space: str = "w+"
    steps: int = 1000
    init: str = "mean"
    lr: float = 0.01
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    loss: str = "auto"
    mse_weight: float = 1.0
    perceptual_weight: float = 1.0
    perceptual_resolution: int = 256
    noise_mode: str = "const"
    seed: int = 0
    early_stop: bool = False
    patience: int = 100
    min_improvement: float = 1e-4

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise WplusError(f"steps must be at least 1, got {self.steps}")
        LatentSpace(self.space)

    def to_dict(self) -> dict:
        return asdict(self)


#: Named settings. `paper`: Image2StyleGAN's 5000 Adam steps at lr 0.01.
PRESETS: dict[str, EmbedConfig] = {
    "paper": EmbedConfig(steps=5000),
    "default": EmbedConfig(),
    "fast": EmbedConfig(steps=300, early_stop=True, patience=50),
}


@dataclass
class EmbedResult:
    """Outcome per image (index i of every field): the best latent seen and its render."""

    latents: torch.Tensor  # [N, num_ws, w_dim], the best ws (W+ form whatever the space)
    params: torch.Tensor  # the optimised parameter at its best (z, w or w+)
    images: torch.Tensor  # [N, 3, H, W], render of `latents`
    loss: torch.Tensor  # [N] best loss
    psnr: torch.Tensor  # [N] PSNR of the best render, dB
    steps: int  # steps run (fewer than asked when stopped early)
    history: dict[str, list[list[float]]] = field(default_factory=dict)  # per step, per image
    loss_name: str = ""
    config: EmbedConfig | None = None
    interrupted: bool = False  # Ctrl-C arrived: fields hold the best so far


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
                         f"generator, got {list(images.shape)} (use wplus.io.load_images to resize)")


def embed(G: Generator, images: torch.Tensor, config: EmbedConfig | None = None, *,
          loss: EmbeddingLoss | None = None, callbacks: Sequence[Callback] = (),
          seeds: list[int] | None = None, **overrides) -> EmbedResult:
    """Embed `images` ([N, 3, R, R] in [-1, 1]) into `G`'s latent space.

    Args:
        G: generator (its parameters are not modified).
        images: target images at the generator's resolution.
        config: an `EmbedConfig` (default `EmbedConfig()`); keyword `overrides` replace fields.
        loss: a prebuilt loss (else built from `config.loss`; a warning, if any, is in
            `result.history['warnings']`).
        callbacks: called after each step with a `StepState`.
        seeds: per-image seeds for random init (default: derived from image content).
    """
    config = replace(config or EmbedConfig(), **overrides)
    check_images(G, images)
    device = G.w_avg.device
    if device.type == "cpu":
        keep_freed_memory()
    images = images.to(device)
    warnings: list[str] = []
    if loss is None:
        loss, warning = build_loss(config.loss, mse_weight=config.mse_weight,
                                   perceptual_weight=config.perceptual_weight,
                                   perceptual_resolution=config.perceptual_resolution)
        warnings += [warning] if warning else []
    loss.to(device)
    space = LatentSpace(config.space)
    seeds = seeds if seeds is not None else image_seeds(images, config.seed)
    param = space.init(G, config.init, seeds).requires_grad_(True)
    opt = torch.optim.Adam([param], lr=config.lr, betas=config.betas, eps=config.eps)
    prepared = loss.prepare(images)

    n = len(images)
    best_loss = torch.full((n,), float("inf"), device=device)
    best_param = param.detach().clone()
    best_images = torch.zeros_like(images)
    history: dict[str, list] = {"loss": [], "psnr": []}
    step, interrupted = 0, False
    try:
        step = _optimise(G, space, param, opt, loss, prepared, images, config, callbacks, history,
                         best_loss, best_param, best_images)
    except KeyboardInterrupt:  # keep what was computed; the caller decides what to do
        interrupted, step = True, len(history["loss"]) - 1
    with torch.no_grad():
        latents = space.to_ws(G, best_param)
    history["warnings"] = warnings
    return EmbedResult(latents=latents.detach(), params=best_param, images=best_images,
                       loss=best_loss, psnr=psnr(best_images, images), steps=step + 1,
                       history=history, loss_name=loss.name, config=config, interrupted=interrupted)


def _optimise(G, space, param, opt, loss, prepared, images, config, callbacks, history,
              best_loss, best_param, best_images) -> int:
    """The Adam loop; updates the best_* tensors in place. Returns the last step index."""
    last_improvement, reference = 0, best_loss.clone()
    step = 0
    for step in range(config.steps):
        ws = space.to_ws(G, param)
        rendered = G.synthesis(ws, noise_mode=config.noise_mode)
        per_image = loss(rendered, prepared)
        if not torch.isfinite(per_image).all():
            raise WplusError(f"the loss became non-finite at step {step}; lower the learning rate")
        with torch.no_grad():
            improved = per_image < best_loss
            best_loss.copy_(torch.where(improved, per_image, best_loss))
            best_param[improved] = param[improved]
            best_images[improved] = rendered[improved]
            step_psnr = psnr(rendered, images)
        history["loss"].append(per_image.tolist())
        history["psnr"].append(step_psnr.tolist())
        for cb in callbacks:
            cb(StepState(step, config.steps, per_image.detach(), step_psnr, best_loss.clone(),
                         rendered.detach(), ws.detach()))
        opt.zero_grad(set_to_none=True)
        per_image.sum().backward()
        opt.step()
        if config.early_stop:
            if (best_loss < reference * (1 - config.min_improvement)).any():
                last_improvement, reference = step, best_loss.clone()
            elif step - last_improvement >= config.patience:
                break
    return step
