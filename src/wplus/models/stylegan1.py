"""StyleGAN (v1, Karras et al. 2019) generator in pure PyTorch: the model of Image2StyleGAN.

Equations of NVIDIA's TF `G_style` (final resolution, `lod` 0): mapping = pixel norm, then
dense layers with equalised learning rate (gain sqrt(2), lr multiplier 0.01) and leaky ReLU
(no output gain); synthesis = a learned 4x4 constant, then per layer: [3x3 conv (2x nearest
up-sampling before it and a [1,2,1] blur after it in the first layer of each block)], noise
scaled per channel, bias, leaky ReLU, instance normalisation, AdaIN style `x * (1 + s) + b`
with one w per layer (18 at 1024²); a 1x1 ToRGB (gain 1) at the last resolution only.
Truncation acts on the first `truncation_cutoff` (8) ws, as NVIDIA's default.

Layer names: `synthesis.b4.const`, `synthesis.b{R}.layer{0,1}.{weight, bias, noise_strength,
noise_const, affine.*}` (`b4.layer0` has no conv: it styles the constant), `synthesis.torgb`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, WplusError
from .base import NOISE_MODES, FamilyConfig, GeneratorBase, Provenance, check_positive, truncate
from .frozen import FrozenCache

SQRT2 = math.sqrt(2.0)


@dataclass(frozen=True)
class StyleGAN1Config(FamilyConfig):
    """A StyleGAN (v1) generator. Channels at resolution R: min(channel_base / R, channel_max)
    (NVIDIA's `fmap_base` is channel_base / 2: FFHQ 8192 -> 16384)."""

    family = "stylegan1"

    channel_base: int = 16384
    channel_max: int = 512
    mapping_layers: int = 8
    mapping_lr_multiplier: float = 0.01
    w_avg_beta: float = 0.995
    truncation_cutoff: int | None = 8

    def __post_init__(self) -> None:
        check_positive(self, ("z_dim", "w_dim", "channel_base", "channel_max", "mapping_layers"))
        if self.mapping_lr_multiplier <= 0 or not 0 <= self.w_avg_beta <= 1:
            raise ConfigError("mapping_lr_multiplier must be > 0 and w_avg_beta in [0, 1], got "
                              f"{self.mapping_lr_multiplier} and {self.w_avg_beta}")
        if self.truncation_cutoff is not None and self.truncation_cutoff < 1:
            raise ConfigError(f"truncation_cutoff must be None or >= 1, got {self.truncation_cutoff}")

    @property
    def num_ws(self) -> int:
        return 2 * int(math.log2(self.resolution)) - 2

    def channels(self, res: int) -> int:
        return min(self.channel_base // res, self.channel_max)


class Dense(nn.Module):
    """Equalised-lr dense layer of StyleGAN (v1): x @ W * gain * lr / sqrt(in) + b * lr."""

    def __init__(self, in_features: int, out_features: int, *, gain: float = SQRT2,
                 lr_multiplier: float = 1.0, lrelu: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.weight_gain = gain * lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier
        self.lrelu = lrelu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.weight_gain, self.bias * self.bias_gain)
        return F.leaky_relu(x, 0.2) if self.lrelu else x


class MappingNetwork(nn.Module):
    """z -> ws: pixel norm, `mapping_layers` dense layers, broadcast, truncation."""

    def __init__(self, cfg: StyleGAN1Config) -> None:
        super().__init__()
        self.cfg = cfg
        dims = [cfg.z_dim] + [cfg.w_dim] * cfg.mapping_layers
        for i in range(cfg.mapping_layers):
            setattr(self, f"fc{i}", Dense(dims[i], dims[i + 1], lr_multiplier=cfg.mapping_lr_multiplier,
                                          lrelu=True))
        self.register_buffer("w_avg", torch.zeros(cfg.w_dim))

    def forward(self, z: torch.Tensor, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None) -> torch.Tensor:
        """`truncation_cutoff` None means the config's (NVIDIA: 8 layers)."""
        x = z * (z.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()
        for i in range(self.cfg.mapping_layers):
            x = getattr(self, f"fc{i}")(x)
        cutoff = self.cfg.truncation_cutoff if truncation_cutoff is None else truncation_cutoff
        return truncate(x.unsqueeze(1).repeat(1, self.cfg.num_ws, 1), self.w_avg, truncation_psi, cutoff)


def blur121(x: torch.Tensor) -> torch.Tensor:
    """The [1,2,1] x [1,2,1] / 16 low-pass filter per channel, zero padding 1 (TF 'SAME')."""
    k = torch.tensor([1.0, 2.0, 1.0], device=x.device, dtype=x.dtype)
    k = (torch.outer(k, k) / 16)[None, None].expand(x.shape[1], 1, 3, 3)
    return F.conv2d(F.pad(x, [1, 1, 1, 1]), k, groups=x.shape[1])


def upconv_kernel(weight: torch.Tensor) -> torch.Tensor:
    """[out, in, 3, 3] -> the [in, out, 4, 4] kernel of a stride-2 transposed conv that equals
    nearest 2x up-sampling followed by a 3x3 'same' conv with `weight` (fewer multiply-adds)."""
    w = F.pad(weight.flip([2, 3]), [1, 1, 1, 1])
    k = w[..., 1:, 1:] + w[..., :-1, 1:] + w[..., 1:, :-1] + w[..., :-1, :-1]
    return k.transpose(0, 1)


class StyleLayer(nn.Module):
    """[conv], noise, bias, leaky ReLU, instance norm, style modulation (one w)."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int,
                 kind: str) -> None:
        super().__init__()
        self.kind, self.resolution = kind, resolution  # kind: const | conv | up
        if kind != "const":
            self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 3, 3))
            self.weight_gain = SQRT2 / math.sqrt(in_channels * 9)
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.noise_strength = nn.Parameter(torch.zeros(out_channels))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.affine = Dense(w_dim, 2 * out_channels, gain=1.0)
        self._cache: FrozenCache[torch.Tensor] = FrozenCache()

    def _conv_weight(self) -> torch.Tensor:
        """The scaled kernel (4x4 transposed for 'up'); cached while the weight is frozen."""
        def compute() -> torch.Tensor:
            weight = self.weight * self.weight_gain
            return upconv_kernel(weight) if self.kind == "up" else weight
        return self._cache.get(self.weight, compute, self.weight.dtype)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "const",
                noise: torch.Tensor | None = None) -> torch.Tensor:
        if self.kind == "conv":
            x = F.conv2d(x, self._conv_weight(), padding=1)
        elif self.kind == "up":
            x = blur121(F.conv_transpose2d(x, self._conv_weight(), stride=2, padding=1))
        if noise is None and noise_mode == "random":
            noise = torch.randn(x.shape[0], 1, self.resolution, self.resolution, device=x.device, dtype=x.dtype)
        elif noise is None and noise_mode == "const":
            noise = self.noise_const
        if noise is not None:
            x = x + noise * self.noise_strength[None, :, None, None]
        x = F.leaky_relu(x + self.bias[None, :, None, None], 0.2)
        x = x - x.mean(dim=[2, 3], keepdim=True)
        x = x * (x.square().mean(dim=[2, 3], keepdim=True) + 1e-8).rsqrt()
        scale, shift = self.affine(w)[:, :, None, None].chunk(2, dim=1)
        return torch.addcmul(shift, x, scale + 1)


class SynthesisBlock(nn.Module):
    """One resolution: two style layers (the first styles the constant at 4x4)."""

    def __init__(self, in_channels: int, out_channels: int, resolution: int, w_dim: int) -> None:
        super().__init__()
        if resolution == 4:
            self.const = nn.Parameter(torch.ones(out_channels, 4, 4))
        first = "const" if resolution == 4 else "up"
        self.layer0 = StyleLayer(in_channels, out_channels, w_dim, resolution, first)
        self.layer1 = StyleLayer(out_channels, out_channels, w_dim, resolution, "conv")


class SynthesisNetwork(nn.Module):
    """ws [N, num_ws, w_dim] -> images [N, 3, R, R]; layer i takes ws[:, i] and noise i."""

    def __init__(self, cfg: StyleGAN1Config) -> None:
        super().__init__()
        self.num_ws = cfg.num_ws
        self.resolutions = [2 ** i for i in range(2, int(math.log2(cfg.resolution)) + 1)]
        for res in self.resolutions:
            in_ch = cfg.channels(res) if res == 4 else cfg.channels(res // 2)
            setattr(self, f"b{res}", SynthesisBlock(in_ch, cfg.channels(res), res, cfg.w_dim))
        channels = cfg.channels(cfg.resolution)
        self.torgb = Dense(channels, 3, gain=1.0)  # a 1x1 conv: the same equations per pixel

    def layers(self) -> list[StyleLayer]:
        """All style layers (each with a noise input), in ws order."""
        return [layer for r in self.resolutions for layer in (getattr(self, f"b{r}").layer0,
                                                                getattr(self, f"b{r}").layer1)]

    def style_affines(self) -> dict[int, nn.Module]:
        """ws index -> the style affine of that layer ([2C, w_dim]: scales, then shifts)."""
        return {i: layer.affine for i, layer in enumerate(self.layers())}

    def forward(self, ws: torch.Tensor, noise_mode: str = "const",
                noise: list[torch.Tensor | None] | None = None) -> torch.Tensor:
        layers = self.layers()
        if noise_mode not in NOISE_MODES:
            raise ConfigError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        if ws.ndim != 3 or ws.shape[1] != self.num_ws:
            raise WplusError(f"ws must have shape [N, {self.num_ws}, w_dim], got {list(ws.shape)}")
        if noise is not None and len(noise) != len(layers):
            raise WplusError(f"noise must list {len(layers)} tensors, got {len(noise)}")
        x = self.b4.const.unsqueeze(0).expand(ws.shape[0], -1, -1, -1).to(ws.dtype)
        for i, layer in enumerate(layers):
            x = layer(x, ws[:, i], noise_mode, None if noise is None else noise[i])
        return F.conv2d(x, (self.torgb.weight * self.torgb.weight_gain)[:, :, None, None],
                        self.torgb.bias * self.torgb.bias_gain)


class StyleGAN1Generator(GeneratorBase):
    """StyleGAN (v1) generator: `mapping` (z -> ws) and `synthesis` (ws -> image)."""

    def __init__(self, cfg: StyleGAN1Config, provenance: Provenance = Provenance()) -> None:
        super().__init__(cfg, provenance)
        self.mapping = MappingNetwork(cfg)
        self.synthesis = SynthesisNetwork(cfg)
