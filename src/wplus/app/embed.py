"""Task: embed image files and write each one's latent, reconstruction and comparison.

Outputs per input NAME in `out`: NAME.npz (latent + meta), NAME_recon.png, NAME_compare.png
(target | reconstruction), with `video` NAME.mp4 (the optimisation), with `paste_back` and
alignment NAME_pasted.png. In w+n NAME.npz also holds the noise maps, named by layer, and
NAME_recon.png is rendered from the saved arrays, so loading them re-renders it exactly.
Results are written per batch as soon as the batch finishes.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image

from ..errors import ConfigError, WplusError
from ..inversion import EmbedResult, Snapshots, StepState, StopEmbedding, embed
from ..inversion.noise import named_noise
from ..io.align import paste_back
from ..io.images import LoadedImage, find_images, image_grid, read_rgb, save_image, to_uint8
from ..io.latents import save_latents
from ..io.masks import load_mask
from ..io.video import write_video
from ..models.stylegan2 import Generator
from .events import BatchFinished, BatchStarted, EventSink, StepDone, ignore
from .inputs import load_inputs, unique_stems
from .workspace import EmbedOptions, Workspace


@dataclass(frozen=True)
class EmbedJob:
    """What to embed and how."""

    inputs: list[str | Path]  # image files and folders
    out: Path  # output folder (created)
    options: EmbedOptions = EmbedOptions()
    batch_size: int = 8  # images optimised together
    align: bool = False  # detect and FFHQ-align faces first
    largest: bool = False  # with align: only the largest face per photo
    paste_back: bool = False  # with align: paste the reconstruction into the photo
    video: bool = False  # write an MP4 of the optimisation per image
    mask: Path | None = None  # white = match, black = ignore; one mask for every input

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ConfigError("--batch-size must be at least 1")


@dataclass
class EmbeddedImage:
    """One embedded input and the files written for it."""

    name: str
    source: Path
    psnr: float
    latents: Path
    recon: Path
    compare: Path
    video: Path | None = None
    pasted: Path | None = None

    def files(self) -> list[Path]:
        return [p for p in (self.latents, self.recon, self.compare, self.video, self.pasted) if p is not None]


@dataclass
class EmbedFilesResult:
    images: list[EmbeddedImage] = field(default_factory=list)
    skipped: int = 0  # inputs that could not be read or had no face
    space: str = ""
    loss_name: str = ""
    interrupted: bool = False  # stopped (Ctrl-C / stop request): finished work is saved
    stopped_at: tuple[int, int] | None = None  # (steps run, 1-based batch) when interrupted
    error: str | None = None  # a failure that stopped the run (its best results are saved)

    @property
    def mean_psnr(self) -> float:
        return sum(i.psnr for i in self.images) / len(self.images) if self.images else float("nan")


def embed_files(ws: Workspace, job: EmbedJob, emit: EventSink = ignore,
                stop: threading.Event | None = None) -> EmbedFilesResult:
    """Embed every readable input of `job` in batches, writing results as each batch ends.

    A set `stop` event ends the run after the current step, keeping its best results."""
    config, loss = ws.embedding(job.options, emit)
    paths = find_images(job.inputs)
    loaded, skipped = load_inputs(paths, ws.G.resolution, job.align, job.largest, emit)
    if not loaded:
        raise WplusError(f"none of the {len(paths)} inputs could be {'aligned' if job.align else 'read'} "
                         f"({skipped[0]}{f'; and {len(skipped) - 1} more' if len(skipped) > 1 else ''})")
    job.out.mkdir(parents=True, exist_ok=True)
    stems = unique_stems([item.name for item in loaded])
    meta = ws.run_meta(config, loss)
    outcome = EmbedFilesResult(skipped=len(skipped), space=config.space, loss_name=loss.name)
    mask = load_mask(job.mask, ws.G.resolution) if job.mask else None
    batches = range(0, len(loaded), job.batch_size)
    for b, start in enumerate(batches):
        chunk = loaded[start:start + job.batch_size]
        targets = torch.cat([item.tensor for item in chunk]).to(ws.device)
        snapshots = Snapshots(every=max(1, config.steps // 120)) if job.video else None
        emit(BatchStarted(b, len(batches), len(chunk), config.steps))
        callbacks = [reporter(b, emit, stop)] + ([snapshots] if snapshots else [])
        result = embed(ws.G, targets, config, loss=loss, callbacks=callbacks, masks=mask)
        emit(BatchFinished(b, len(batches)))
        for i, item in enumerate(chunk):
            if torch.isfinite(result.loss[i]):  # else stopped before its first step
                outcome.images.append(_save_one(job, item, stems[start + i], result, i, targets, snapshots,
                                                {**meta, "steps_run": result.steps}, ws.G))
        if result.interrupted or result.error:
            outcome.interrupted, outcome.error = result.interrupted, result.error
            outcome.stopped_at = (result.steps, b + 1)
            break
    return outcome


def reporter(batch: int, emit: EventSink, stop: threading.Event | None) -> Callable[[StepState], None]:
    """An `embed` callback: each step as a `StepDone` event; a set `stop` ends the run."""
    def report(state: StepState) -> None:
        emit(StepDone(batch, state))
        if stop is not None and stop.is_set():
            raise StopEmbedding
    return report


def _save_one(job: EmbedJob, item: LoadedImage, stem: str, result: EmbedResult, i: int,
              targets: torch.Tensor, snapshots: Snapshots | None, meta: dict, G: Generator) -> EmbeddedImage:
    out = job.out
    meta = {**meta, "source": str(item.path), "preprocess": item.note}
    image, maps = result.images[i], {}
    if result.noise is not None:  # render what the file holds: float32 w and maps, batch of one
        maps = named_noise(G, result.noise, i)
        with torch.no_grad():
            image = G.synthesis(result.latents[i:i + 1], noise=list(maps.values()))[0]
    done = EmbeddedImage(
        stem, item.path, float(result.psnr[i]),
        save_latents(out / f"{stem}.npz", result.latents[i:i + 1], meta,
                     loss=result.loss[i:i + 1], psnr=result.psnr[i:i + 1], **maps),
        save_image(image, out / f"{stem}_recon.png"),
        save_image(image_grid(torch.stack([targets[i], image])), out / f"{stem}_compare.png"))
    if snapshots and snapshots.frames:
        done.video = write_video(_video_frames(snapshots, i, targets[i:i + 1].cpu()), out / f"{stem}.mp4", fps=24)
    if job.paste_back and item.alignment is not None:
        photo = Image.fromarray(read_rgb(item.path).astype(np.uint8))
        recon = Image.fromarray(to_uint8(result.images[i:i + 1])[0])
        done.pasted = out / f"{stem}_pasted.png"
        paste_back(photo, item.alignment, recon).save(done.pasted)
    return done


def _video_frames(snapshots: Snapshots, index: int, target: torch.Tensor) -> list[np.ndarray]:
    """Frames of target | current render, upscaled (nearest) to at least 256 px high."""
    frames = []
    for _, batch in snapshots.frames:
        frames.append(to_uint8(upscale(torch.cat([target, batch[index:index + 1]], dim=3)))[0])
    return frames


def upscale(images: torch.Tensor, side: int = 256) -> torch.Tensor:
    """Nearest-neighbour upscale by an integer factor so the height reaches about `side`."""
    scale = max(1, side // images.shape[-2])
    return torch.nn.functional.interpolate(images, scale_factor=scale, mode="nearest") if scale > 1 else images
