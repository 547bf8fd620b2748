"""Task: write FFHQ-aligned crops of every face found in photos."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import WplusError
from ..io.images import ImageLoadError, find_images
from .events import EventSink, Notice, ignore
from .inputs import face_name, faces_in


@dataclass
class AlignResult:
    written: list[Path] = field(default_factory=list)  # one PNG per face
    inputs: int = 0
    skipped: int = 0  # unreadable photos or photos without a face


def align_files(inputs: list[str | Path], out: Path, size: int = 1024, largest: bool = False,
                emit: EventSink = ignore) -> AlignResult:
    """Detect faces in every photo and write each as `out/NAME.png` (NAME_faceK.png when a
    photo has several)."""
    paths = find_images(inputs)
    if not paths:
        raise WplusError("no images found in the given inputs")
    out.mkdir(parents=True, exist_ok=True)
    result = AlignResult(inputs=len(paths))
    for path in paths:
        try:
            found = faces_in(path, size, largest, emit)
        except ImageLoadError as exc:
            emit(Notice("skipped", str(exc)))
            result.skipped += 1
            continue
        for k, (_, alignment) in enumerate(found):
            target = out / f"{face_name(path, k, len(found))}.png"
            alignment.image.save(target)
            result.written.append(target)
    return result
