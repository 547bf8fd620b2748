"""Task: pivotal tuning of image files; each image gets its pivot latent and its own delta.

Outputs per input NAME in `out`: NAME.npz (the pivot latent; meta names the delta),
NAME_delta.safetensors (the tuned weights as a delta of the base generator), NAME_recon.png
(the tuned generator's render of the pivot), NAME_compare.png (target | pivot render | tuned
render). Each batch's results are written as soon as it is tuned.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import torch

from ..errors import ConfigError, WplusError
from ..inversion import StepState, StopEmbedding
from ..inversion.tuning import TUNE_PRESETS, TuneConfig, TuneResult, TuneState, tune, tuning_loss
from ..io.deltas import save_delta
from ..io.images import LoadedImage, find_images, image_grid, save_image
from ..io.latents import save_latents
from .events import BatchFinished, BatchStarted, EventSink, Notice, StepDone, TuneStepDone, TuningStarted, ignore
from .inputs import load_inputs, unique_stems
from .workspace import Workspace


@dataclass(frozen=True)
class TuneOptions:
    """A tuning preset and the settings the user changed (None = the preset's)."""

    preset: str = "pti"
    pivot: str | None = None
    pivot_steps: int | None = None
    steps: int | None = None
    lr: float | None = None
    rank: int | None = None
    full: bool = False  # full fine-tuning (rank ignored)
    locality_weight: float | None = None
    loss: str | None = None

    def config(self) -> TuneConfig:
        if self.preset not in TUNE_PRESETS:
            raise ConfigError(f"unknown tuning preset {self.preset!r}; choose one of {', '.join(sorted(TUNE_PRESETS))}")
        given = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("preset", "full")}
        config = replace(TUNE_PRESETS[self.preset], **{k: v for k, v in given.items() if v is not None})
        return replace(config, rank=None) if self.full else config


@dataclass(frozen=True)
class TuneJob:
    inputs: list[str | Path]  # image files and folders
    out: Path
    options: TuneOptions = TuneOptions()
    batch_size: int = 8  # images whose pivots are embedded together
    align: bool = False
    largest: bool = False

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ConfigError("--batch-size must be at least 1")


@dataclass
class TunedImage:
    name: str
    source: Path
    pivot_psnr: float  # base generator's render of the pivot
    psnr: float  # tuned generator's render of the pivot
    latents: Path
    delta: Path
    recon: Path
    compare: Path

    def files(self) -> list[Path]:
        return [self.latents, self.delta, self.recon, self.compare]


@dataclass
class TuneFilesResult:
    images: list[TunedImage] = field(default_factory=list)
    skipped: int = 0
    interrupted: bool = False  # finished images are saved


def tune_files(ws: Workspace, job: TuneJob, emit: EventSink = ignore,
               stop: threading.Event | None = None) -> TuneFilesResult:
    """Pivot-embed and tune every readable input of `job`, writing each batch's results."""
    config = job.options.config()
    loss = tuning_loss(config.loss, ws.vgg16).to(ws.device)
    if loss.warning:
        emit(Notice("warning", loss.warning))
    paths = find_images(job.inputs)
    loaded, skipped = load_inputs(paths, ws.G.resolution, job.align, job.largest, emit)
    if not loaded:
        raise WplusError(f"none of the {len(paths)} inputs could be {'aligned' if job.align else 'read'} "
                         f"({skipped[0]})")
    job.out.mkdir(parents=True, exist_ok=True)
    stems = unique_stems([item.name for item in loaded])
    outcome = TuneFilesResult(skipped=len(skipped))
    for b, start in enumerate(range(0, len(loaded), job.batch_size)):
        chunk = loaded[start:start + job.batch_size]
        targets = torch.cat([item.tensor for item in chunk]).to(ws.device)
        emit(BatchStarted(b, -(-len(loaded) // job.batch_size), len(chunk), config.pivot_steps))
        reporter = _Reporter(emit, stop, b, start, len(loaded), stems, config.steps)
        try:
            result = tune(ws.G, targets, config, loss=loss, pivot_callbacks=[reporter.pivot_step],
                          callbacks=[reporter.tune_step])
        except StopEmbedding:  # stopped during the pivot embedding: nothing of this batch to keep
            outcome.interrupted = True
            break
        emit(BatchFinished(b, -(-len(loaded) // job.batch_size)))
        for i, item in enumerate(chunk[:reporter.finished(len(chunk), result)]):
            outcome.images.append(_save_one(ws, job.out, item, stems[start + i], result, i, targets[i]))
        if result.interrupted:
            outcome.interrupted = True
            break
    return outcome


class _Reporter:
    """Turns the pivot and tuning callbacks into events; raises StopEmbedding when `stop` is set."""

    def __init__(self, emit: EventSink, stop: threading.Event | None, batch: int, start: int, count: int,
                 stems: list[str], steps: int) -> None:
        self.emit, self.stop, self.batch, self.start = emit, stop, batch, start
        self.count, self.stems, self.steps = count, stems, steps
        self.current = -1

    def _check(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise StopEmbedding

    def pivot_step(self, state: StepState) -> None:
        self.emit(StepDone(self.batch, state))
        self._check()

    def tune_step(self, state: TuneState) -> None:
        index = self.start + state.index
        if state.index != self.current:
            self.current = state.index
            self.emit(TuningStarted(index, self.count, self.stems[index], self.steps))
        self.emit(TuneStepDone(state))
        self._check()

    def finished(self, size: int, result: TuneResult) -> int:
        """How many images of the batch have a delta (the last one partly tuned when stopped)."""
        return self.current + 1 if result.interrupted else size


def _save_one(ws: Workspace, out: Path, item: LoadedImage, stem: str, result: TuneResult, i: int,
              target: torch.Tensor) -> TunedImage:
    delta = result.deltas[i]
    delta.meta.update(source=str(item.path), preprocess=item.note, base_generator=ws.G.source)
    delta_path = save_delta(delta, out / f"{stem}_delta.safetensors", result.config.delta_dtype)
    psnr, pivot_psnr = float(result.psnr[i]), float(result.pivot_psnr[i])
    meta = {"generator": ws.G.source, "generator_sha": ws.fingerprint, "delta": delta_path.name,
            "source": str(item.path), "preprocess": item.note, "tune": result.config.to_dict(),
            "loss": result.loss_name, "pivot_psnr": pivot_psnr}
    compare = torch.stack([target, result.pivot_images[i], result.images[i]])
    return TunedImage(stem, item.path, pivot_psnr, psnr,
                      save_latents(out / f"{stem}.npz", result.pivots[i:i + 1], meta, psnr=result.psnr[i:i + 1]),
                      delta_path, save_image(result.images[i], out / f"{stem}_recon.png"),
                      save_image(image_grid(compare), out / f"{stem}_compare.png"))
