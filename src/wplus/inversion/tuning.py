"""Pivotal tuning (PTI, Roich et al. 2021): embed each image (the pivot), then tune the
generator's synthesis weights so that the pivot renders the image, stored as a small delta.

Each image gets its own delta and its own optimiser; images are tuned one after another, so
a batch-mate can never change another image's result. Only the delta's tensors are
optimised: the base generator is never modified.

Locality regulariser (PTI's section 3.3): every `locality_interval` steps a code
`w_r = pivot + alpha * (w_z - pivot) / |w_z - pivot|` is drawn toward a truncated (psi 0.5)
sample `w_z`, and the tuned render of `w_r` is pulled toward the base generator's render of
it with the reconstruction loss times `locality_weight`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Callable, Literal, Sequence, get_args

import torch
from torch.func import functional_call

from ..errors import ConfigError
from ..losses import EmbeddingLoss, LossKind, build_loss, psnr
from ..models.delta import GeneratorDelta
from ..seeds import z_for_seeds
from .callbacks import Callback, StopEmbedding
from .config import EmbedConfig
from .engine import check_images, embed

Pivot = Literal["w", "w+"]
DeltaDtype = Literal["float16", "float32"]


@dataclass(frozen=True)
class TuneConfig:
    """Settings of a pivotal tuning run; `TUNE_PRESETS['pti']` are the paper's."""

    pivot: Pivot = "w"  # latent space of the pivot embedding
    pivot_steps: int = 450  # Adam steps of the pivot embedding (PTI: 450)
    pivot_lr: float = 0.005  # its learning rate (PTI: 5e-3)
    steps: int = 350  # tuning steps (PTI: 350)
    lr: float = 1e-2  # Adam learning rate of the weight updates (PTI's 3e-4 is for full weights; the
    #                   low-rank factors need more: measured in docs/experiments.md)
    rank: int | None = 16  # rank of the big weights' updates; None = full fine-tuning
    small: bool = True  # also tune biases, ToRGB, the constant input and noise strengths
    loss: LossKind = "auto"  # reconstruction loss (auto: PTI's MSE + LPIPS when VGG16 weights exist)
    locality_weight: float = 0.1  # weight of the locality regulariser (0 = off)
    locality_alpha: float | None = None  # distance of w_r from the pivot; None: half the
    #                                      median |w - w_avg| of the model's samples
    locality_interval: int = 1  # steps between regulariser evaluations
    delta_dtype: DeltaDtype = "float16"  # precision the delta is stored in
    seed: int = 0  # seeds the low-rank init and the locality samples

    def __post_init__(self) -> None:
        for name, kind in (("pivot", Pivot), ("loss", LossKind), ("delta_dtype", DeltaDtype)):
            if getattr(self, name) not in get_args(kind):
                raise ConfigError(f"unknown {name} {getattr(self, name)!r}; choose one of {', '.join(get_args(kind))}")
        for name, low in (("pivot_steps", 0), ("steps", 0), ("locality_interval", 1), ("pivot_lr", 0),
                          ("lr", 0), ("locality_weight", 0)):
            if getattr(self, name) < low:
                raise ConfigError(f"{name} must be >= {low}, got {getattr(self, name)}")
        if self.rank is not None and self.rank < 0:
            raise ConfigError(f"rank must be >= 0 or None (full fine-tuning), got {self.rank}")
        if self.locality_alpha is not None and self.locality_alpha <= 0:
            raise ConfigError(f"locality_alpha must be > 0, got {self.locality_alpha}")

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: `pti`: the paper's schedule. `fast`: wplus' shorter one (measured in docs/experiments.md).
TUNE_PRESETS: dict[str, TuneConfig] = {
    "pti": TuneConfig(),
    "fast": TuneConfig(pivot_steps=150, pivot_lr=0.02, steps=150, locality_interval=4),
}


@dataclass
class TuneState:
    """What a tuning callback sees after a step of image `index` (tensors detached)."""

    index: int
    count: int
    step: int
    total_steps: int
    loss: float
    psnr: float
    image: torch.Tensor  # [1, 3, H, W], the render whose loss is `loss`


