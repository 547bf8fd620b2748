"""Per-step history and stop conditions, kept on the device and read every few steps.

Reading a device value on the host waits for the device to finish its queued work; doing it
every step (`loss.tolist()`, `if not torch.isfinite(loss).all()`) keeps a GPU idle between
steps. `StepLog` records each step's loss and PSNR into a preallocated device buffer and keeps
the stop conditions as device tensors:
  - the first step whose loss was non-finite (its step and every later one are discarded,
    `healthy` turns false so the best-so-far ignores them, and the run ends at the next read);
  - for early stopping, the last step at which the best loss improved: the next read is
    scheduled no later than `last improvement + patience`, the first step a stop could
    happen, so early stops land on exactly the step a per-step check would give.
The host reads (`due` -> `read`) happen every `every` steps, at those early-stop deadlines and
at the end; on a CPU they cost nothing, on a GPU one wait per `every` steps.
"""
from __future__ import annotations

import torch

_NON_FINITE = ("the loss became non-finite at step {}; lower the learning rate "
               "(the best results before it are kept)")


class StepLog:
    """History of per-image loss and PSNR plus the stop conditions of one run."""

    def __init__(self, n: int, device: torch.device, every: int, patience: int | None = None,
                 min_improvement: float = 0.0) -> None:
        self.every, self.patience, self.min_improvement = every, patience, min_improvement
        self.rows = torch.zeros(every, 2, n, device=device)  # [step in chunk, loss | psnr, image]
        self.count = 0  # rows filled since the last read
        self.first_bad = torch.full((), -1, dtype=torch.long, device=device)
        self.last_improvement = torch.zeros((), dtype=torch.long, device=device)
        self.reference = torch.full((n,), float("inf"), device=device)
        self.next_read = every - 1 if patience is None else min(every - 1, patience)  # first possible stop
        self.history: dict[str, list[list[float]]] = {"loss": [], "psnr": []}
        self.bad_step: int | None = None  # host copy of first_bad once read

    @property
    def healthy(self) -> torch.Tensor:
        """Device bool: no non-finite loss so far (this step included once recorded)."""
        return self.first_bad < 0

    @torch.no_grad()
    def record(self, step: int, loss: torch.Tensor, psnr: torch.Tensor) -> None:
        """Store a step's [N] loss and PSNR and note whether its loss is finite (no host sync)."""
        self.rows[self.count, 0] = loss
        self.rows[self.count, 1] = psnr
        self.count += 1
        bad = ~torch.isfinite(loss).all() & (self.first_bad < 0)
        self.first_bad = torch.where(bad, step, self.first_bad)

    @torch.no_grad()
    def note_best(self, step: int, best_loss: torch.Tensor) -> None:
        """Early-stop bookkeeping after the best-so-far update: any image improved by more than
        `min_improvement` (relative) since the reference -> a new reference and improvement step."""
        if self.patience is None:
            return
        improved = (best_loss < self.reference * (1 - self.min_improvement)).any()
        self.reference = torch.where(improved, best_loss, self.reference)
        self.last_improvement = torch.where(improved, step, self.last_improvement)

    def due(self, step: int) -> bool:
        return step >= self.next_read

    def _drain(self) -> int:
        """Move the buffered rows to the host history; returns the last improvement step."""
        rows = self.rows[:self.count].cpu()
        first_bad, last_improvement = torch.stack((self.first_bad, self.last_improvement)).tolist()
        self.history["loss"] += rows[:, 0].tolist()
        self.history["psnr"] += rows[:, 1].tolist()
        self.count = 0
        if first_bad >= 0:
            self.bad_step = first_bad
        return last_improvement

    def read(self, step: int) -> bool:
        """Copy the buffered rows to the host and check the stop conditions after `step`.
        Returns True when the run must end now (non-finite loss, or the early stop)."""
        last_improvement = self._drain()
        if self.bad_step is not None:
            return True
        self.next_read = step + self.every
        if self.patience is not None:
            if step - last_improvement >= self.patience:
                return True
            self.next_read = min(self.next_read, last_improvement + self.patience)
        return False

    def finish(self) -> str | None:
        """Read what is left; cut the history at a non-finite step and say so (else None)."""
        self._drain()
        if self.bad_step is None:
            return None
        for rows in self.history.values():
            del rows[self.bad_step:]
        return _NON_FINITE.format(self.bad_step)
