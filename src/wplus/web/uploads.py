"""Checks on uploaded files, and messages that never show the server's paths."""
from __future__ import annotations

import re
from pathlib import Path

import gradio as gr
from PIL import Image, UnidentifiedImageError


def upload_paths(files) -> list[Path]:
    """Paths of a gr.File value (None, one path, or a list of them)."""
    if not files:
        return []
    return [Path(f if isinstance(f, str) else f.name) for f in (files if isinstance(files, list) else [files])]


def check_pixels(paths: list[Path], max_pixels: int) -> None:
    """Refuse images whose declared size is over `max_pixels` (read from the header only);
    files that are not images are left for the loader to report."""
    for path in paths:
        try:
            with Image.open(path) as img:
                w, h = img.size
        except Image.DecompressionBombError:
            raise gr.Error(f"{path.name} declares a huge size (decompression-bomb guard); downscale it first") from None
        except (UnidentifiedImageError, OSError, ValueError):
            continue
        if w * h > max_pixels:
            raise gr.Error(f"{path.name} is {w}x{h} pixels; the limit here is {max_pixels / 1e6:.0f} "
                           "megapixels: downscale it first")


_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s/:'\"]+/)+([^\s/:'\"]+)")


def public(text: str) -> str:
    """`text` with every absolute path shortened to its file name, so that messages shown
    in the page never reveal the server's folders."""
    return _ABSOLUTE_PATH.sub(r"\1", text)
