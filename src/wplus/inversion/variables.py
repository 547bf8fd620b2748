"""What one embedding run optimises: the latent parameter, optionally per-image noise maps, and
the random perturbation of the latent that NVIDIA's projector adds while it explores.

The render of a step uses `param + scale(step) * e` with e ~ N(0, I) drawn per image from its
own generator (so an image's draws do not depend on its batch-mates), and the noise maps.
That perturbed latent is what the best-so-far bookkeeping keeps, so a result's latent always
re-renders to its image.

Space w+n (Image2StyleGAN++) starts the maps at the generator's own `noise_const` (step 0
renders as `noise_mode="const"`). Its `sequential` schedule optimises W+ alone for the first
`round(noise_split * steps)` steps, then restarts from each image's best W+ code, freezes it
and optimises the maps alone; `joint` optimises both throughout. A frozen tensor gets no
gradient, so Adam leaves it exactly as it is.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..models.stylegan2 import Generator
from .config import EmbedConfig
from .noise import check_noise_maps, init_noise_maps, renormalise_noise_
from .schedule import latent_noise_scale
from .spaces import LatentSpace, w_stats

_PERTURB_SALT = 1 << 61  # keeps the perturbation's stream apart from other per-image streams


@dataclass
class Variables:
    """The tensors Adam updates (`param`, `noise`) and the latent perturbation's state."""

    param: torch.Tensor  # [N, z_dim] or [N, 1 | num_ws, w_dim]
    noise: list[torch.Tensor] | None  # [N, 1, r, r] per noise layer, or None (the generator's own)
    config: EmbedConfig
    w_std: float = 0.0  # std of W (one number) that scales the perturbation
    generators: list[torch.Generator] | None = None  # one per image, for the perturbation

    @classmethod
    def start(cls, G: Generator, space: LatentSpace, config: EmbedConfig, seeds: list[int],
              start: torch.Tensor | None = None, start_noise: list[torch.Tensor] | None = None) -> "Variables":
        """The starting tensors: from `config.init`, or the codes `start` (and maps `start_noise`)."""
        param = (space.init(G, config.init, seeds) if start is None else space.start(G, start)).requires_grad_(True)
        noise = None
        if config.optimises_noise:
            noise = init_noise_maps(G, seeds, "const" if config.space == "w+n" else "random")
            if start_noise is not None:
                noise = check_noise_maps(G, start_noise, len(seeds))
            noise = [m.requires_grad_(True) for m in noise]
        if not config.latent_noise:
            return cls(param, noise, config)
        device = param.device
        gens = [torch.Generator(device).manual_seed(s ^ _PERTURB_SALT) for s in seeds]
        return cls(param, noise, config, w_std=w_stats(G)[1], generators=gens)

    def tensors(self) -> list[torch.Tensor]:
        return [self.param] + (self.noise or [])

    def param_groups(self) -> list[dict]:
        """Adam's groups: the latent at `lr`, the maps at `noise_lr`; `base_lr` keeps each one's rate."""
        groups = [{"params": [self.param], "lr": self.config.lr}]
        if self.noise is not None:
            groups.append({"params": self.noise, "lr": self.config.noise_rate})
        for group in groups:
            group["base_lr"] = group["lr"]
        return groups

    @property
    def switch_step(self) -> int | None:
        """The first step of the maps-only phase of a sequential w+n run (None otherwise)."""
        if self.config.space != "w+n" or self.config.noise_schedule != "sequential":
            return None
        return round(self.config.noise_split * self.config.steps)

    @torch.no_grad()
    def begin_step(self, step: int, best_param: torch.Tensor, best_loss: torch.Tensor) -> None:
        """Sequential w+n: maps frozen before the switch; at it, each image restarts from its best
        code (where it has one), which stays frozen while the maps are optimised."""
        switch = self.switch_step
        if switch is None or step not in (0, switch) or self.noise is None:
            return
        noise_phase = step == switch
        if noise_phase:
            found = torch.isfinite(best_loss).view(-1, *[1] * (self.param.ndim - 1))
            self.param.copy_(torch.where(found, best_param, self.param))
        self.param.requires_grad_(not noise_phase)
        for m in self.noise:
            m.requires_grad_(noise_phase)

    def latent(self, step: int) -> torch.Tensor:
        """The latent rendered at `step`: the parameter, perturbed while the perturbation lasts."""
        scale = latent_noise_scale(step, self.config.steps, self.config.latent_noise, self.config.latent_noise_ramp)
        if scale == 0 or not self.generators:
            return self.param
        shape, device = self.param.shape[1:], self.param.device
        e = torch.stack([torch.randn(shape, generator=g, device=device) for g in self.generators])
        return self.param + e * (scale * self.w_std)

    def after_step(self) -> None:
        """What follows each optimiser step: the noise maps re-normalised (NVIDIA; while optimised)."""
        if self.noise is not None and self.config.renormalises_noise and self.noise[0].requires_grad:
            renormalise_noise_(self.noise)
