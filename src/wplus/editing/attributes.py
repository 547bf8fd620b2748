"""Measurable attributes of face images, from MTCNN's five landmarks and from pixels (no new weights).

Landmark attributes, in the face's own frame (u: unit vector from the left eye to the right eye,
in image coordinates; n: u turned 90 degrees, pointing from the eyes towards the mouth), so an
in-plane rotation of the face does not change them; `d` is the eye distance:
  yaw        = (nose - eye midpoint) . u / d; 0 for a frontal face, > 0 when the nose lies right of
               the eyes' midpoint in the image (face turned towards the image's right, i.e. the
               person's left); flipping the image flips its sign.
  pitch      = (nose - eye midpoint) . n / (mouth midpoint - eye midpoint) . n: how far down the
               nose tip sits between the eye line (0) and the mouth line (1); about 0.55 on the
               default model's samples (sd 0.06); as the nose tip stands out of the face, it is
               lower for a raised chin and higher for a lowered head.
  smile      = |mouth right - mouth left| / d: mouth width in eye distances (wider when smiling).
  face_scale = |mouth midpoint - eye midpoint| / image side: eye-to-mouth distance, which, unlike the
               eye distance, barely shrinks when the face turns sideways (yaw is the model's
               largest pose variation).
Pixel attributes, on luma Y = 0.299 R + 0.587 G + 0.114 B with pixels in [0, 1]:
  brightness = mean Y over the image.
  lighting   = mean Y of the right half of the image minus mean Y of its left half (> 0: lit from
               the image's right); defined without a face, and on a face model's aligned images the
               face fills the middle of both halves (on the default model it correlates with
               yaw, r = 0.3: `boundaries.condition` separates them).
Landmark attributes are NaN where MTCNN finds no face with probability >= `min_probability`; the
largest such face is measured. Faces are detected on a copy resized to `detect_size` px.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import WplusError
from ..io.align import detect_faces
from ..io.images import to_uint8

#: Attribute names, in the order `measure` returns them.
ATTRIBUTES = ("yaw", "pitch", "smile", "face_scale", "brightness", "lighting")

#: Attributes that need a detected face (NaN without one).
LANDMARK_ATTRIBUTES = ("yaw", "pitch", "smile", "face_scale")

_LUMA = (0.299, 0.587, 0.114)


def luma(images: torch.Tensor) -> torch.Tensor:
    """Luma of images in [-1, 1], on a [0, 1] scale.

    Shape:
        images: [N, 3, H, W]; returns [N, H, W].
    """
    x = (images.float().clamp(-1, 1) + 1) / 2
    weights = torch.tensor(_LUMA, dtype=x.dtype, device=x.device)
    return torch.einsum("nchw,c->nhw", x, weights)


def pixel_attributes(images: torch.Tensor) -> dict[str, torch.Tensor]:
    """`brightness` and `lighting` (see the module's docstring).

    Shape:
        images: [N, 3, H, W] in [-1, 1]; each value: [N].
    """
    y = luma(images)
    half = y.shape[-1] // 2
    left, right = y[..., :half], y[..., y.shape[-1] - half:]
    return {"brightness": y.mean(dim=(1, 2)),
            "lighting": right.mean(dim=(1, 2)) - left.mean(dim=(1, 2))}


def landmark_attributes(landmarks: np.ndarray, side: float) -> dict[str, float]:
    """`yaw`, `pitch`, `smile`, `face_scale` of one face (see the module's docstring).

    Args:
        landmarks: MTCNN's five points (left eye, right eye, nose, mouth left, mouth right).
        side: the image side, in the landmarks' pixels.

    Shape:
        landmarks: [5, 2] (x, y).
    """
    eye_l, eye_r, nose, mouth_l, mouth_r = np.asarray(landmarks, dtype=np.float64)
    eyes, mouth = (eye_l + eye_r) / 2, (mouth_l + mouth_r) / 2
    d = np.hypot(*(eye_r - eye_l))
    u = (eye_r - eye_l) / max(d, 1e-9)
    n = np.array([-u[1], u[0]])
    depth = (mouth - eyes) @ n
    return {"yaw": float((nose - eyes) @ u / max(d, 1e-9)),
            "pitch": float((nose - eyes) @ n / depth) if abs(depth) > 1e-9 else float("nan"),
            "smile": float(np.hypot(*(mouth_r - mouth_l)) / max(d, 1e-9)),
            "face_scale": float(np.hypot(*(mouth - eyes)) / side)}


def _for_detector(images: torch.Tensor, size: int | None) -> np.ndarray:
    """uint8 [N, h, w, 3] copies whose longer side is `size` (unchanged when None)."""
    h, w = images.shape[-2:]
    if size is not None and size != max(h, w):
        shape = (max(round(h * size / max(h, w)), 1), max(round(w * size / max(h, w)), 1))
        images = F.interpolate(images.float(), size=shape, mode="bilinear", align_corners=False,
                               antialias=size < max(h, w))
    return to_uint8(images)


@contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with `n` torch threads (unchanged when None), then restore the count."""
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n is not None:
            torch.set_num_threads(before)


def measure(images: torch.Tensor, detect_size: int | None = 128, min_probability: float = 0.9,
            batch: int = 256, threads: int | None = 1) -> dict[str, torch.Tensor]:
    """Every attribute in `ATTRIBUTES` for each image.

    Args:
        images: RGB images in [-1, 1] (any device; measured on the CPU).
        detect_size: longer side, in px, of the copies MTCNN runs on (None: as given). On the
            default 64 px model's samples, 128 finds a face in 95% (64 px: 94.5%, 256: 95%), with
            slightly steadier landmarks than 64 and 1.8x the speed of 256; large images are
            shrunk to it, as MTCNN's image pyramid makes detection slow on big ones.
        min_probability: faces less likely than this do not count (landmark attributes NaN).
        batch: images resized and converted at a time.
        threads: torch threads while MTCNN runs, restored afterwards (None: leave them). MTCNN's
            many tiny ops gain little from a second thread (1.3x on 2 idle cores) and slow down
            by an order of magnitude when another process competes for the cores.

    Shape:
        images: [N, 3, H, W]; each value: [N] float32.

    Returns:
        Attribute name -> values, in the order of `ATTRIBUTES`.
    """
    if images.ndim != 4 or images.shape[1] != 3:
        raise WplusError(f"measure needs RGB images [N, 3, H, W], got shape {list(images.shape)}")
    if detect_size is not None and detect_size < 24:
        raise WplusError(f"detect_size must be at least 24 px (MTCNN's smallest face), got {detect_size}")
    images = images.detach().cpu()
    values = {name: torch.full((len(images),), float("nan")) for name in LANDMARK_ATTRIBUTES}
    with _torch_threads(threads):
        for start in range(0, len(images), batch):
            arrays = _for_detector(images[start:start + batch], detect_size)
            side = float(max(arrays.shape[1:3]))
            for i, array in enumerate(arrays, start):
                faces = [f for f in detect_faces(array) if f.probability >= min_probability]
                if not faces:
                    continue
                face = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
                for name, value in landmark_attributes(face.landmarks, side).items():
                    values[name][i] = value
    values.update(pixel_attributes(images))
    return {name: values[name].float() for name in ATTRIBUTES}
