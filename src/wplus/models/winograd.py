"""3x3 convolutions by Winograd's minimal filtering F(4x4, 3x3) for frozen weights on CPU.

A direct 3x3 convolution costs 9 multiply-adds per output and input channel; F(4x4, 3x3)
computes each 4x4 output tile from a 6x6 input tile with 36, i.e. 2.25 per output: 4x fewer
in the channel-mixing matrix products, which dominate when both channel counts are large.
oneDNN already runs the direct form near the CPU's peak, so this is the only way a CPU step
at config-f widths gets faster (measured fwd+bwd at 64², 512 channels: 2.1x; see
docs/benchmarks.md). The input and output transforms are memory-bound, so small channel
counts lose: `eligible` allows it only where it was measured faster.

Correlation (what `F.conv2d` computes), stride 1, padding 1. Only the input gets a gradient
(the weights are frozen), and that gradient is the same kind of convolution with the weights
turned 180° and in/out swapped, so forward and backward share one routine. fp32 error
against `F.conv2d`: about 1e-5 of the output's largest magnitude.
"""
from __future__ import annotations

import os

import torch
import torch.nn.functional as F

from .frozen import FrozenCache

_BT = ((4, 0, -5, 0, 1, 0), (0, -4, -4, 1, 1, 0), (0, 4, -4, -1, 1, 0),
       (0, -2, -1, 2, 1, 0), (0, 2, -1, -2, 1, 0), (0, 4, 0, -5, 0, 1))
_G = ((1 / 4, 0, 0), (-1 / 6, -1 / 6, -1 / 6), (-1 / 6, 1 / 6, -1 / 6),
      (1 / 24, 1 / 12, 1 / 6), (1 / 24, -1 / 12, 1 / 6), (0, 0, 1))
_AT = ((1, 1, 1, 1, 1, 0), (0, 1, -1, 2, -2, 0), (0, 1, 1, 4, 4, 0), (0, 1, -1, 8, -8, 1))
TILE = 4  # output pixels per tile side
MIN_CHANNELS = 256  # measured: 2x faster at 256-512 channels, slower at 64-128
TILES_PER_CHUNK = 64  # tiles transformed together: keeps a chunk's working set in cache


def _kron(m: tuple) -> torch.Tensor:
    t = torch.tensor(m, dtype=torch.float64)
    return torch.kron(t, t).float()


_B2, _A2 = _kron(_BT), _kron(_AT)  # [36, 36], [16, 36]: both 1-D transforms as one matrix


def enabled() -> bool:
    """Off with WPLUS_NO_WINOGRAD=1 (for exact comparisons with other implementations)."""
    return not os.environ.get("WPLUS_NO_WINOGRAD")


def eligible(weight: torch.Tensor, x: torch.Tensor) -> bool:
    """Whether `conv2d(x, weight, padding=1)` should run here: frozen fp32 3x3 weights with
    at least MIN_CHANNELS in and out, a CPU input of at least one 8x8 block of tiles, not
    under torch.compile (its unrolled tile loop would be a huge graph, recomputing the
    weight transforms every step)."""
    return (enabled() and x.device.type == "cpu" and x.dtype == torch.float32 and not weight.requires_grad
            and not torch.compiler.is_compiling() and weight.shape[2:] == (3, 3)
            and min(weight.shape[:2]) >= MIN_CHANNELS and min(x.shape[2:]) >= 8 * TILE)


def transform_weight(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(forward, backward) weights in the Winograd domain, each [36, in, out], from a
    [out, in, 3, 3] conv weight (the backward one: turned 180°, in and out swapped)."""
    g = torch.tensor(_G, dtype=torch.float64, device=weight.device)

    def domain(w: torch.Tensor) -> torch.Tensor:
        u = torch.einsum("ap,oipq,bq->abio", g, w.double(), g)  # [6, 6, in, out]
        return u.reshape(36, w.shape[1], w.shape[0]).float().contiguous()

    return domain(weight), domain(weight.flip(2, 3).transpose(0, 1))


def _convolve(x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """conv2d(x, w, padding=1) from w's Winograd form `u` [36, in, out]; x [N, in, H, W]."""
    n, _, h, w = x.shape
    c, k = u.shape[1:]
    th, tw = -(-h // TILE), -(-w // TILE)
    rows = max(1, TILES_PER_CHUNK // tw)
    b2, a2 = _B2.to(x.device), _A2.to(x.device)
    padded = F.pad(x.permute(0, 2, 3, 1), (0, 0, 1, TILE * tw + 1 - w, 1, TILE * th + 1 - h))  # [N, H', W', in]
    out = x.new_empty(n, TILE * th, TILE * tw, k)
    for i in range(n):
        for r0 in range(0, th, rows):
            r = min(rows, th - r0)
            tiles = padded[i:i + 1, TILE * r0:TILE * (r0 + r) + 2].unfold(1, 6, TILE).unfold(2, 6, TILE)
            d = tiles.permute(4, 5, 0, 1, 2, 3).reshape(36, r * tw * c)  # [6*6, tiles * in]
            v = (b2 @ d).view(36, r * tw, c)
            m = torch.bmm(v, u)  # [36, tiles, out]
            y = (a2 @ m.view(36, -1)).view(TILE, TILE, r, tw, k)
            out[i, TILE * r0:TILE * (r0 + r)] = y.permute(2, 0, 3, 1, 4).reshape(TILE * r, TILE * tw, k)
    out = out[:, :h, :w].permute(0, 3, 1, 2)
    return out.contiguous(memory_format=torch.channels_last)


class _WinogradConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, u: torch.Tensor, u_back: torch.Tensor) -> torch.Tensor:
        ctx.u_back = u_back
        return _convolve(x, u)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        return _convolve(grad, ctx.u_back), None, None


class TransformCache(FrozenCache):
    """One layer's `transform_weight`, recomputed only when its weight changes (in place too)."""

    def get(self, weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return super().get(weight, lambda: transform_weight(weight.detach()))


def conv3x3(x: torch.Tensor, transformed: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """`F.conv2d(x, w, padding=1)` for frozen `w`, given `transform_weight(w)`; differentiable
    in `x` only."""
    return _WinogradConv.apply(x, *transformed)
