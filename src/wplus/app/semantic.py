"""Tasks: semantic directions (compute, list) and edits along them (`wplus edit`).

`edit_file` outputs in `out`: edit.npz (the edited codes: one, or one per sweep frame),
edit_strip.png (the input's render, then the edits) and, for a sweep, edit.gif (or edit.mp4).
An input with noise maps (W+n) keeps them: every edit is rendered and saved with the input's maps.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..editing import parse_layers
from ..editing.direction_files import load_directions, save_directions
from ..editing.directions import DirectionSet, apply_direction
from ..editing.ganspace import ganspace
from ..editing.sefa import sefa
from ..errors import WplusError
from ..inversion.noise import named_noise
from ..io.images import image_grid, save_image, to_uint8
from ..io.latents import save_latents
from ..io.video import write_gif, write_video
from ..models.registry import weights_dir
from .edit import EditSources, render
from .embed import upscale
from .events import EventSink, ignore
from .workspace import Workspace

DEFAULT_DIRECTIONS = "default-directions.safetensors"
METHODS = ("ganspace", "sefa", "attributes")


@dataclass(frozen=True)
class SemanticEdit:
    """Which directions, how strong, where, and whether to sweep."""

    directions: tuple[tuple[str, float], ...]  # (name, strength in standard deviations)
    layers: str | None = None  # e.g. '0-5' (None: each direction's default layers)
    sweep: tuple[float, float] | None = None  # strengths from..to, times each direction's strength
    frames: int = 7  # sweep frames

    def strengths(self) -> torch.Tensor:
        if self.sweep is None:
            return torch.ones(1)
        if self.frames < 2:
            raise WplusError("--frames must be at least 2 for a sweep")
        return torch.linspace(self.sweep[0], self.sweep[1], self.frames)


@dataclass
class SemanticEditResult:
    strip: Path
    latents: Path
    animation: Path | None  # sweeps only
    strengths: list[float]


def parse_direction(text: str) -> tuple[str, float]:
    """'smile' -> ('smile', 1.0); 'yaw=-2' -> ('yaw', -2.0)."""
    name, sep, value = text.partition("=")
    try:
        return name.strip(), float(value) if sep else 1.0
    except ValueError:
        raise WplusError(f"bad --direction {text!r}; use NAME or NAME=STRENGTH, e.g. smile=2") from None


def parse_sweep(text: str) -> tuple[float, float]:
    """'-3:3' -> (-3.0, 3.0)."""
    try:
        low, high = (float(v) for v in text.split(":"))
    except ValueError:
        raise WplusError(f"bad --sweep {text!r}; use FROM:TO, e.g. -3:3") from None
    return low, high


def default_directions_path() -> Path:
    return weights_dir() / DEFAULT_DIRECTIONS


def directions_for(ws: Workspace, path: str | Path | None = None) -> DirectionSet:
    """The directions file given, else the shipped ones when `ws` runs the default model;
    checked against the generator (w_dim, num_ws)."""
    if path is None:
        shipped = default_directions_path()
        dirs = load_directions(shipped) if shipped.is_file() else None
        if dirs is None or dirs.fingerprint != ws.base_fingerprint:
            raise WplusError("no directions ship for this generator: make some with `wplus directions compute "
                             "ganspace --out dirs.safetensors` and pass --directions dirs.safetensors")
    else:
        dirs = load_directions(path)
    dirs.check_fits(ws.G.w_dim, ws.G.num_ws)
    return dirs


def edit_file(ws: Workspace, spec: str | Path, edit: SemanticEdit, out: Path, directions: DirectionSet,
              sources: EditSources = EditSources(), video: bool = False,
              emit: EventSink = ignore) -> SemanticEditResult:
    """Apply `edit` to the code of `spec` (image, latent file, or `file.npz:K`)."""
    if not edit.directions:
        raise WplusError("name at least one --direction (see `wplus directions list FILE`)")
    latent = sources.latents(ws, emit)(spec)
    code = latent.w  # [1, num_ws, w_dim]
    layers = parse_layers(edit.layers, ws.G.num_ws) if edit.layers else None
    strengths = edit.strengths()
    codes = code.expand(len(strengths), -1, -1).clone()
    for name, strength in edit.directions:
        codes = _move(codes, directions, name, strength * strengths, layers)
    out.mkdir(parents=True, exist_ok=True)
    images = render(ws, torch.cat([code, codes]), noise=latent.noise)
    strip = save_image(image_grid(images, columns=min(len(images), 8)), out / "edit_strip.png")
    meta = {"input": str(spec), "directions": [list(d) for d in edit.directions], "layers": layers,
            "strengths": strengths.tolist()}
    maps = named_noise(ws.G, [m.expand(len(codes), -1, -1, -1) for m in latent.noise]) if latent.noise else {}
    latents = save_latents(out / "edit.npz", codes, meta, **maps)
    animation = None
    if edit.sweep is not None:
        frames = [to_uint8(upscale(f[None]))[0] for f in images[1:]]
        frames += frames[-2:0:-1]  # there and back
        animation = write_video(frames, out / "edit.mp4") if video else write_gif(frames, out / "edit.gif")
    return SemanticEditResult(strip, latents, animation, strengths.tolist())


def _move(codes: torch.Tensor, directions: DirectionSet, name: str, strengths: torch.Tensor,
          layers: list[int] | None) -> torch.Tensor:
    """Each code i moved by strengths[i] along the named direction."""
    direction = directions[name]
    return torch.stack([apply_direction(c, direction, float(s), layers) for c, s in zip(codes, strengths)])


def compute_directions(ws: Workspace, method: str, out: Path, components: int = 10, layers: str | None = None,
                       samples: int | None = None, seed: int = 0) -> DirectionSet:
    """Directions by `method` (ganspace, sefa or attributes) for the workspace's generator,
    written to `out` (.safetensors)."""
    chosen = parse_layers(layers, ws.G.num_ws) if layers else None
    if method == "ganspace":
        dirs = ganspace(ws.G, components, samples or 100_000, seed, chosen)
    elif method == "sefa":
        dirs = sefa(ws.G, chosen or list(range(ws.G.num_ws - 1)), components, samples or 10_000, seed)
    elif method == "attributes":
        from ..editing.labelled import attribute_directions
        dirs = attribute_directions(ws.G, samples or 4000, seed, chosen)
    else:
        raise WplusError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    save_directions(out, dirs)
    return dirs
