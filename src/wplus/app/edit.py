"""Tasks: the paper's editing applications on images or latent files.

Each input is a latent file (`.npz`, `.pt`; its first code) or an image, embedded first with
the `EmbedOptions` and cached (`editing.inputs.code_for`). Outputs:
  morph    - morph_strip.png (8 frames), morph.gif (or morph.mp4), morph.npz (every frame's w)
  mix      - mix.png (content | style | mixed), mix.npz; with a mask (spatial crossover, I2S++):
             mix.png (content | style | mask's blend | result), mix.npz (with noise maps in w+n)
  transfer - transfer.png (target | from | to | result), transfer.npz
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from ..editing import interpolate, mix, parse_layers, transfer
from ..editing.crossover import spatial_crossover
from ..editing.inputs import LATENT_SUFFIXES, Latent, latent_for, split_selector
from ..errors import WplusError
from ..inversion.noise import named_noise
from ..io.images import image_grid, save_image, to_uint8
from ..io.latents import save_latents
from ..io.masks import load_mask
from ..io.video import write_gif, write_video
from .embed import reporter, upscale
from .events import BatchFinished, BatchStarted, EventSink, ignore
from .workspace import EmbedOptions, Workspace


@dataclass(frozen=True)
class EditSources:
    """How editing inputs that are images get their codes."""

    options: EmbedOptions = EmbedOptions()
    cache_dir: Path | None = None  # embedding cache (default ~/.cache/wplus/embeddings)

    def coder(self, ws: Workspace, emit: EventSink = ignore) -> Callable[[str | Path], torch.Tensor]:
        """A function giving the W+ code [1, num_ws, w_dim] of a latent file or an image; the
        loss (and its fallback warning, once) only comes into play for images."""
        latent = self.latents(ws, emit)
        return lambda spec: latent(spec).w

    def latents(self, ws: Workspace, emit: EventSink = ignore) -> Callable[[str | Path], Latent]:
        """As `coder`, giving the code with its noise maps when it has some (W+n)."""
        config = self.options.config()
        warned: list[bool] = []

        def latent(spec: str | Path) -> Latent:
            if split_selector(spec)[0].suffix.lower() in LATENT_SUFFIXES:
                return latent_for(ws.G, spec, config, None, self.cache_dir)
            loss = ws.embedding(self.options, ignore if warned else emit)[1]
            warned.append(True)
            return latent_for(ws.G, spec, config, loss, self.cache_dir, ws.fingerprint)
        return latent


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


def render(ws: Workspace, codes: torch.Tensor, batch: int = 8,
           noise: list[torch.Tensor] | None = None) -> torch.Tensor:
    """Renders [N, 3, R, R] (clamped, on the CPU) of codes [N, num_ws, w_dim], with the noise
    maps [N or 1, 1, r, r] per layer when given, else the generator's const noise."""
    out = []
    with torch.no_grad():
        for i in range(0, len(codes), batch):
            chunk = codes[i:i + batch]
            maps = None if noise is None else [(m if len(m) == 1 else m[i:i + batch]).expand(len(chunk), -1, -1, -1)
                                               for m in noise]
            out.append(ws.G.synthesis(chunk, noise_mode="const", noise=maps).clamp(-1, 1).cpu())
    return torch.cat(out)


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
              sources: EditSources = EditSources(), emit: EventSink = ignore,
              mask: str | Path | None = None) -> EditResult:
    """Crossover: `layers` (e.g. '0-3', 'all') from `style`, the rest from `content`; with a
    `mask` instead, the spatial crossover (`mask_mix`)."""
    if mask is not None:
        return mask_mix(ws, content, style, mask, out, sources, emit)
    chosen = parse_layers(layers, ws.G.num_ws)
    code = sources.coder(ws, emit)
    code_c, code_s = code(content), code(style)
    mixed = mix(code_c, code_s, chosen)
    out.mkdir(parents=True, exist_ok=True)
    return EditResult(save_image(image_grid(render(ws, torch.cat([code_c, code_s, mixed]))), out / "mix.png"),
                      save_latents(out / "mix.npz", mixed, {"content": str(content), "style": str(style),
                                                            "layers": chosen}))


def mask_mix(ws: Workspace, content: str | Path, style: str | Path, mask: str | Path, out: Path,
             sources: EditSources = EditSources(), emit: EventSink = ignore) -> EditResult:
    """Spatial crossover (I2S++): a code rendering `content` where `mask` is white and `style`
    where it is black, optimised from the content's code with the embedding options (space
    w+n optimises noise maps too, any other W+)."""
    weights = load_mask(mask, ws.G.resolution).to(ws.device)
    latent = sources.latents(ws, emit)
    code_c, code_s = latent(content), latent(style)
    config, loss = ws.embedding(sources.options, emit)
    emit(BatchStarted(0, 1, 1, config.steps))
    result = spatial_crossover(ws.G, code_c.w, code_s.w, weights, config, loss, code_c.noise, code_s.noise,
                               [reporter(0, emit, None)])
    emit(BatchFinished(0, 1))
    shown_c, shown_s = render(ws, code_c.w, noise=code_c.noise), render(ws, code_s.w, noise=code_s.noise)
    blend = weights.cpu() * shown_c + (1 - weights.cpu()) * shown_s
    figure = torch.cat([shown_c, shown_s, blend, render(ws, result.latents, noise=result.noise)])
    maps = named_noise(ws.G, result.noise) if result.noise is not None else {}
    out.mkdir(parents=True, exist_ok=True)
    meta = {**ws.run_meta(result.config, loss), "content": str(content), "style": str(style), "mask": str(mask),
            "steps_run": result.steps}
    return EditResult(save_image(image_grid(figure), out / "mix.png"),
                      save_latents(out / "mix.npz", result.latents, meta, psnr=result.psnr, **maps))


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
