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
where R is the upper triangle of S^T Y (pairs oldest first) and D its diagonal. The pairs sit in
a ring per image; S^T Y and Y^T Y are updated one row and column per stored pair and put in
order for the small solves, so a step costs a few vector-matrix products of [N, m, D] whatever
the memory m, and no copy of the pairs.
"""
from __future__ import annotations

import torch


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum(-1)


def _coefs(M: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """[N, m, D], [N, D] -> [N, m]: each row of M dotted with v (row-vector form: fast on CPU)."""
    return (v[:, None, :] @ M.transpose(1, 2)).squeeze(1)


def _combine(c: torch.Tensor, M: torch.Tensor) -> torch.Tensor:
    """[N, m], [N, m, D] -> [N, D]: sum_k c_k M_k."""
    return (c[:, None, :] @ M).squeeze(1)


def _reorder(A: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """[N, m, m] with rows and columns taken in `order` [N, m]."""
    m = A.shape[1]
    A = A.gather(1, order[:, :, None].expand(-1, -1, m))
    return A.gather(2, order[:, None, :].expand(-1, m, -1))


class BatchedLBFGS:
    """Per-image L-BFGS on `param` [N, ...] (the batch is dim 0). Call `step(loss)` after the
    backward pass of the point `param` holds, with that point's per-image loss [N]."""

    def __init__(self, param: torch.Tensor, lr: float, history: int = 100, max_step: float = 0.5) -> None:
        n, self.param, self.lr, self.max_step = len(param), param, lr, max_step
        d, m, dev = param[0].numel(), history, param.device
        self.S = torch.zeros(n, m, d, device=dev)  # pairs in a ring per image; slot `head` is next
        self.Y = torch.zeros(n, m, d, device=dev)
        self.SY = torch.zeros(n, m, m, device=dev)  # by slot: SY[i, j] = s_i . y_j
        self.YY = torch.zeros(n, m, m, device=dev)
        self.head = torch.zeros(n, dtype=torch.long, device=dev)
        self.count = torch.zeros(n, dtype=torch.long, device=dev)
        self.rows = torch.arange(n, device=dev)
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
        """Store the pair (s, y) in the images' next ring slot (over their oldest) where `where`."""
        rows, slot, w = self.rows, self.head, where[:, None]
        self.S[rows, slot] = torch.where(w, s, self.S[rows, slot])
        self.Y[rows, slot] = torch.where(w, y, self.Y[rows, slot])
        for M, row, col in ((self.SY, _coefs(self.Y, s), _coefs(self.S, y)),
                            (self.YY, _coefs(self.Y, y), _coefs(self.Y, y))):
            M[rows, slot, :] = torch.where(w, row, M[rows, slot, :])
            M[rows, :, slot] = torch.where(w, col, M[rows, :, slot])
        m = self.S.shape[1]
        self.head = torch.where(where, (self.head + 1) % m, self.head)
        self.count = torch.where(where, (self.count + 1).clamp_max(m), self.count)

    def _direction(self, g: torch.Tensor) -> torch.Tensor:
        """-H g per image; steepest descent (largest entry moved by lr) where there are no pairs
        or H g is not a descent direction (those images' pairs are dropped)."""
        m, rows = self.S.shape[1], self.rows
        steepest = g * (self.lr / g.abs().amax(-1, keepdim=True).clamp_min(1e-30))
        position = torch.arange(m, device=g.device)
        order = (self.head[:, None] + position) % m  # slots, oldest first
        used = position[None, :] >= (m - self.count)[:, None]  # [N, m], in that order
        both = used[:, :, None] & used[:, None, :]
        SY = torch.where(both, _reorder(self.SY, order), 0.0).double()
        YY = torch.where(both, _reorder(self.YY, order), 0.0).double()
        newest = (self.head - 1) % m
        gamma = self.SY[rows, newest, newest] / self.YY[rows, newest, newest].clamp_min(1e-30)
        gamma = torch.where(self.count > 0, gamma, 0.0)[:, None]
        R = torch.triu(SY) + torch.diag_embed((~used).double())  # unused slots: identity, decoupled
        a = torch.where(used, _coefs(self.S, g).gather(1, order), 0.0).double()[:, :, None]
        b = torch.where(used, _coefs(self.Y, g).gather(1, order), 0.0).double()[:, :, None] * gamma.double()[:, :, None]
        u = torch.linalg.solve_triangular(R, a, upper=True)
        inner = torch.diagonal(SY, dim1=1, dim2=2)[:, :, None] * u + gamma.double()[:, :, None] * (YY @ u) - b
        p = torch.linalg.solve_triangular(R.transpose(1, 2), inner, upper=False)
        u, p = (g.new_zeros(len(g), m).scatter(1, order, v.squeeze(-1).float()) for v in (u, p))
        hg = gamma * g + _combine(p, self.S) - gamma * _combine(u, self.Y)
        fine = (self.count > 0) & (_dot(hg, g) > 0) & torch.isfinite(hg).all(-1)
        self.count = torch.where(~fine & (self.count > 0), 0, self.count)  # drop the pairs of those
        return -torch.where(fine[:, None], hg, steepest)
