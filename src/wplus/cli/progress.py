"""Progress and notices on stderr: the CLI's sink for application events."""
from __future__ import annotations

import sys
from typing import Callable

from tqdm import tqdm

from ..app.events import (
    BatchFinished,
    BatchStarted,
    Event,
    ItemsDone,
    Notice,
    ShardStarted,
    StepDone,
    StudyStarted,
    TuneStepDone,
    TuningStarted,
)


class ConsoleProgress:
    """Prints notices as `kind: text` lines and shows a tqdm bar per batch (or per shard)."""

    def __init__(self, show_notices: bool = True) -> None:
        self.show_notices = show_notices
        self.bar: tqdm | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, Notice) and self.show_notices:
            print(f"{event.kind}: {event.text}", file=sys.stderr)
        elif isinstance(event, BatchStarted):
            self._open(total=event.steps, unit="step",
                       desc=f"batch {event.index + 1}/{event.count} ({event.size} img)")
        elif isinstance(event, StepDone):
            self.on_step(event)
        elif isinstance(event, ShardStarted):
            self._open(total=event.items, unit="img", desc=f"rank {event.rank}/{event.world}",
                       disable=event.rank != 0)
        elif isinstance(event, ItemsDone) and self.bar is not None:
            self.bar.update(event.count)
        elif isinstance(event, BatchFinished):
            self.close()
        elif isinstance(event, TuningStarted):
            self._open(total=event.steps, unit="step", desc=f"tune {event.index + 1}/{event.count} {event.name}")
        elif isinstance(event, TuneStepDone):
            self.on_tune_step(event)
        elif isinstance(event, StudyStarted):
            print(f"running {event.name} ({event.steps} steps per embedding)...", file=sys.stderr)

    def on_step(self, event: StepDone) -> None:
        state = event.state
        self._advance(state.step, state.total_steps, lambda: (float(state.best_loss.mean()), float(state.psnr.mean())))

    def on_tune_step(self, event: TuneStepDone) -> None:
        state = event.state
        self._advance(state.step, state.total_steps, lambda: (state.loss, state.psnr))
        if state.step == state.total_steps - 1:
            self.close()

    def _advance(self, step: int, total: int, figures: Callable[[], tuple[float, float]]) -> None:
        """One step on the bar; every 10th (and the last) shows `figures()` = (loss, PSNR), read
        only then, so the figures' device syncs stay rare."""
        if self.bar is None:
            return
        self.bar.update(1)
        if step % 10 == 0 or step == total - 1:
            loss, psnr = figures()
            self.bar.set_postfix(loss=f"{loss:.4f}", psnr=f"{psnr:.2f}dB")

    def _open(self, **kwargs) -> None:
        self.close()
        self.bar = tqdm(file=sys.stderr, dynamic_ncols=True, **kwargs)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
