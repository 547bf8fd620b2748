"""Labelled editing directions in W, the InterFaceGAN way (Shen et al. 2020).

Sample codes, measure an attribute on their images, keep the samples where it is highest and
lowest, fit a linear classifier between the two groups: the unit normal of its hyperplane is the
direction that raises the attribute. `condition` removes from a direction its components along
others, so that moving along it changes one attribute and not the others (to first order).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import WplusError
from ..seeds import z_block
from .attributes import measure


@dataclass(frozen=True)
class BoundaryInfo:
    """How a boundary was fitted: group sizes, attribute thresholds, and accuracies."""
    n_valid: int  # samples with a finite attribute value
    n_train: int
    n_val: int
    low: float  # samples with values <= low form the negative group
    high: float  # samples with values >= high form the positive group
    train_accuracy: float
    val_accuracy: float  # on the held-out part of the two groups


def _extremes(values: torch.Tensor, fraction: float) -> tuple[torch.Tensor, torch.Tensor, float, float]:
    """Indices of the lowest and highest `fraction / 2` of the finite values, and the thresholds."""
    finite = torch.nonzero(torch.isfinite(values)).squeeze(1)
    k = int(len(finite) * fraction / 2)
    if k < 4:
        raise WplusError(f"only {len(finite)} samples have a finite value: too few for fraction {fraction}; "
                         "sample more or raise the fraction")
    order = finite[torch.argsort(values[finite], stable=True)]
    lo, hi = order[:k], order[-k:]
    return lo, hi, float(values[lo[-1]]), float(values[hi[0]])


def _logistic(x: torch.Tensor, y: torch.Tensor, l2: float, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Full-batch L-BFGS logistic regression: weights [D] and bias minimising
    mean softplus(-y (x a + b)) + l2 / 2 |a|^2, for labels y in {-1, +1}."""
    a = torch.zeros(x.shape[1], dtype=x.dtype, requires_grad=True)
    b = torch.zeros((), dtype=x.dtype, requires_grad=True)
    opt = torch.optim.LBFGS([a, b], lr=1, max_iter=steps, tolerance_grad=1e-9, tolerance_change=1e-12,
                            history_size=20, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.softplus(-y * (x @ a + b)).mean() + l2 / 2 * a.square().sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return a.detach(), b.detach()



def fit_boundary(w: torch.Tensor, values: torch.Tensor, fraction: float = 0.3, val_fraction: float = 0.2,
                 l2: float = 1e-3, steps: int = 500, seed: int = 0) -> tuple[torch.Tensor, BoundaryInfo]:
    """Fit a linear boundary between low and high values of an attribute.

    Keeps the samples with the lowest and highest `fraction / 2` of the finite values (NaN are
    ignored), standardises W on the training part, fits L2-penalised logistic regression, and
    reports its accuracy on a held-out `val_fraction` of the kept samples. The normal is the
    classifier's (a filter): in a strongly anisotropic W its components along directions in
    which W barely varies are damped by the penalty, and its edits change the attribute less per
    unit of W than the difference of the two groups' means, but entangle it less with others.

    Args:
        w: latent codes (one W vector per sample).
        values: the attribute of each sample's image.
        fraction: share of the finite samples kept, half from each end (InterFaceGAN: 0.02 of
            500 000; 0.3 suits a few thousand samples).
        val_fraction: share of the kept samples held out for `val_accuracy`.
        l2: weight of the L2 penalty on the standardised weights.
        steps: L-BFGS iterations.
        seed: the train/validation split's seed.

    Shape:
        w: [N, w_dim]; values: [N]; normal: [w_dim].

    Returns:
        `(normal, info)`: the unit normal in W pointing towards higher values (float32), and a
        `BoundaryInfo`.
    """
    if w.ndim != 2 or values.shape != (len(w),):
        raise WplusError(f"fit_boundary needs w [N, w_dim] and values [N], got {list(w.shape)} and "
                         f"{list(values.shape)}")
    if not 0 < fraction <= 1 or not 0 < val_fraction < 1:
        raise WplusError(f"fraction must be in (0, 1] and val_fraction in (0, 1), got {fraction} and {val_fraction}")
    w, values = w.detach().double().cpu(), values.detach().double().cpu()
    lo, hi, low, high = _extremes(values, fraction)
    if not high > low:
        raise WplusError(f"the attribute does not vary among the kept samples (all {low:g}); "
                         "it cannot define a direction")
    idx = torch.cat([lo, hi])
    labels = torch.cat([-torch.ones(len(lo)), torch.ones(len(hi))]).double()
    perm = torch.randperm(len(idx), generator=torch.Generator().manual_seed(seed))
    n_val = max(1, int(round(len(idx) * val_fraction)))
    val, train = perm[:n_val], perm[n_val:]
    mean, std = w[idx[train]].mean(0), w[idx[train]].std(0).clamp_min(1e-12)
    x = (w[idx] - mean) / std
    a, b = _logistic(x[train], labels[train], l2, steps)
    correct = torch.sign(x @ a + b) == labels
    normal = a / std  # the hyperplane a . (w - mean) / std + b = 0 has normal a / std in W
    info = BoundaryInfo(len(torch.nonzero(torch.isfinite(values))), len(train), n_val, low, high,
                        float(correct[train].double().mean()), float(correct[val].double().mean()))
    return (normal / normal.norm()).float(), info


def condition(primary: torch.Tensor, *others: torch.Tensor) -> torch.Tensor:
    """Project `primary` orthogonally to the span of `others`, renormalised (InterFaceGAN's
    conditional manipulation: edit one attribute, leave the others unchanged).

    Shape:
        primary, each of others: [w_dim]; returns [w_dim].
    """
    if primary.ndim != 1 or any(o.shape != primary.shape for o in others):
        raise WplusError(f"condition needs directions of one shape [w_dim], got {[list(primary.shape)]} "
                         f"and {[list(o.shape) for o in others]}")
    p = primary.detach().double()
    if others:
        basis, s, _ = torch.linalg.svd(torch.stack([o.detach().double() for o in others], dim=1),
                                       full_matrices=False)
        tol = s.max() * torch.finfo(primary.dtype).eps * 100  # the precision of the inputs
        basis = basis[:, s > tol]  # an orthonormal basis of their span
        p = p - basis @ (basis.T @ p)
    norm = p.norm()
    if norm <= 1e-6 * primary.detach().double().norm().clamp_min(1e-30):
        raise WplusError("the primary direction lies in the span of the conditions; drop a condition")
    return (p / norm).to(primary.dtype)


@torch.no_grad()
def sample_attributes(G: torch.nn.Module, n: int, seed: int = 0, batch: int = 64,
                      truncation_psi: float = 1.0, progress: Callable[[int, int], None] | None = None,
                      **measure_options) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Seeded samples of a generator with the attributes of their images.

    Args:
        G: a generator (`mapping`, `synthesis`, `z_dim`).
        n: number of samples.
        seed: seed of the z block (`wplus.seeds.z_block`): the same seed gives the same samples.
        batch: samples generated and measured at a time.
        truncation_psi: passed to `G.mapping`.
        progress: called with (samples done, n) after each batch.
        measure_options: passed to `attributes.measure` (e.g. `detect_size`).

    Shape:
        w: [n, w_dim] (float32, CPU); each attribute: [n].

    Returns:
        `(w, attributes)`: the W code of each sample (its first W+ layer) and name -> values.
    """
    if n < 1 or batch < 1:
        raise WplusError(f"n and batch must be positive, got n={n}, batch={batch}")
    device = next(G.parameters()).device
    z = z_block(n, G.z_dim, seed)
    codes, parts = [], []
    for start in range(0, n, batch):
        ws = G.mapping(z[start:start + batch].to(device), truncation_psi=truncation_psi)
        images = G.synthesis(ws, noise_mode="const")
        codes.append(ws[:, 0].float().cpu())
        parts.append(measure(images, **measure_options))
        if progress is not None:
            progress(min(start + batch, n), n)
    values = {name: torch.cat([p[name] for p in parts]) for name in parts[0]}
    return torch.cat(codes), values
