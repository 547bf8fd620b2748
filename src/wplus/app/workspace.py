"""What every task runs on: the loaded generator, its device, and the losses it needs.

A front end opens one `Workspace` (per process for the CLI, per server for the web app)
and passes it to the task functions, so a generator and VGG16 load once.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from threading import Lock

import torch

from .._version import __version__
from ..checkpoints import load_generator
from ..devices import pick_device
from ..errors import ConfigError
from ..inversion import PRESETS, EmbedConfig
from ..inversion.noise import check_noise_inputs
from ..io.deltas import load_delta
from ..losses import EmbeddingLoss, build_loss
from ..models.stylegan2 import Generator
from .events import EventSink, Notice, ignore


@dataclass(frozen=True)
class ModelOptions:
    """Which generator, on which device, with which VGG16 weights."""

    generator: str = "default"  # 'default' (the embedded model) or a generator file
    device: str = "auto"  # auto, cpu, cuda, cuda:1, ...
    vgg16: str | None = None  # torchvision's vgg16-397923af.pth (else WPLUS_VGG16 / hub cache)
    delta: str | None = None  # a delta file made by `wplus tune` on this generator


@dataclass(frozen=True)
class EmbedOptions:
    """A preset and the settings the user changed (None = the preset's)."""

    preset: str = "default"
    space: str | None = None
    steps: int | None = None
    init: str | None = None
    lr: float | None = None
    loss: str | None = None
    seed: int | None = None
    early_stop: bool | None = None
    perceptual_resolution: int | None = None
    noise_schedule: str | None = None  # w+n: sequential or joint
    noise_split: float | None = None  # w+n sequential: fraction of the steps on W+
    precision: str | None = None  # auto, fp32 or bf16

    def config(self) -> EmbedConfig:
        """The preset with the given settings applied (checked by `EmbedConfig`). Space w+n on an
        L-BFGS preset (which optimises the latent alone) runs on Adam at `EmbedConfig`'s lr and
        steps (0.01, 1000) instead, keeping the preset's early stop."""
        if self.preset not in PRESETS:
            raise ConfigError(f"unknown preset {self.preset!r}; choose one of {', '.join(sorted(PRESETS))}")
        preset = PRESETS[self.preset]
        if self.space == "w+n" and preset.optimiser == "lbfgs":
            preset = replace(preset, optimiser="adam", lr=EmbedConfig.lr, steps=EmbedConfig.steps)
        given = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "preset"}
        return replace(preset, **{k: v for k, v in given.items() if v is not None})


class Workspace:
    """A generator on its device, and the embedding losses built for it (cached)."""

    def __init__(self, G: Generator, device: torch.device, vgg16: str | None = None,
                 base_fingerprint: str | None = None) -> None:
        self.G, self.device, self.vgg16 = G, device, vgg16
        self._base_fingerprint = base_fingerprint
        self._losses: dict[tuple, EmbeddingLoss] = {}
        self._lock = Lock()
        self._fingerprint: str | None = None

    @property
    def fingerprint(self) -> str:
        """`G.fingerprint()`, computed once."""
        if self._fingerprint is None:
            self._fingerprint = self.G.fingerprint()
        return self._fingerprint

    @property
    def base_fingerprint(self) -> str:
        """The fingerprint of the generator before a delta: its latent space (and so its
        directions) is the tuned generator's too."""
        return self._base_fingerprint or self.fingerprint

    @classmethod
    def open(cls, options: ModelOptions = ModelOptions()) -> "Workspace":
        device = pick_device(options.device)
        G, base = load_generator(options.generator, device), None
        if options.delta:
            delta = load_delta(options.delta)
            G, base = delta.apply(G, label=Path(options.delta).name, what=options.delta), delta.base_fingerprint
        return cls(G, device, options.vgg16, base)

    def loss(self, config: EmbedConfig) -> EmbeddingLoss:
        """The loss `config` asks for (VGG16 loaded once); its `warning` says when 'auto'
        fell back to MSE + MS-SSIM."""
        key = (config.loss, config.mse_weight, config.perceptual_weight, config.perceptual_resolution)
        with self._lock:
            if key not in self._losses:
                self._losses[key] = build_loss(config.loss, vgg16=self.vgg16, mse_weight=config.mse_weight,
                                               perceptual_weight=config.perceptual_weight,
                                               perceptual_resolution=config.perceptual_resolution).to(self.device)
            return self._losses[key]

    def embedding(self, options: EmbedOptions, emit: EventSink = ignore) -> tuple[EmbedConfig, EmbeddingLoss]:
        """The config `options` give and its loss; the loss's fallback warning is emitted. Noise
        options on a generator without noise inputs fail here, before any work."""
        config = options.config()
        if config.optimises_noise:
            check_noise_inputs(self.G)
        loss = self.loss(config)
        if loss.warning:
            emit(Notice("warning", loss.warning))
        return config, loss

    def run_meta(self, config: EmbedConfig, loss: EmbeddingLoss) -> dict:
        """What every saved latent file records about how it was made."""
        return {"generator": self.G.source, "generator_sha": self.fingerprint, "loss": loss.name,
                "config": config.to_dict(), "wplus_version": __version__}
