"""Figures of the default model's card, each side by side with the DCGAN teacher.

- detection rate: share of samples in which MTCNN finds a face with probability >= 0.9;
- Fréchet distance between model and teacher samples in MTCNN O-Net's 256-d feature space
  (the whole 64x64 sample resized to O-Net's 48x48 input; output of dense5 after its PReLU),
  with teacher-vs-teacher (two independent sample sets) as the floor;
- embeddability: held-out teacher samples embedded into the model in Z, W and W+;
- style mixing: how much the image changes (RMS) when coarse (4², 8²) or fine (32², 64²) style
  layers come from another sample, and which share of that change is a uniform colour shift.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..editing import mix
from ..editing.spectrum import uniform_shift_share
from ..inversion import embed
from ..io.images import to_uint8
from ..io.mtcnn import MTCNN
from ..losses import psnr
from ..losses.ssim import ms_ssim_per_image
from ..seeds import z_block


def sample(fn, z_dim: int, n: int, seed: int, batch: int = 250) -> torch.Tensor:
    z = z_block(n, z_dim, seed)
    with torch.no_grad():
        return torch.cat([fn(z[start:start + batch]).clamp(-1, 1) for start in range(0, n, batch)])


def detection_rate(images: torch.Tensor, detector: MTCNN, threshold: float = 0.9) -> float:
    hits = sum(any(f.probability >= threshold for f in detector.detect(a)) for a in to_uint8(images))
    return hits / len(images)


def onet_features(images: torch.Tensor, detector: MTCNN) -> np.ndarray:
    x = F.interpolate((images + 1) * 127.5, size=(48, 48), mode="area")
    x = (x - 127.5) * 0.0078125
    with torch.no_grad():
        feats = [detector.nets["onet"].features(chunk) for chunk in x.split(500)]
    return torch.cat(feats).double().numpy()


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2), via symmetric eigensolves."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    vals, vecs = np.linalg.eigh(s_a)
    root_a = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    cross = np.linalg.eigvalsh(root_a @ s_b @ root_a)
    cross_term = 2 * np.sqrt(np.clip(cross, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - cross_term)


def embeddability(G, targets: torch.Tensor, steps: int) -> dict[str, tuple[float, float, torch.Tensor]]:
    """space -> (mean PSNR dB, mean MS-SSIM, reconstructions) of embedding `targets` with the
    default settings."""
    out = {}
    for space in ("z", "w", "w+"):
        r = embed(G, targets, space=space, steps=steps)
        images = r.images.clamp(-1, 1)
        out[space] = (psnr(images, targets).mean().item(), ms_ssim_per_image(images, targets).mean().item(), images)
    return out


def style_mixing(G, n: int, seed: int, coarse: range = range(0, 4), fine: range | None = None
                 ) -> tuple[dict[str, tuple[float, float]], torch.Tensor]:
    """{'coarse'|'fine': (RMS change, uniform colour-shift share of it)} when `coarse` layers
    (or `fine` ones, default the last four) come from another sample; and figure rows
    [content, style, coarse mix, fine mix], n images each."""
    fine = fine or range(G.num_ws - 4, G.num_ws)
    z = z_block(2 * n, G.z_dim, seed)
    with torch.no_grad():
        ws = G.mapping(z)
        content, style = ws[:n], ws[n:]
        render = lambda w: G.synthesis(w, noise_mode="const").clamp(-1, 1)
        base, rows, stats = render(content), [render(content), render(style)], {}
        for name, layers in (("coarse", coarse), ("fine", fine)):
            rows.append(render(mix(content, style, layers)))
            diff = rows[-1] - base
            stats[name] = (diff.square().mean().sqrt().item(), uniform_shift_share(diff))
    return stats, torch.cat(rows)
