"""StyleGAN3 (alias-free, Karras et al. 2021) generator in pure PyTorch, configs T and R.

Equations of the paper and NVIDIA's stylegan3 `networks_stylegan3.py`: the mapping network
of StyleGAN2; synthesis = Fourier features (frequencies and phases turned and shifted by an
affine of w[0]), then 14 modulated convolutions (weights and styles pre-normalised,
demodulated, input scaled by the tracked magnitude) each followed by a filtered leaky ReLU
(up-sample, lrelu, clamp, down-sample with Kaiser low-pass filters), a modulated 1x1 ToRGB
and an output scale of 0.25. No noise inputs. `num_ws` = 16 (14 layers + input + ToRGB).

Names follow NVIDIA's (`synthesis.input.freqs`, `synthesis.L3_52_1024.down_filter`, ...)
so its pickles map with an identity table. Filters are buffers: designed here from the
config, replaced by a checkpoint's stored ones on load.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, WplusError
from .alias_free import filtered_lrelu, lowpass_filter
from .base import NOISE_MODES, FamilyConfig, GeneratorBase, Provenance, check_positive
from .frozen import FrozenCache
from .stylegan2 import FullyConnected, MappingNetwork

SQRT2 = math.sqrt(2.0)


@dataclass(frozen=True)
class StyleGAN3Config(FamilyConfig):
    """A StyleGAN3 generator's design parameters (NVIDIA's defaults: config T; R has
    conv_kernel 1, use_radial_filters, channel_base 65536 and channel_max 1024)."""

    family = "stylegan3"

    channel_base: int = 32768
    channel_max: int = 512
    mapping_layers: int = 2
    mapping_lr_multiplier: float = 0.01
    w_avg_beta: float = 0.998
    num_layers: int = 14
    num_critical: int = 2
    first_cutoff: float = 2.0
    first_stopband: float = 2 ** 2.1
    last_stopband_rel: float = 2 ** 0.3
    margin_size: int = 10
    output_scale: float = 0.25
    conv_kernel: int = 3
    filter_size: int = 6
    lrelu_upsampling: int = 2
    use_radial_filters: bool = False
    conv_clamp: float | None = 256.0

    def __post_init__(self) -> None:
        check_positive(self, ("z_dim", "w_dim", "channel_base", "channel_max", "mapping_layers", "conv_kernel",
                              "filter_size", "lrelu_upsampling"))
        if not 0 <= self.num_critical < self.num_layers:
            raise ConfigError(f"need 0 <= num_critical < num_layers, got {self.num_critical}, {self.num_layers}")
        if self.conv_clamp is not None and self.conv_clamp <= 0:
            raise ConfigError(f"conv_clamp must be None or > 0, got {self.conv_clamp}")

    @property
    def num_ws(self) -> int:
        return self.num_layers + 2

    @classmethod
    def preset(cls, name: str, **fields) -> "StyleGAN3Config":
        """NVIDIA's published configs: 't' (translation equivariant) or 'r' (also rotation)."""
        presets = {"t": {}, "r": dict(conv_kernel=1, use_radial_filters=True, channel_base=65536, channel_max=1024)}
        if name not in presets:
            raise ConfigError(f"unknown StyleGAN3 config {name!r}: use 't' or 'r'")
        return cls(**{**presets[name], **fields})


@dataclass(frozen=True)
class LayerSpec:
    """Sizes, sampling rates, cutoffs and transition half-widths of one synthesis layer."""

    index: int
    in_channels: int
    out_channels: int
    in_size: int
    out_size: int
    in_rate: int
    out_rate: int
    in_cutoff: float
    out_cutoff: float
    in_half_width: float
    out_half_width: float
    is_torgb: bool
    is_critical: bool

    @property
    def name(self) -> str:
        return f"L{self.index}_{self.out_size}_{self.out_channels}"


