"""What every generator family shares: provenance, config JSON, the public attributes,
fingerprint and `w_avg` estimation.

A family module (stylegan1, stylegan2, stylegan3) defines a frozen config dataclass derived
from `FamilyConfig` and a `GeneratorBase` subclass that builds `mapping` (z -> ws) and
`synthesis` (ws -> image). The interface is NVIDIA's: `G.mapping(z, truncation_psi,
truncation_cutoff)`, `G.synthesis(ws, noise_mode=, noise=)`, `resolution, num_ws, w_dim,
z_dim, w_avg`.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from typing import ClassVar

import torch
from torch import nn

from ..errors import ConfigError
from ..seeds import z_block

NOISE_MODES = ("const", "random", "none")


@dataclass(frozen=True)
class Provenance:
    """Where a generator's weights came from: a file path (or description) and its format."""

    source: str = "in-memory"
    format: str = "in-memory"


@dataclass(frozen=True)
class FamilyConfig:
    """Base of the per-family configs: JSON round trip tagged with the family name.

    StyleGAN2 configs are written without the tag (files and fingerprints made before the
    other families existed stay byte-identical); a JSON without a tag is StyleGAN2."""

    family: ClassVar[str] = ""
    tagged_json: ClassVar[bool] = True

    resolution: int = 64
    z_dim: int = 512
    w_dim: int = 512

    @property
    def num_ws(self) -> int:
        raise NotImplementedError

    def to_json(self) -> str:
        data = asdict(self)
        if self.tagged_json:
            data["family"] = self.family
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "FamilyConfig":
        data = json.loads(text)
        data.pop("family", None)
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown {cls.family} config keys: {sorted(unknown)}")
        return cls(**data)


def check_positive(cfg: FamilyConfig, names: tuple[str, ...]) -> None:
    """ConfigError unless the resolution is a power of two >= 4 and each named field >= 1."""
    res = cfg.resolution
    if res < 4 or res & (res - 1):
        raise ConfigError(f"resolution must be a power of two >= 4, got {res}")
    for name in names:
        if getattr(cfg, name) < 1:
            raise ConfigError(f"{name} must be at least 1, got {getattr(cfg, name)}")


def truncate(ws: torch.Tensor, w_avg: torch.Tensor, psi: float, cutoff: int | None) -> torch.Tensor:
    """Move the first `cutoff` (None: all) ws toward `w_avg` by 1 - psi, in place; psi 1 is a no-op."""
    if psi != 1:
        cut = ws.shape[1] if cutoff is None else cutoff
        ws[:, :cut] = w_avg.lerp(ws[:, :cut], psi)
    return ws


class GeneratorBase(nn.Module):
    """A generator: `mapping` (z -> ws [N, num_ws, w_dim]) and `synthesis` (ws -> images)."""

    mapping: nn.Module
    synthesis: nn.Module

    def __init__(self, cfg: FamilyConfig, provenance: Provenance = Provenance()) -> None:
        super().__init__()
        self.config = cfg
        self.provenance = provenance

    resolution = property(lambda self: self.config.resolution)
    num_ws = property(lambda self: self.config.num_ws)
    w_dim = property(lambda self: self.config.w_dim)
    z_dim = property(lambda self: self.config.z_dim)
    w_avg = property(lambda self: self.mapping.w_avg)
    source = property(lambda self: self.provenance.source)
    source_format = property(lambda self: self.provenance.format)
    family = property(lambda self: self.config.family)

    @property
    def has_noise(self) -> bool:
        """Whether synthesis has per-layer noise inputs (StyleGAN3 has none)."""
        return len(self.synthesis.layers()) > 0

    def forward(self, z: torch.Tensor, truncation_psi: float = 1.0,
                noise_mode: str = "const") -> torch.Tensor:
        return self.synthesis(self.mapping(z, truncation_psi), noise_mode=noise_mode)

    def fingerprint(self) -> str:
        """SHA-256 (first 16 hex digits) of the config and every parameter and buffer."""
        h = hashlib.sha256(self.config.to_json().encode())
        for key, value in sorted(self.state_dict().items()):
            h.update(key.encode())
            h.update(value.detach().cpu().float().contiguous().numpy().tobytes())
        return h.hexdigest()[:16]

    @torch.no_grad()
    def compute_w_avg(self, n: int = 10000, seed: int = 0, batch: int = 1000) -> torch.Tensor:
        """Set `w_avg` to the mean of `n` mapped z ~ N(0, I) (used for untrained generators)."""
        z_all = z_block(n, self.z_dim, seed, self.w_avg.device)
        total = torch.zeros_like(self.w_avg)
        for start in range(0, n, batch):
            total += self.mapping(z_all[start:start + batch])[:, 0].sum(0)
        self.w_avg.copy_(total / n)
        return self.w_avg
