"""Dataset-scale embedding: resumable, sharded over processes with `torchrun`.

Every image's embedding is independent, so rank r of W takes manifest items r, r + W, ...;
each rank embeds its share in batches and writes one `.npz` per image atomically (temp file +
rename), or a `.failed` file with the one-line reason. A restart skips every item that has
either, so a killed run loses at most the batches in flight. When all ranks are done, rank 0
writes `index.csv` (manifest order) and `latents.npz` (all codes stacked).
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist

from ..devices import pick_device
from ..errors import WplusError
from ..files import write_atomically
from ..inversion import EmbedConfig, embed
from ..inversion.noise import named_noise
from ..inversion.tuning import TuneConfig, tune, tuning_loss
from ..io.deltas import save_delta
from ..io.images import IMAGE_SUFFIXES, ImageLoadError, load_image
from ..io.latents import load_latents, save_latents
from ..losses import EmbeddingLoss
from ..models.stylegan2 import Generator
from .events import EventSink, ItemsDone, ShardStarted, ignore
from .tune import TuneOptions
from .workspace import EmbedOptions, ModelOptions, Workspace


@dataclass(frozen=True)
class Item:
    index: int
    path: Path

    @property
    def key(self) -> str:
        """Output name: manifest position + file stem (unique even for equal stems)."""
        return f"{self.index:07d}_{self.path.stem}"


def read_manifest(source: str | Path) -> list[Item]:
    """A folder (its images, sorted) or a text file of image paths, one per line (relative
    paths are taken from the manifest's folder; blank lines and '#' comments skipped)."""
    source = Path(source)
    if source.is_dir():
        paths = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    elif source.is_file():
        lines = [ln.strip() for ln in source.read_text().splitlines()]
        paths = [(source.parent / ln) if not Path(ln).is_absolute() else Path(ln)
                 for ln in lines if ln and not ln.startswith("#")]
    else:
        raise WplusError(f"{source}: no such manifest file or folder")
    if not paths:
        raise WplusError(f"{source}: the manifest lists no images")
    return [Item(i, p) for i, p in enumerate(paths)]


def shard(items: list[Item], rank: int, world: int) -> list[Item]:
    return items[rank::world]


@dataclass(frozen=True)
class Rank:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> "Rank":
        """torchrun's RANK / WORLD_SIZE / LOCAL_RANK (a single process without them)."""
        return cls(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                   int(os.environ.get("LOCAL_RANK", 0)))

    def device(self, requested: str) -> torch.device:
        """`pick_device(requested)`; a bare 'cuda' becomes this process's GPU, cuda:LOCAL_RANK."""
        device = pick_device(requested)
        return torch.device("cuda", self.local_rank) if device.type == "cuda" and device.index is None else device


def init_process_group(rank: Rank, device: torch.device) -> None:
    if rank.world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")


def _done(out: Path, item: Item) -> bool:
    return (out / "latents" / f"{item.key}.npz").exists() or (out / "failed" / f"{item.key}.txt").exists()


def embed_shard(G: Generator, items: list[Item], out: Path, config: EmbedConfig, loss: EmbeddingLoss,
                batch_size: int, meta: dict, on_batch: Callable[[int], None] = lambda n: None,
                tuning: TuneConfig | None = None) -> tuple[int, int]:
    """Embed (with `tuning`: pivot-tune) the not-yet-done `items`; returns (embedded, failed)
    counts of this call. A tuned item's delta is written before its latent file."""
    for folder in ("latents", "failed") + (("deltas",) if tuning else ()):
        (out / folder).mkdir(parents=True, exist_ok=True)
    todo = [it for it in items if not _done(out, it)]
    done = failed = 0
    for start in range(0, len(todo), batch_size):
        chunk, tensors = [], []
        for item in todo[start:start + batch_size]:
            try:
                tensors.append(load_image(item.path, G.resolution).tensor)
                chunk.append(item)
            except ImageLoadError as exc:
                _atomic_text(out / "failed" / f"{item.key}.txt", str(exc))
                failed += 1
        if chunk:
            targets = torch.cat(tensors).to(G.w_avg.device)
            noise = None
            if tuning:
                tuned = tune(G, targets, tuning, loss=loss)
                latents, losses, psnr = tuned.pivots, torch.full((len(chunk),), float("nan")), tuned.psnr
                for i, item in enumerate(chunk):
                    save_delta(tuned.deltas[i], out / "deltas" / f"{item.key}.safetensors", tuning.delta_dtype)
            else:
                result = embed(G, targets, config, loss=loss)
                latents, losses, psnr, noise = result.latents, result.loss, result.psnr, result.noise
            for i, item in enumerate(chunk):
                save_latents(out / "latents" / f"{item.key}.npz", latents[i:i + 1],
                             {**meta, "source": str(item.path), "index": item.index,
                              **({"delta": f"../deltas/{item.key}.safetensors"} if tuning else {})},
                             loss=losses[i:i + 1], psnr=psnr[i:i + 1],
                             **(named_noise(G, noise, i) if noise is not None else {}))
            done += len(chunk)
        on_batch(len(todo[start:start + batch_size]))
    return done, failed


def _atomic_text(path: Path, text: str) -> None:
    write_atomically(path, lambda tmp: tmp.write_text(text + "\n"))


def write_index(items: list[Item], out: Path) -> tuple[int, int]:
    """index.csv in manifest order and latents.npz (`w` of every embedded item, `keys`)."""
    rows, codes, keys = [], [], []
    for item in items:
        latent, failure = out / "latents" / f"{item.key}.npz", out / "failed" / f"{item.key}.txt"
        if latent.exists():
            w, _ = load_latents(latent)
            with np.load(latent) as data:
                psnr = float(data["psnr"][0])
            rows.append([item.index, item.key, str(item.path), "ok", f"{psnr:.3f}", ""])
            codes.append(w)
            keys.append(item.key)
        else:
            reason = failure.read_text().strip() if failure.exists() else "not processed"
            rows.append([item.index, item.key, str(item.path), "failed" if failure.exists() else "missing", "", reason])
    def write_csv(tmp: Path) -> None:
        with open(tmp, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["index", "key", "source", "status", "psnr", "reason"])
            writer.writerows(rows)
    write_atomically(out / "index.csv", write_csv)
    if codes:
        save_latents(out / "latents.npz", torch.cat(codes), {"keys": keys})
    return len(codes), len(items) - len(codes)


@dataclass
class DatasetResult:
    rank: Rank
    items: int  # in the whole manifest
    embedded_now: int  # by this process in this call
    failed_now: int
    embedded_total: int | None = None  # over all runs so far; rank 0 only (from the index)
    missing: int | None = None  # items with neither a latent nor a failure; rank 0 only


def embed_dataset(model: ModelOptions, options: EmbedOptions, manifest: str | Path, out: Path,
                  batch_size: int = 8, emit: EventSink = ignore, tuning: TuneOptions | None = None) -> DatasetResult:
    """This process's share of a manifest (all of it without torchrun), resumable; rank 0
    writes the index when every rank is done. Only rank 0 reports notices. With `tuning`,
    each image is pivot-tuned: its latent is the pivot, its delta is in OUT/deltas/."""
    if batch_size < 1:
        raise WplusError("--batch-size must be at least 1")
    rank = Rank.from_env()
    device = rank.device(model.device)
    init_process_group(rank, device)
    try:
        ws = Workspace.open(replace(model, device=str(device)))
        tune_config = tuning.config() if tuning else None
        config, loss = ws.embedding(options, emit if rank.rank == 0 else ignore)
        if tune_config:
            loss = tuning_loss(tune_config.loss, ws.vgg16).to(device)
        items = read_manifest(manifest)
        mine = shard(items, rank.rank, rank.world)
        emit(ShardStarted(rank.rank, rank.world, len(mine)))
        meta = {**ws.run_meta(config, loss), **({"tune": tune_config.to_dict()} if tune_config else {})}
        done, failed = embed_shard(ws.G, mine, out, config, loss, batch_size, meta, lambda n: emit(ItemsDone(n)),
                                   tune_config)
        if rank.world > 1:
            dist.barrier()
        result = DatasetResult(rank, len(items), done, failed)
        if rank.rank == 0:
            result.embedded_total, result.missing = write_index(items, out)
        return result
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
