"""What the application layer reports while it works. Front ends turn these into progress
bars (CLI) or live page updates (web); nothing below them prints."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Union

from ..inversion import StepState
from ..inversion.tuning import TuneState


@dataclass(frozen=True)
class Notice:
    """A one-line message about one input or setting: shown, never fatal."""

    kind: Literal["skipped", "note", "warning"]
    text: str


@dataclass(frozen=True)
class FacesFound:
    """Faces detected in a photo before alignment: boxes [x0, y0, x1, y1] in photo pixels."""

    path: Path
    boxes: list[tuple[float, float, float, float]]
    probabilities: list[float]


@dataclass(frozen=True)
class BatchStarted:
    index: int  # 0-based
    count: int  # batches in the run
    size: int  # images in this batch
    steps: int  # optimisation steps asked for


@dataclass(frozen=True)
class StepDone:
    """One optimisation step of the batch `batch` (renders and PSNR of every image in it)."""

    batch: int
    state: StepState


@dataclass(frozen=True)
class BatchFinished:
    index: int
    count: int


@dataclass(frozen=True)
class ShardStarted:
    """A process of a dataset run starts on its share of the manifest."""

    rank: int
    world: int
    items: int


@dataclass(frozen=True)
class ItemsDone:
    count: int  # items finished (embedded or failed) since the last such event


@dataclass(frozen=True)
class StudyStarted:
    name: str
    steps: int


@dataclass(frozen=True)
class TuningStarted:
    """Pivotal tuning of one image starts (after its pivot embedding)."""

    index: int  # 0-based, over the run
    count: int  # images in the run
    name: str
    steps: int


@dataclass(frozen=True)
class TuneStepDone:
    state: TuneState


Event = Union[Notice, FacesFound, BatchStarted, StepDone, BatchFinished, ShardStarted, ItemsDone, StudyStarted,
              TuningStarted, TuneStepDone]
EventSink = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The default sink: drop every event."""
