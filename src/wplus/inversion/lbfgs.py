"""L-BFGS per image over a batch, one evaluation per step, without host syncs.

Each image has its own curvature pairs (s = x_k - x_{k-1}, y = g_k - g_{k-1}), its own step
length and its own accept/reject decision, so its trajectory does not depend on its
batch-mates (as with Adam). A step needs exactly one forward and backward of the batch, like an
Adam step, instead of a line search's varying number:
  - the point just evaluated is accepted when its loss is not above the last accepted one's;
    its pair is stored when s·y > 0 (the curvature condition), the direction d = -H g comes
    from the stored pairs, and the next point is x + d (step length 1);
  - a rejected point is replaced by the last accepted point plus half the previous step;
  - no entry of the latent moves by more than `max_step` in one step; the first step (and any
    step after a direction that is not a descent direction, when that image's pairs are
    dropped) is steepest descent moving the largest entry by `lr`.
H is the compact L-BFGS form (Byrd, Nocedal, Schnabel 1994), with H0 = gamma I, gamma =
s·y / y·y of the newest pair:
    H g = gamma g + S p - gamma Y u,  u = R^-1 (S^T g),  p = R^-T ((D + gamma Y^T Y) u - gamma Y^T g)
where R is the upper triangle of S^T Y and D its diagonal; S^T Y and Y^T Y are updated one row
and column per stored pair, so a step costs a few [N, m, D] products whatever the memory m.
"""
from __future__ import annotations

import torch


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum(-1)


class BatchedLBFGS:
    """Per-image L-BFGS on `param` [N, ...] (the batch is dim 0). Call `step(loss)` after the
    backward pass of the point `param` holds, with that point's per-image loss [N]."""

    def __init__(self, param: torch.Tensor, lr: float, history: int = 100, max_step: float = 0.5) -> None:
        n, self.param, self.lr, self.max_step = len(param), param, lr, max_step
        d, m, dev = param[0].numel(), history, param.device
        self.S = torch.zeros(n, m, d, device=dev)  # pairs, oldest first; unused slots are zero
        self.Y = torch.zeros(n, m, d, device=dev)
        self.SY = torch.zeros(n, m, m, device=dev)  # S Y^T: SY[i, j] = s_i . y_j
        self.YY = torch.zeros(n, m, m, device=dev)
        self.count = torch.zeros(n, dtype=torch.long, device=dev)
        self.x = param.detach().reshape(n, d).clone()  # last accepted point, its gradient, loss
        self.g = torch.zeros(n, d, device=dev)
        self.f = torch.full((n,), float("inf"), device=dev)
        self.direction = torch.zeros(n, d, device=dev)
        self.length = torch.ones(n, device=dev)

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.param.grad = None

    @torch.no_grad()
    def step(self, loss: torch.Tensor) -> None:
        n = len(self.param)
        x, g = self.param.detach().reshape(n, -1), self.param.grad.reshape(n, -1)
        accept = (loss <= self.f) & torch.isfinite(loss) & torch.isfinite(g).all(-1)
        s, y = x - self.x, g - self.g
        sy = _dot(s, y)
        curved = accept & torch.isfinite(self.f) & (sy > 1e-10 * s.norm(dim=-1) * y.norm(dim=-1))
        self._push(curved, s, y)
        keep = accept[:, None]
        self.x, self.g = torch.where(keep, x, self.x), torch.where(keep, g, self.g)
        self.f = torch.where(accept, loss, self.f)
        self.direction = torch.where(keep, self._direction(self.g), self.direction)
        self.length = torch.where(accept, torch.ones_like(self.length), self.length / 2)
        move = self.length[:, None] * self.direction
        move = move * (self.max_step / move.abs().amax(-1, keepdim=True).clamp_min(self.max_step))
        self.param.copy_((self.x + move).view_as(self.param))

    def _push(self, where: torch.Tensor, s: torch.Tensor, y: torch.Tensor) -> None:
        """Append the pair (s, y) for the images in `where`, dropping their oldest."""
        S = torch.cat([self.S[:, 1:], s[:, None]], 1)
        Y = torch.cat([self.Y[:, 1:], y[:, None]], 1)
        SY = self.SY[:, 1:, 1:]
        SY = torch.cat([torch.cat([SY, (S[:, :-1] @ y[:, :, None])], 2), (Y @ s[:, :, None]).transpose(1, 2)], 1)
        YY = torch.cat([torch.cat([self.YY[:, 1:, 1:], (Y[:, :-1] @ y[:, :, None])], 2),
                        (Y @ y[:, :, None]).transpose(1, 2)], 1)
        w3 = where[:, None, None]
        self.S, self.Y = torch.where(w3, S, self.S), torch.where(w3, Y, self.Y)
        self.SY, self.YY = torch.where(w3, SY, self.SY), torch.where(w3, YY, self.YY)
        self.count = torch.where(where, (self.count + 1).clamp_max(self.S.shape[1]), self.count)

    def _direction(self, g: torch.Tensor) -> torch.Tensor:
        """-H g per image; steepest descent (largest entry moved by lr) where there are no pairs
        or H g is not a descent direction (those images' pairs are dropped)."""
        m = self.S.shape[1]
        steepest = g * (self.lr / g.abs().amax(-1, keepdim=True).clamp_min(1e-30))
        used = torch.arange(m, device=g.device)[None, :] >= (m - self.count)[:, None]  # [N, m]
        gamma = (self.SY[:, -1, -1] / self.YY[:, -1, -1].clamp_min(1e-30))[:, None]
        R = torch.triu(self.SY).double()
        R = R + torch.diag_embed((~used).double())  # unused slots: identity rows, decoupled
        a = (self.S @ g[:, :, None]).double()  # S^T g  [N, m, 1]
        b = gamma.double()[:, :, None] * (self.Y @ g[:, :, None]).double()
        u = torch.linalg.solve_triangular(R, a, upper=True)
        inner = torch.diagonal(self.SY, dim1=1, dim2=2).double()[:, :, None] * u
        inner = inner + gamma.double()[:, :, None] * (self.YY.double() @ u) - b
        p = torch.linalg.solve_triangular(R.transpose(1, 2), inner, upper=False)
        hg = gamma * g + (self.S.transpose(1, 2) @ p.float()).squeeze(-1) \
            - gamma * (self.Y.transpose(1, 2) @ u.float()).squeeze(-1)
        fine = (self.count > 0) & (_dot(hg, g) > 0) & torch.isfinite(hg).all(-1)
        self._forget(~fine & (self.count > 0))
        return -torch.where(fine[:, None], hg, steepest)

    def _forget(self, where: torch.Tensor) -> None:
        w3 = where[:, None, None]
        self.S, self.Y = self.S.masked_fill(w3, 0), self.Y.masked_fill(w3, 0)
        self.SY, self.YY = self.SY.masked_fill(w3, 0), self.YY.masked_fill(w3, 0)
        self.count = self.count.masked_fill(where, 0)
