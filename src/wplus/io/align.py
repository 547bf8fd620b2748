"""FFHQ-style face alignment from MTCNN's five landmarks, and pasting results back.

The FFHQ recipe (Karras et al. 2019) needs only the eye centres and the mouth corners:
  eye_avg = mean of the eyes, eye_to_eye = right - left, eye_to_mouth = mouth_avg - eye_avg
  x = eye_to_eye - rot90(eye_to_mouth); x = x / |x| * max(2 |eye_to_eye|, 1.8 |eye_to_mouth|)
  y = rot90(x); c = eye_avg + 0.1 eye_to_mouth
  crop quad = (c - x - y, c - x + y, c + x + y, c + x - y), resampled to the output square.
Where the quad leaves the photo, the photo is mirror-padded and the padding faded towards a
blurred copy and the median colour (as FFHQ did), so no hard black borders enter the crop.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from ..errors import WplusError
from .mtcnn import MTCNN, Face

_detector: MTCNN | None = None


def detector() -> MTCNN:
    """The shared MTCNN instance (weights load once per process)."""
    global _detector
    if _detector is None:
        _detector = MTCNN()
    return _detector


#: Photos larger than this (longer side) are detected on a downscaled copy; alignment still
#: samples the full-resolution photo.
DETECT_MAX_SIDE = 1536


def detect_faces(array: np.ndarray) -> list[Face]:
    """MTCNN on an RGB array, downscaled first when huge (boxes and points scaled back)."""
    scale = max(array.shape[:2]) / DETECT_MAX_SIDE
    if scale <= 1:
        return detector().detect(array)
    small = Image.fromarray(array).resize((round(array.shape[1] / scale), round(array.shape[0] / scale)),
                                          Image.Resampling.BILINEAR, reducing_gap=2.0)
    faces = detector().detect(np.asarray(small))
    for f in faces:
        f.box, f.landmarks = f.box * scale, f.landmarks * scale
    return faces


def align(photo: Image.Image | np.ndarray, size: int = 1024, largest: bool = False,
          min_probability: float = 0.9) -> list[tuple[Face, Alignment]]:
    """Detect faces with MTCNN and crop, rotate and scale each the FFHQ way.

    Args:
        photo: an RGB (or greyscale) PIL image or uint8 array.
        size: side in pixels of each aligned square crop.
        largest: keep only the largest face.
        min_probability: drop detections less likely than this.

    Shape:
        photo (array): [H, W, 3] or [H, W]; each crop: size x size RGB.

    Returns:
        One `(face, alignment)` pair per face, largest first (by box area): the MTCNN `Face`
        (`box`, `probability`, five `landmarks`) and an `Alignment` (`image`, the aligned crop;
        `quad`, its corners in the photo; `size`). Empty when no face is found.

    Example:
        >>> from importlib import resources
        >>> photo = Image.open(str(resources.files("wplus") / "data" / "astronaut.png"))
        >>> [(face, crop)] = align(photo, size=64, largest=True)
        >>> crop.image.size, face.landmarks.shape
        ((64, 64), (5, 2))
    """
    array = np.asarray(photo.convert("RGB") if isinstance(photo, Image.Image) else photo)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    array = np.clip(array, 0, 255).astype(np.uint8)
    faces = [f for f in detect_faces(array) if f.probability >= min_probability]
    faces.sort(key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
    if largest:
        faces = faces[:1]
    return [(f, align_face(array, f.landmarks, size)) for f in faces]


@dataclass
class Alignment:
    image: Image.Image  # the aligned square crop
    quad: np.ndarray  # [4, 2] corners in the photo: top-left, bottom-left, bottom-right, top-right
    size: int

    def to_photo(self, points: np.ndarray) -> np.ndarray:
        """Map [K, 2] pixel coordinates of the aligned crop to the photo."""
        q0, q1, q3 = self.quad[0], self.quad[1], self.quad[3]
        u, v = points[:, :1] / self.size, points[:, 1:2] / self.size
        return q0 + u * (q3 - q0) + v * (q1 - q0)

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """Map [K, 2] photo coordinates into the aligned crop."""
        q0, q1, q3 = self.quad[0], self.quad[1], self.quad[3]
        basis = np.stack([q3 - q0, q1 - q0], axis=1) / self.size  # columns: du, dv
        return np.linalg.solve(basis, (points - q0).T).T


def ffhq_quad(landmarks: np.ndarray) -> np.ndarray:
    """Crop quad [4, 2] from 5 landmarks (left eye, right eye, nose, mouth left, mouth right)."""
    eye_left, eye_right, _, mouth_left, mouth_right = np.asarray(landmarks, dtype=np.float64)
    eye_avg = (eye_left + eye_right) / 2
    eye_to_eye = eye_right - eye_left
    eye_to_mouth = (mouth_left + mouth_right) / 2 - eye_avg
    x = eye_to_eye - np.array([-eye_to_mouth[1], eye_to_mouth[0]])
    x /= np.hypot(*x)
    x *= max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = np.array([-x[1], x[0]])
    c = eye_avg + eye_to_mouth * 0.1
    return np.stack([c - x - y, c - x + y, c + x + y, c + x - y])


def _affine_coefficients(quad: np.ndarray, size: int) -> tuple[float, ...]:
    """PIL AFFINE data mapping output pixel (u, v) to photo (X, Y) for the quad."""
    q0, q1, q3 = quad[0], quad[1], quad[3]
    du, dv = (q3 - q0) / size, (q1 - q0) / size
    return (du[0], dv[0], q0[0], du[1], dv[1], q0[1])


def _pad_for(photo: Image.Image, quad: np.ndarray) -> tuple[Image.Image, np.ndarray]:
    """Mirror-pad where the quad leaves the photo; fade the padding to blur and median."""
    w, h = photo.size
    qsize = np.hypot(*(quad[3] - quad[0]))
    border = max(int(round(qsize * 0.1)), 3)
    lo = np.floor(quad.min(0)).astype(int) - border
    hi = np.ceil(quad.max(0)).astype(int) + border
    pad = np.maximum([-lo[0], -lo[1], hi[0] - w, hi[1] - h], 0)
    if not pad.any():
        return photo, quad
    a = np.asarray(photo, dtype=np.float32)
    a = np.pad(a, ((pad[1], pad[3]), (pad[0], pad[2]), (0, 0)), mode="symmetric")
    hh, ww = a.shape[:2]
    ys, xs = np.mgrid[0:hh, 0:ww].astype(np.float32)
    dist = np.maximum.reduce([
        1 - xs / max(pad[0], 1) if pad[0] else np.zeros_like(xs),
        1 - (ww - 1 - xs) / max(pad[2], 1) if pad[2] else np.zeros_like(xs),
        1 - ys / max(pad[1], 1) if pad[1] else np.zeros_like(ys),
        1 - (hh - 1 - ys) / max(pad[3], 1) if pad[3] else np.zeros_like(ys)])
    dist = np.clip(dist, 0, 1)[..., None]
    blurred = np.asarray(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(float(max(qsize * 0.02, 1)))), dtype=np.float32)
    a += (blurred - a) * np.clip(dist * 3, 0, 1)
    a += (np.median(a, axis=(0, 1)) - a) * dist
    return Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8)), quad + [pad[0], pad[1]]


def align_face(photo: Image.Image | np.ndarray, landmarks: np.ndarray, size: int = 1024) -> Alignment:
    """Aligned square crop of `size` px for one face's landmarks."""
    if size < 8:
        raise WplusError(f"alignment size must be at least 8 px, got {size}")
    img = photo if isinstance(photo, Image.Image) else Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8))
    img = img.convert("RGB")
    quad = ffhq_quad(landmarks)
    work, work_quad = img, quad.copy()
    shrink = int(np.floor(np.hypot(*(quad[3] - quad[0])) / size * 0.5))
    if shrink > 1:  # downscale with antialiasing first, as bilinear sampling would alias
        work = img.resize((int(np.ceil(img.width / shrink)), int(np.ceil(img.height / shrink))),
                          Image.Resampling.LANCZOS)
        work_quad = quad / shrink
    work, work_quad = _pad_for(work, work_quad)
    aligned = work.transform((size, size), Image.Transform.AFFINE, _affine_coefficients(work_quad, size),
                             resample=Image.Resampling.BILINEAR)
    return Alignment(aligned, quad, size)


def paste_back(photo: Image.Image, alignment: Alignment, crop: Image.Image, feather: float = 0.05) -> Image.Image:
    """Warp `crop` (e.g. a reconstruction of the aligned face) back into the photo, blending
    its border over `feather` x crop size."""
    crop = crop.convert("RGB").resize((alignment.size, alignment.size), Image.Resampling.LANCZOS)
    forward = np.array(_affine_coefficients(alignment.quad, alignment.size)).reshape(2, 3)
    coeffs = tuple(np.linalg.inv(np.vstack([forward, [0, 0, 1]]))[:2].reshape(-1))
    warped = crop.transform(photo.size, Image.Transform.AFFINE, coeffs, resample=Image.Resampling.BILINEAR)
    margin = max(int(alignment.size * feather), 1)
    mask = Image.new("L", (alignment.size, alignment.size), 0)
    mask.paste(255, (margin, margin, alignment.size - margin, alignment.size - margin))
    mask = mask.filter(ImageFilter.GaussianBlur(margin / 2))
    mask = mask.transform(photo.size, Image.Transform.AFFINE, coeffs, resample=Image.Resampling.BILINEAR)
    return Image.composite(warped, photo.convert("RGB"), mask)