def layer_specs(cfg: StyleGAN3Config) -> list[LayerSpec]:
    """Entry 0 describes the Fourier input (its `out_*`); entries 1.. the layers L0..L{num_layers}."""
    n, res = cfg.num_layers, cfg.resolution
    last_cutoff = res / 2
    exponents = [min(i / (n - cfg.num_critical), 1.0) for i in range(n + 1)]
    cutoffs = [cfg.first_cutoff * (last_cutoff / cfg.first_cutoff) ** e for e in exponents]
    last_stop = last_cutoff * cfg.last_stopband_rel
    stopbands = [cfg.first_stopband * (last_stop / cfg.first_stopband) ** e for e in exponents]
    rates = [int(2 ** math.ceil(math.log2(min(2 * s, res)))) for s in stopbands]
    half_widths = [max(s, r / 2) - c for s, r, c in zip(stopbands, rates, cutoffs)]
    sizes = [r + 2 * cfg.margin_size for r in rates]
    sizes[-2:] = [res, res]
    channels = [int(round(min((cfg.channel_base / 2) / c, cfg.channel_max))) for c in cutoffs]
    channels[-1] = 3
    specs = [LayerSpec(-1, channels[0], channels[0], sizes[0], sizes[0], rates[0], rates[0], cutoffs[0], cutoffs[0],
                       half_widths[0], half_widths[0], False, False)]
    for i in range(n + 1):
        p = max(i - 1, 0)
        specs.append(LayerSpec(i, channels[p], channels[i], sizes[p], sizes[i], rates[p], rates[i], cutoffs[p],
                               cutoffs[i], half_widths[p], half_widths[i], i == n, i >= n - cfg.num_critical))
    return specs


class SynthesisInput(nn.Module):
    """Fourier features at `size`² samples; w turns and shifts them (r_c, r_s, t_x, t_y)."""

    def __init__(self, w_dim: int, spec: LayerSpec) -> None:
        super().__init__()
        c, self.size, self.rate, self.bandwidth = spec.out_channels, spec.out_size, spec.out_rate, spec.out_cutoff
        freqs = torch.randn(c, 2)
        radii = freqs.norm(dim=1, keepdim=True)
        freqs = freqs / (radii * radii.square().exp().pow(0.25)) * self.bandwidth
        self.weight = nn.Parameter(torch.randn(c, c))
        self.affine = FullyConnected(w_dim, 4)
        with torch.no_grad():
            self.affine.weight.zero_()
            self.affine.bias.copy_(torch.tensor([1.0, 0.0, 0.0, 0.0]))
        self.register_buffer("transform", torch.eye(3))
        self.register_buffer("freqs", freqs)
        self.register_buffer("phases", torch.rand(c) - 0.5)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        t = self.affine(w)
        t = t / t[:, :2].norm(dim=1, keepdim=True)
        n = w.shape[0]
        rot = torch.eye(3, device=w.device).repeat(n, 1, 1)
        rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1] = t[:, 0], -t[:, 1], t[:, 1], t[:, 0]
        shift = torch.eye(3, device=w.device).repeat(n, 1, 1)
        shift[:, 0, 2], shift[:, 1, 2] = -t[:, 2], -t[:, 3]
        transforms = rot @ shift @ self.transform
        phases = self.phases + (self.freqs @ transforms[:, :2, 2:]).squeeze(2)  # [N, C]
        freqs = self.freqs @ transforms[:, :2, :2]  # [N, C, 2]
        amplitudes = (1 - (freqs.norm(dim=2) - self.bandwidth) / (self.rate / 2 - self.bandwidth)).clamp(0, 1)
        coords = (torch.arange(self.size, device=w.device, dtype=w.dtype) + 0.5 - self.size / 2) / self.rate
        x = (coords[None, None, :, None] * freqs[:, None, None, :, 0]
             + coords[None, :, None, None] * freqs[:, None, None, :, 1])  # [N, H, W, C]
        x = torch.sin((x + phases[:, None, None, :]) * (2 * math.pi)) * amplitudes[:, None, None, :]
        x = x @ (self.weight / math.sqrt(self.weight.shape[0])).t()
        return x.permute(0, 3, 1, 2)


