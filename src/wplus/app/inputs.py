"""Reading the images a task works on: files and folders, optionally face-aligned first.
Unreadable inputs and photos without a face are reported as `Notice`s and skipped."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import torch

from ..errors import WplusError
from ..io.align import Alignment, align
from ..io.images import (
    IMAGE_SUFFIXES,
    ImageLoadError,
    LoadedImage,
    image_grid,
    load_image,
    read_rgb,
    to_generator_input,
    to_uint8,
)
from ..io.mtcnn import Face
from .events import EventSink, FacesFound, Notice, ignore


def face_name(path: Path, index: int, count: int) -> str:
    """Output stem of face `index` of `count` found in `path`: numbered only when several."""
    return path.stem if count == 1 else f"{path.stem}_face{index}"


def faces_in(path: Path, size: int, largest: bool, emit: EventSink = ignore) -> list[tuple[Face, Alignment]]:
    """Detect and FFHQ-align every face in the photo at `path` (emitting `FacesFound`);
    ImageLoadError when the file is unreadable or has no face."""
    found = align(read_rgb(path), size=size, largest=largest)
    emit(FacesFound(path, [tuple(map(float, face.box)) for face, _ in found],
                    [float(face.probability) for face, _ in found]))
    if not found:
        raise ImageLoadError(f"{path}: no face found")
    return found


def aligned_faces(path: Path, size: int, largest: bool, emit: EventSink = ignore) -> list[LoadedImage]:
    """Every face in the photo at `path`, FFHQ-aligned to `size` px; ImageLoadError when none."""
    found = faces_in(path, size, largest, emit)
    items = []
    for k, (face, alignment) in enumerate(found):
        tensor, _ = to_generator_input(np.asarray(alignment.image, dtype=np.float64), size)
        note = f"face {k} of {len(found)} (p={face.probability:.3f}) aligned to {size}x{size}"
        items.append(LoadedImage(path, tensor, note, name=face_name(path, k, len(found)), alignment=alignment))
    return items


def load_inputs(paths: list[Path], resolution: int, do_align: bool = False, largest: bool = False,
                emit: EventSink = ignore) -> tuple[list[LoadedImage], list[str]]:
    """Read (and optionally align) every input at `resolution`. Returns (items, why each
    skipped input was skipped); each skip, resize and alignment is also emitted as a `Notice`."""
    if not paths:
        raise WplusError("no images found in the given inputs (supported: jpg, png, webp, bmp, tif, gif)")
    loaded: list[LoadedImage] = []
    skipped: list[str] = []
    for path in paths:
        try:
            items = aligned_faces(path, resolution, largest, emit) if do_align else [load_image(path, resolution)]
        except ImageLoadError as exc:
            emit(Notice("skipped", str(exc)))
            skipped.append(str(exc))
            continue
        for item in items:
            if item.note:
                emit(Notice("note", f"{path}: {item.note}"))
        loaded += items
    return loaded, skipped


def bundled_examples() -> dict[str, Path]:
    """The sample images shipped in the package (name -> path): a face photo and non-faces."""
    root = Path(str(resources.files("wplus") / "data"))
    return {p.stem: p for p in sorted(root.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}


def preview(images: torch.Tensor, side: int = 256, columns: int = 4) -> np.ndarray:
    """uint8 [H, W, 3] grid of images [N, 3, R, R] in [-1, 1], each upscaled (nearest) to
    about `side` px, for showing renders while they change."""
    scale = max(1, side // images.shape[-1])
    big = torch.nn.functional.interpolate(images.detach().float().cpu().clamp(-1, 1), scale_factor=scale)
    return to_uint8(image_grid(big, columns=min(columns, len(big)))[None])[0]


def unique_stems(names: list[str]) -> list[str]:
    """Output stems made unique by numbering repeats: a, a_2, a_3."""
    seen: dict[str, int] = {}
    out = []
    for stem in names:
        seen[stem] = seen.get(stem, 0) + 1
        out.append(stem if seen[stem] == 1 else f"{stem}_{seen[stem]}")
    return out
