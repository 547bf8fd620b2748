"""The only place that reads image files: validation, conversion, crop and resize.

Library images are float tensors [N, 3, H, W] in [-1, 1], RGB.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import WplusError
from ..files import write_atomically

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
#: Refuse images with more pixels than this (decompression-bomb guard), ~ 16k x 8k.
MAX_PIXELS = 128_000_000


class ImageLoadError(WplusError):
    pass


@dataclass
class LoadedImage:
    """One image file read for a generator (what `load_image` returns)."""

    path: Path
    tensor: torch.Tensor  # [1, 3, R, R] in [-1, 1]
    note: str | None  # e.g. "centre-cropped 640x480 to 480x480; resized 480x480 to 64x64"
    name: str = ""  # output file stem; the file's stem unless set (e.g. "photo_face1")
    alignment: object | None = None  # io.align.Alignment when the image is an aligned face

    def __post_init__(self) -> None:
        self.name = self.name or self.path.stem


def find_images(inputs: list[str | Path]) -> list[Path]:
    """Expand folders (sorted, image suffixes only); files are kept as given, even bad ones,
    so that loading reports them."""
    out: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            out += sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            out.append(item)
    return out


def _full_scale(a: np.ndarray, mode: str) -> float:
    """The value that means white for a single-channel 16-bit, integer or float image.

    ``I;16*``: 65535. ``I``: 255 if its maximum is <= 255 (8-bit data widened to 32 bits),
    else 65535 if it fits 16 bits, else its maximum. ``F``: 1.0 if its maximum is <= 1.0
    (the usual [0, 1] float image), else the ``I`` rule (8-bit or 16-bit data stored as float).
    """
    if mode.startswith("I;16"):
        return 65535.0
    top = float(a.max(initial=0.0))
    if mode == "F" and top <= 1.0:
        return 1.0
    if top <= 255.0:
        return 255.0
    return 65535.0 if top <= 65535.0 else top


def _to_rgb_array(img: Image.Image) -> np.ndarray:
    """Any PIL mode -> float array [H, W, 3] in 0..255; transparency composited on white.

    16-bit, 32-bit integer and float greyscale images (modes ``I;16*``, ``I``, ``F``) are
    scaled by their real range (see `_full_scale`): a float TIFF in [0, 1] maps 1.0 to 255.
    Negative and non-finite values become 0 (black).
    """
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        a = np.nan_to_num(np.asarray(img, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        a = np.clip(a / _full_scale(a, img.mode) * 255.0, 0, 255)
        return np.repeat(a[..., None], 3, axis=2)
    if img.mode == "P" or img.mode in ("LA", "PA") or "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    return np.asarray(img.convert("RGB"), dtype=np.float64)


def load_image(path: str | Path, resolution: int) -> LoadedImage:
    """Read one image file as a generator input: RGB, centre-cropped square, resized.

    Any Pillow mode is converted (16-bit and float images by their real range, transparency
    over white); EXIF rotation is applied.

    Args:
        path: an image file (PNG, JPEG, WebP, BMP, TIFF, GIF).
        resolution: side R of the output, e.g. `G.resolution`.

    Shape:
        tensor: [1, 3, R, R], float32 in [-1, 1].

    Returns:
        A `LoadedImage`: `path`; `tensor`; `note`, what was done to fit (e.g. "centre-cropped
        640x480 to 480x480; resized 480x480 to 64x64") or None; `name`, the output file stem
        (the file's stem); `alignment`, None here (an `io.align.Alignment` for aligned faces).

    Raises:
        ImageLoadError: missing, empty, unreadable, truncated or too large file (one line).

    Example:
        >>> from importlib import resources
        >>> item = load_image(str(resources.files("wplus") / "data" / "coffee.png"), 64)
        >>> item.tensor.shape, item.name, item.note
        (torch.Size([1, 3, 64, 64]), 'coffee', 'resized 128x128 to 64x64')
    """
    path = Path(path)
    tensor, note = to_generator_input(read_rgb(path), resolution)
    return LoadedImage(path, tensor, note)


def read_rgb(path: str | Path) -> np.ndarray:
    """Read any supported image file as an RGB float array [H, W, 3] in 0..255 (EXIF-rotated)."""
    path = Path(path)
    if not path.is_file():
        raise ImageLoadError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ImageLoadError(f"{path}: the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                w, h = img.size
                if w * h > MAX_PIXELS:
                    raise ImageLoadError(f"{path}: declared size {w}x{h} is too large "
                                         f"(over {MAX_PIXELS:,} pixels); downscale it first")
                img.load()
                img = ImageOps.exif_transpose(img)
                return _to_rgb_array(img)
    except ImageLoadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageLoadError(f"{path}: declared size is too large (decompression-bomb guard); "
                             "downscale it first") from None
    except UnidentifiedImageError as exc:
        raise ImageLoadError(f"{path}: not a readable image ({type(exc).__name__})") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageLoadError(f"{path}: corrupt or truncated image ({str(exc).splitlines()[0]})") from None


def to_generator_input(array: np.ndarray, resolution: int) -> tuple[torch.Tensor, str | None]:
    """[H, W, 3] array in 0..255 -> centre-cropped square [1, 3, R, R] in [-1, 1], plus a note."""
    h, w = array.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = array[top:top + side, left:left + side]
    notes = []
    if h != w:
        notes.append(f"centre-cropped {w}x{h} to {side}x{side}")
    if side != resolution:
        img = Image.fromarray(np.clip(square, 0, 255).round().astype(np.uint8))
        square = np.asarray(img.resize((resolution, resolution), Image.Resampling.LANCZOS),
                            dtype=np.float64)
        notes.append(f"resized {side}x{side} to {resolution}x{resolution}")
    tensor = torch.from_numpy(square).float().permute(2, 0, 1)[None] / 127.5 - 1
    return tensor, ("; ".join(notes) or None)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[N, 3, H, W] in [-1, 1] -> uint8 [N, H, W, 3]."""
    x = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


def save_image(image: torch.Tensor, path: str | Path) -> Path:
    """Save one [3, H, W] or [1, 3, H, W] image in [-1, 1] as PNG/JPEG (by suffix)."""
    path = Path(path)
    array = to_uint8(image if image.ndim == 4 else image[None])[0]
    return write_atomically(path, lambda tmp: Image.fromarray(array).save(tmp), path.suffix)


def image_grid(images: torch.Tensor, columns: int | None = None) -> torch.Tensor:
    """Tile [N, 3, H, W] into one [3, rows*H, cols*W] image (left to right, top to bottom)."""
    n, c, h, w = images.shape
    cols = columns or n
    rows = -(-n // cols)
    grid = images.new_full((c, rows * h, cols * w), -1.0)
    for i, img in enumerate(images):
        r, col = divmod(i, cols)
        grid[:, r * h:(r + 1) * h, col * w:(col + 1) * w] = img
    return grid
