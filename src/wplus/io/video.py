"""MP4 writing through imageio-ffmpeg (ships its own ffmpeg binary)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def write_video(frames: list[np.ndarray], path: str | Path, fps: int = 24) -> Path:
    """frames: uint8 [H, W, 3] arrays (sides padded up to a multiple of 16 by ffmpeg)."""
    import imageio.v2 as imageio

    path = Path(path)
    with imageio.get_writer(path, fps=fps, codec="libx264", quality=8,
                            macro_block_size=16, ffmpeg_log_level="error") as writer:
        for frame in frames:
            writer.append_data(np.ascontiguousarray(frame))
    return path


def write_gif(frames: list[np.ndarray], path: str | Path, fps: int = 12) -> Path:
    """Looping GIF of uint8 [H, W, 3] frames (Pillow)."""
    from PIL import Image

    path = Path(path)
    images = [Image.fromarray(np.ascontiguousarray(f)) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    return path
