"""Pixel losses, one value per image."""
import torch


def mse(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error per image. x, y: [N, C, H, W] -> [N]."""
    return (x - y).square().flatten(1).mean(1)


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = 2.0) -> torch.Tensor:
    """PSNR in dB per image for images in [-1, 1] (data range 2). x, y: [N, C, H, W] -> [N]."""
    return 10 * torch.log10(data_range ** 2 / mse(x.clamp(-1, 1), y).clamp_min(1e-12))