class SynthesisLayer(nn.Module):
    """Modulated conv (ToRGB: 1x1, not demodulated), then the filtered leaky ReLU."""

    def __init__(self, cfg: StyleGAN3Config, spec: LayerSpec) -> None:
        super().__init__()
        self.is_torgb, self.conv_clamp = spec.is_torgb, cfg.conv_clamp
        self.kernel = 1 if spec.is_torgb else cfg.conv_kernel
        self.affine = FullyConnected(cfg.w_dim, spec.in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(spec.out_channels, spec.in_channels, self.kernel, self.kernel))
        self.bias = nn.Parameter(torch.zeros(spec.out_channels))
        self.register_buffer("magnitude_ema", torch.ones([]))
        self._cache: FrozenCache[tuple[torch.Tensor, torch.Tensor]] = FrozenCache()
        tmp_rate = max(spec.in_rate, spec.out_rate) * (1 if spec.is_torgb else cfg.lrelu_upsampling)
        self.up, self.down = tmp_rate // spec.in_rate, tmp_rate // spec.out_rate
        up_taps = cfg.filter_size * self.up if self.up > 1 and not spec.is_torgb else 1
        down_taps = cfg.filter_size * self.down if self.down > 1 and not spec.is_torgb else 1
        radial = cfg.use_radial_filters and not spec.is_critical
        self.register_buffer("up_filter", lowpass_filter(up_taps, spec.in_cutoff, spec.in_half_width * 2, tmp_rate))
        self.register_buffer("down_filter", lowpass_filter(down_taps, spec.out_cutoff, spec.out_half_width * 2,
                                                           tmp_rate, radial))
        total = ((spec.out_size - 1) * self.down + 1 - (spec.in_size + self.kernel - 1) * self.up
                 + up_taps + down_taps - 2)
        lo = (total + self.up) // 2  # the symmetric sample positions of the paper's appendix C.3
        self.padding = [lo, total - lo, lo, total - lo]

    def _weight_terms(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(conv weight, its squares summed over the kernel [out, in]); ToRGB's as stored, the
        others normalised to unit RMS per output channel. Cached while the weight is frozen."""
        def compute() -> tuple[torch.Tensor, torch.Tensor]:
            weight = self.weight
            if not self.is_torgb:
                weight = weight * weight.square().mean(dim=[1, 2, 3], keepdim=True).rsqrt()
            return weight, weight.square().sum(dim=[2, 3])
        return self._cache.get(self.weight, compute, self.weight.dtype)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # [N, in]
        weight, weight_sq = self._weight_terms()
        if self.is_torgb:
            styles = styles / math.sqrt(weight.shape[1] * self.kernel ** 2)
        else:  # pre-normalisation (per sample here: NVIDIA's batch-wide style RMS cancels in demodulation)
            styles = styles * styles.square().mean(dim=1, keepdim=True).rsqrt()
        x = F.conv2d(x * (styles * self.magnitude_ema.rsqrt())[:, :, None, None], weight, padding=self.kernel - 1)
        if not self.is_torgb:
            dcoefs = (styles.square() @ weight_sq.t() + 1e-8).rsqrt()  # [N, out]
            x = x * dcoefs[:, :, None, None]
        return filtered_lrelu(x, self.up_filter, self.down_filter, self.bias, self.up, self.down, self.padding,
                              gain=1.0 if self.is_torgb else SQRT2, slope=1.0 if self.is_torgb else 0.2,
                              clamp=self.conv_clamp)


class SynthesisNetwork(nn.Module):
    """ws [N, num_ws, w_dim] -> images [N, 3, R, R]; ws[:, 0] feeds the input, ws[:, i] layer i-1."""

    def __init__(self, cfg: StyleGAN3Config) -> None:
        super().__init__()
        self.num_ws, self.output_scale = cfg.num_ws, cfg.output_scale
        specs = layer_specs(cfg)
        self.input = SynthesisInput(cfg.w_dim, specs[0])
        self.layer_names = [spec.name for spec in specs[1:]]
        for spec in specs[1:]:
            setattr(self, spec.name, SynthesisLayer(cfg, spec))

    def layers(self) -> list[nn.Module]:
        """Noise-carrying layers: none in StyleGAN3."""
        return []

    def style_affines(self) -> dict[int, nn.Module]:
        """ws index -> a modulated conv's style affine: L0..L13 take ws[:, 1..14] (ws[:, 0] turns
        and shifts the Fourier input, ws[:, 15] feeds ToRGB)."""
        return {i + 1: getattr(self, name).affine for i, name in enumerate(self.layer_names[:-1])}

    def forward(self, ws: torch.Tensor, noise_mode: str = "const",
                noise: list[torch.Tensor | None] | None = None) -> torch.Tensor:
        if noise_mode not in NOISE_MODES:
            raise ConfigError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        if noise:
            raise WplusError("StyleGAN3 has no noise inputs: pass noise=None (use the z, w or w+ space)")
        if ws.ndim != 3 or ws.shape[1] != self.num_ws:
            raise WplusError(f"ws must have shape [N, {self.num_ws}, w_dim], got {list(ws.shape)}")
        x = self.input(ws[:, 0])
        for i, name in enumerate(self.layer_names):
            x = getattr(self, name)(x, ws[:, i + 1])
        return x * self.output_scale


class StyleGAN3Generator(GeneratorBase):
    """StyleGAN3 generator: `mapping` (z -> ws, as StyleGAN2's) and `synthesis` (ws -> image)."""

    def __init__(self, cfg: StyleGAN3Config, provenance: Provenance = Provenance()) -> None:
        super().__init__(cfg, provenance)
        self.mapping = MappingNetwork(cfg)  # type: ignore[arg-type]  # same fields as StyleGAN2's
        self.synthesis = SynthesisNetwork(cfg)