@dataclass
class TuneResult:
    """Per image i: its pivot, its delta and the tuned render of the pivot."""

    pivots: torch.Tensor  # [N, num_ws, w_dim]
    deltas: list[GeneratorDelta]
    images: torch.Tensor  # [N, 3, H, W], tuned generator's render of the pivot (stored delta)
    psnr: torch.Tensor  # [N], of `images`
    pivot_images: torch.Tensor  # [N, 3, H, W], base generator's render of the pivot
    pivot_psnr: torch.Tensor  # [N]
    history: list[list[float]] = field(default_factory=list)  # per image, loss per tuning step
    config: TuneConfig | None = None
    loss_name: str = ""
    interrupted: bool = False  # stopped early: the current image keeps its partly tuned delta,
    #                            images not reached get the identity delta
    warnings: list[str] = field(default_factory=list)


class _Tuner:
    """Tunes one delta per image against one loss; `G` is only read."""

    def __init__(self, G: torch.nn.Module, config: TuneConfig, loss: EmbeddingLoss) -> None:
        self.G, self.config, self.loss = G, config, loss
        self.fingerprint = G.fingerprint()
        self.alpha = config.locality_alpha or _default_alpha(G)

    def render(self, delta: GeneratorDelta, ws: torch.Tensor) -> torch.Tensor:
        # The updated weights always require grad here, so SynthesisLayer never caches them.
        return functional_call(self.G.synthesis, delta.updated(self.G), (ws,), {"noise_mode": "const"})

    def locality(self, delta: GeneratorDelta, pivot: torch.Tensor, seed: int) -> torch.Tensor:
        z = z_for_seeds([seed], self.G.z_dim, pivot.device)
        with torch.no_grad():
            w_z = self.G.mapping(z, truncation_psi=0.5)
            step = w_z - pivot
            w_r = pivot + self.alpha * step / step.norm(dim=-1, keepdim=True).clamp_min(1e-8)
            reference = self.G.synthesis(w_r, noise_mode="const")
        return self.loss(self.render(delta, w_r), self.loss.prepare(reference)).sum()

    def tune(self, index: int, target: torch.Tensor, pivot: torch.Tensor, count: int,
             callbacks: Sequence[Callable[[TuneState], None]], history: list[float]) -> GeneratorDelta:
        cfg = self.config
        delta = GeneratorDelta.zeros(self.G, cfg.rank, small=cfg.small, seed=cfg.seed, fingerprint=self.fingerprint)
        self.current = delta  # kept (partly tuned) when a stop request interrupts the loop
        tensors = [t.requires_grad_(True) for t in delta.tensors()]
        opt = torch.optim.Adam(tensors, lr=cfg.lr) if tensors else None
        prepared = self.loss.prepare(target)
        for step in range(cfg.steps if opt else 0):
            rendered = self.render(delta, pivot)
            loss = self.loss(rendered, prepared).sum()
            total = loss
            if cfg.locality_weight and step % cfg.locality_interval == 0:
                total = total + cfg.locality_weight * self.locality(delta, pivot, cfg.seed * 1_000_003 + step)
            opt.zero_grad(set_to_none=True)
            total.backward()
            opt.step()
            history.append(loss.item())
            for cb in callbacks:
                cb(TuneState(index, count, step, cfg.steps, loss.item(),
                             psnr(rendered.detach(), target).item(), rendered.detach()))
        return delta


def tuning_loss(kind: str = "auto", vgg16: str | None = None) -> EmbeddingLoss:
    """The tuning loss: 'auto' is PTI's MSE + LPIPS-VGG when VGG16 weights exist, else the
    MSE + MS-SSIM fallback (with its one-line `warning`); other kinds as `build_loss`."""
    if kind != "auto":
        return build_loss(kind, vgg16=vgg16)
    loss = build_loss("auto-lpips", vgg16=vgg16)
    return replace(loss, name="mse+lpips", mse_weight=1.0) if loss.name == "lpips" else loss


def _default_alpha(G: torch.nn.Module, n: int = 1000) -> float:
    with torch.no_grad():
        w = G.mapping(z_for_seeds([7], G.z_dim * n, G.w_avg.device).view(n, G.z_dim))[:, 0]
    return 0.5 * (w - G.w_avg).norm(dim=1).median().item()


