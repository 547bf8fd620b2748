"""Tasks: the paper's editing applications on images or latent files.

Each input is a latent file (`.npz`, `.pt`; its first code) or an image, embedded first with
the `EmbedOptions` and cached (`editing.inputs.code_for`). Outputs:
  morph    - morph_strip.png (8 frames), morph.gif (or morph.mp4), morph.npz (every frame's w)
  mix      - mix.png (content | style | mixed), mix.npz
  transfer - transfer.png (target | from | to | result), transfer.npz
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from ..editing import interpolate, mix, parse_layers, transfer
from ..editing.inputs import LATENT_SUFFIXES, code_for, split_selector
from ..errors import WplusError
from ..io.images import image_grid, save_image, to_uint8
from ..io.latents import save_latents
from ..io.video import write_gif, write_video
from .embed import upscale
from .events import EventSink, ignore
from .workspace import EmbedOptions, Workspace


@dataclass(frozen=True)
class EditSources:
    """How editing inputs that are images get their codes."""

    options: EmbedOptions = EmbedOptions()
    cache_dir: Path | None = None  # embedding cache (default ~/.cache/wplus/embeddings)

    def coder(self, ws: Workspace, emit: EventSink = ignore) -> Callable[[str | Path], torch.Tensor]:
        """A function giving the W+ code [1, num_ws, w_dim] of a latent file or an image; the
        loss (and its fallback warning, once) only comes into play for images."""
        config = self.options.config()
        warned: list[bool] = []

        def code(spec: str | Path) -> torch.Tensor:
            if split_selector(spec)[0].suffix.lower() in LATENT_SUFFIXES:
                return code_for(ws.G, spec, config, None, self.cache_dir)
            loss = ws.embedding(self.options, ignore if warned else emit)[1]
            warned.append(True)
            return code_for(ws.G, spec, config, loss, self.cache_dir, ws.fingerprint)
        return code


@dataclass
class MorphResult:
    strip: Path
    animation: Path  # GIF, or MP4 with video=True
    latents: Path
    frames: int


@dataclass
class EditResult:
    figure: Path  # the inputs' renders and the result's, side by side
    latents: Path  # the edited code


def render(ws: Workspace, codes: torch.Tensor, batch: int = 8) -> torch.Tensor:
    """Renders [N, 3, R, R] (const noise, clamped, on the CPU) of codes [N, num_ws, w_dim]."""
    with torch.no_grad():
        return torch.cat([ws.G.synthesis(codes[i:i + batch], noise_mode="const").clamp(-1, 1).cpu()
                          for i in range(0, len(codes), batch)])


def morph_files(ws: Workspace, a: str | Path, b: str | Path, out: Path, frames: int = 30,
                video: bool = False, sources: EditSources = EditSources(), emit: EventSink = ignore) -> MorphResult:
    """Interpolate linearly in W+ from `a` to `b` over `frames` frames."""
    if frames < 2:
        raise WplusError("--frames must be at least 2")
    code = sources.coder(ws, emit)
    code_a, code_b = code(a)[0], code(b)[0]
    codes = interpolate(code_a, code_b, torch.linspace(0, 1, frames))
    images = render(ws, codes)
    out.mkdir(parents=True, exist_ok=True)
    strip = images[torch.linspace(0, len(images) - 1, min(len(images), 8)).round().long()]
    movie = [to_uint8(upscale(f[None]))[0] for f in images]
    return MorphResult(save_image(image_grid(strip), out / "morph_strip.png"),
                       write_video(movie, out / "morph.mp4") if video else write_gif(movie, out / "morph.gif"),
                       save_latents(out / "morph.npz", codes, {"a": str(a), "b": str(b), "frames": frames}),
                       frames)


def mix_files(ws: Workspace, content: str | Path, style: str | Path, out: Path, layers: str = "0-3",
              sources: EditSources = EditSources(), emit: EventSink = ignore) -> EditResult:
    """Crossover: `layers` (e.g. '0-3', 'all') from `style`, the rest from `content`."""
    chosen = parse_layers(layers, ws.G.num_ws)
    code = sources.coder(ws, emit)
    code_c, code_s = code(content), code(style)
    mixed = mix(code_c, code_s, chosen)
    out.mkdir(parents=True, exist_ok=True)
    return EditResult(save_image(image_grid(render(ws, torch.cat([code_c, code_s, mixed]))), out / "mix.png"),
                      save_latents(out / "mix.npz", mixed, {"content": str(content), "style": str(style),
                                                            "layers": chosen}))


def transfer_files(ws: Workspace, target: str | Path, source: str | Path, dest: str | Path, out: Path,
                   strength: float = 1.0, sources: EditSources = EditSources(),
                   emit: EventSink = ignore) -> EditResult:
    """Latent arithmetic: target + strength * (dest - source), e.g. neutral -> smiling."""
    code = sources.coder(ws, emit)
    code_t, code_a, code_b = code(target), code(source), code(dest)
    result = transfer(code_t, code_a, code_b, strength)
    out.mkdir(parents=True, exist_ok=True)
    figure = image_grid(render(ws, torch.cat([code_t, code_a, code_b, result])))
    return EditResult(save_image(figure, out / "transfer.png"),
                      save_latents(out / "transfer.npz", result, {"target": str(target), "from": str(source),
                                                                 "to": str(dest), "strength": strength}))
