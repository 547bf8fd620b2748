"""What one embedding run optimises: the latent parameter, optionally per-image noise maps, and
the random perturbation of the latent that NVIDIA's projector adds while it explores.

The render of a step uses `param + scale(step) * e` with e ~ N(0, I) drawn per image from its
own generator (so an image's draws do not depend on its batch-mates), and the noise maps.
That perturbed latent is what the best-so-far bookkeeping keeps, so a result's latent always
re-renders to its image.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..models.stylegan2 import Generator
from .config import EmbedConfig
from .noise import init_noise_maps, renormalise_noise_
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
    def start(cls, G: Generator, space: LatentSpace, config: EmbedConfig, seeds: list[int]) -> "Variables":
        param = space.init(G, config.init, seeds).requires_grad_(True)
        noise = None
        if config.optimise_noise:
            noise = [m.requires_grad_(True) for m in init_noise_maps(G, seeds, "random")]
        if not config.latent_noise:
            return cls(param, noise, config)
        device = param.device
        gens = [torch.Generator(device).manual_seed(s ^ _PERTURB_SALT) for s in seeds]
        return cls(param, noise, config, w_std=w_stats(G)[1], generators=gens)

    def tensors(self) -> list[torch.Tensor]:
        return [self.param] + (self.noise or [])

    def latent(self, step: int) -> torch.Tensor:
        """The latent rendered at `step`: the parameter, perturbed while the perturbation lasts."""
        scale = latent_noise_scale(step, self.config.steps, self.config.latent_noise, self.config.latent_noise_ramp)
        if scale == 0 or not self.generators:
            return self.param
        shape, device = self.param.shape[1:], self.param.device
        e = torch.stack([torch.randn(shape, generator=g, device=device) for g in self.generators])
        return self.param + e * (scale * self.w_std)

    def after_step(self) -> None:
        """What follows each optimiser step: the noise maps re-normalised (NVIDIA)."""
        if self.noise is not None:
            renormalise_noise_(self.noise)
