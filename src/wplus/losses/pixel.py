"""Pixel losses, one value per image."""
import torch


def mse(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error per image. x, y: [N, C, H, W] -> [N]."""
    return (x - y).square().flatten(1).mean(1)


def masked_mse(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error per image weighted by `mask` [N, 1, H, W] (1 = counts, 0 = ignored,
    between: a weight), normalised by the mask's total weight. x, y: [N, C, H, W] -> [N]."""
    weights = mask.expand_as(x)
    return ((x - y).square() * weights).flatten(1).sum(1) / weights.flatten(1).sum(1).clamp_min(1e-12)


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = 2.0) -> torch.Tensor:
    """PSNR in dB per image for images in [-1, 1] (data range 2). x, y: [N, C, H, W] -> [N]."""
    return 10 * torch.log10(data_range ** 2 / mse(x.clamp(-1, 1), y).clamp_min(1e-12))
