"""MS-SSIM per image (pytorch-msssim), with the window shrunk so small images work too."""
import torch
from pytorch_msssim import ms_ssim, ssim


def ms_ssim_per_image(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """MS-SSIM (5 scales) of images in [-1, 1]: [N, C, H, W] -> [N], 1 = identical.

    pytorch-msssim needs side > 16 (win - 1); the Gaussian window shrinks from 11 to fit,
    and images under 33 px fall back to single-scale SSIM with a 3-7 px window.
    """
    x, y = (x.clamp(-1, 1) + 1) / 2, (y + 1) / 2
    side = min(x.shape[-2:])
    win = 11
    while win > 3 and (win - 1) * 16 >= side:
        win -= 2
    if (win - 1) * 16 < side:
        return ms_ssim(x, y, data_range=1.0, size_average=False, win_size=win)
    win = max(3, min(7, side // 4 * 2 - 1))
    return ssim(x, y, data_range=1.0, size_average=False, win_size=win)