def tune(G: torch.nn.Module, images: torch.Tensor, config: TuneConfig | None = None, *,
         loss: str | EmbeddingLoss | None = None, pivots: torch.Tensor | None = None,
         callbacks: Sequence[Callable[[TuneState], None]] = (), pivot_callbacks: Sequence[Callback] = (),
         **overrides) -> TuneResult:
    """Pivotal tuning of `images`: a pivot embedding each, then a weight delta each.

    Args:
        G: base generator (never modified).
        images: targets at the generator's resolution, in [-1, 1].
        config: a `TuneConfig` (default: the `pti` preset); keyword `overrides` replace fields.
        loss: a loss name or a prebuilt `EmbeddingLoss` (for the pivot and the tuning).
        pivots: ready pivots [N, num_ws, w_dim] (skips the pivot embedding).
        callbacks: called after each tuning step with a `TuneState`; may raise `StopEmbedding`.
        pivot_callbacks: passed to the pivot embedding (`embed`'s `StepState` callbacks).

    Returns:
        A `TuneResult`; `result.deltas[i].apply(G)` is image i's tuned generator, and it
        renders `result.pivots[i]` as `result.images[i]` exactly.

    Example:
        >>> G = wplus.load_generator()
        >>> result = wplus.tune(G, target, steps=100)
        >>> wplus.save_delta(result.deltas[0], "photo_delta.safetensors")
    """
    if isinstance(loss, str):
        overrides["loss"], loss = loss, None
    config = replace(config or TuneConfig(), **overrides)
    check_images(G, images)
    images = images.to(G.w_avg.device)
    loss = loss or tuning_loss(config.loss).to(images.device)
    warnings = [loss.warning] if loss.warning else []
    if pivots is None:
        pivot_cfg = EmbedConfig(space=config.pivot, steps=max(1, config.pivot_steps), lr=config.pivot_lr,
                                loss=config.loss)
        pivot_run = embed(G, images, pivot_cfg, loss=loss, callbacks=pivot_callbacks)
        if pivot_run.interrupted:
            raise StopEmbedding()
        pivots = pivot_run.latents
    pivots = pivots.to(images.device)
    tuner, history = _Tuner(G, config, loss), [[] for _ in images]
    deltas, interrupted = [], False
    for i in range(len(images)):
        if interrupted:
            deltas.append(GeneratorDelta.zeros(G, 0, small=False, fingerprint=tuner.fingerprint))
            continue
        try:
            deltas.append(tuner.tune(i, images[i:i + 1], pivots[i:i + 1], len(images), callbacks, history[i]))
        except (KeyboardInterrupt, StopEmbedding):
            interrupted = True
            deltas.append(tuner.current)
    return _result(tuner, images, pivots, deltas, history, interrupted, warnings)


def _result(tuner: _Tuner, images: torch.Tensor, pivots: torch.Tensor, deltas: list[GeneratorDelta],
            history: list[list[float]], interrupted: bool, warnings: list[str]) -> TuneResult:
    """Round each delta to its storage precision and render the pivots through it."""
    G, config, loss = tuner.G, tuner.config, tuner.loss
    dtype = getattr(torch, config.delta_dtype)
    stored, renders = [], []
    with torch.no_grad():
        base = G.synthesis(pivots, noise_mode="const")
        for i, delta in enumerate(deltas):
            delta = delta.detached(dtype)
            delta.meta.update(config=config.to_dict(), loss=loss.name, steps=len(history[i]))
            stored.append(delta)
            tuned = delta.apply(G, fingerprint=tuner.fingerprint)
            renders.append(tuned.synthesis(pivots[i:i + 1], noise_mode="const"))
    tuned_images = torch.cat(renders)
    return TuneResult(pivots=pivots.detach(), deltas=stored, images=tuned_images, psnr=psnr(tuned_images, images),
                      pivot_images=base, pivot_psnr=psnr(base, images), history=history, config=config,
                      loss_name=loss.name, interrupted=interrupted, warnings=warnings)
