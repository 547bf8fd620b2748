"""Where an edit acts, measured on the difference it makes to the image [N, C, H, W].

Swapping early (coarse) style layers should change large structures (pose, face shape);
swapping late (fine) layers should change colour scheme and detail. On a trained StyleGAN
the fine layers' change is mostly a uniform colour shift (`uniform_shift_share`); on an
untrained one, where colours mean nothing yet, it is relatively richer in high spatial
frequencies (`high_frequency_share`).
"""
from __future__ import annotations

import torch


def high_frequency_share(diff: torch.Tensor, cutoff: float = 0.25) -> float:
    """Fraction of the spectral energy of `diff` with |f_x| or |f_y| >= `cutoff` cycles per
    pixel (summed over images and channels)."""
    spec = torch.fft.fft2(diff.float()).abs().square().sum(dim=(0, 1))
    fy, fx = torch.meshgrid(torch.fft.fftfreq(diff.shape[-2]), torch.fft.fftfreq(diff.shape[-1]), indexing="ij")
    low = spec[(fy.abs() < cutoff) & (fx.abs() < cutoff)].sum()
    return float(1 - low / spec.sum())


def uniform_shift_share(diff: torch.Tensor) -> float:
    """Fraction of the energy of `diff` in its per-image, per-channel mean: the part of the
    change that shifts each colour channel uniformly over the image (frequency zero)."""
    diff = diff.float()
    return float(diff.mean(dim=(2, 3)).square().sum() * diff.shape[-1] * diff.shape[-2] / diff.square().sum())
