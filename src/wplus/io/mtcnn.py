"""MTCNN face detector (Zhang et al. 2016): P-Net proposals over an image pyramid, R-Net
refinement, O-Net boxes + five landmarks. Weights: facenet-pytorch's (MIT), shipped in
`wplus/weights/mtcnn/`, key names `conv1.weight`, `prelu1.weight`, `dense5_1.weight`, ...

Landmark order: left eye, right eye, nose, left mouth corner, right mouth corner, where
"left" is the image's left. Inputs: RGB uint8 arrays [H, W, 3]. Deterministic.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import WplusError

WEIGHTS_DIR = "weights/mtcnn"


class _Net(nn.Module):
    """conv -> PReLU (-> max-pool) stages, then dense heads; names follow the weight files."""

    def __init__(self, convs: list[tuple[int, int, int, tuple | None]], dense: list[tuple[str, int, int]],
                 heads: dict[str, tuple[int, int]], conv_heads: bool = False) -> None:
        super().__init__()
        self.pools = []
        for i, (cin, cout, k, pool) in enumerate(convs, 1):
            setattr(self, f"conv{i}", nn.Conv2d(cin, cout, k))
            setattr(self, f"prelu{i}", nn.PReLU(cout))
            self.pools.append(pool)
        self.n_convs = len(convs)
        self.dense_names = []
        for name, cin, cout in dense:
            setattr(self, name, nn.Linear(cin, cout))
            setattr(self, "prelu" + name[-1], nn.PReLU(cout))
            self.dense_names.append(name)
        self.head_names = list(heads)
        for name, (cin, cout) in heads.items():
            setattr(self, name, nn.Conv2d(cin, cout, 1) if conv_heads else nn.Linear(cin, cout))
        self.conv_heads = conv_heads

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The trunk: conv stages, then (R/O-Net) the dense layer(s); the heads' input."""
        for i in range(1, self.n_convs + 1):
            x = getattr(self, f"prelu{i}")(getattr(self, f"conv{i}")(x))
            pool = self.pools[i - 1]
            if pool:
                x = F.max_pool2d(x, pool[0], pool[1], ceil_mode=True)
        if not self.conv_heads:
            # The original (Caffe) layout flattens in W, H, C order.
            x = x.permute(0, 3, 2, 1).flatten(1)
            for name in self.dense_names:
                x = getattr(self, "prelu" + name[-1])(getattr(self, name)(x))
        return x

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.features(x)
        outs = [getattr(self, name)(x) for name in self.head_names]
        outs[0] = F.softmax(outs[0], dim=1)  # face probability in channel 1
        return outs


def pnet() -> _Net:
    return _Net([(3, 10, 3, (2, 2)), (10, 16, 3, None), (16, 32, 3, None)], [],
                {"conv4_1": (32, 2), "conv4_2": (32, 4)}, conv_heads=True)


def rnet() -> _Net:
    return _Net([(3, 28, 3, (3, 2)), (28, 48, 3, (3, 2)), (48, 64, 2, None)], [("dense4", 576, 128)],
                {"dense5_1": (128, 2), "dense5_2": (128, 4)})


def onet() -> _Net:
    return _Net([(3, 32, 3, (3, 2)), (32, 64, 3, (3, 2)), (64, 64, 3, (2, 2)), (64, 128, 2, None)],
                [("dense5", 1152, 256)], {"dense6_1": (256, 2), "dense6_2": (256, 4), "dense6_3": (256, 10)})


@dataclass
class Face:
    box: np.ndarray  # [x1, y1, x2, y2] in pixels
    probability: float
    landmarks: np.ndarray  # [5, 2] (x, y): left eye, right eye, nose, mouth left, mouth right


def _nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, mode: str = "union") -> np.ndarray:
    """Indices kept by greedy non-maximum suppression (IoU, or intersection over the smaller)."""
    order = np.argsort(-scores, kind="stable")
    areas = (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        xx1 = np.maximum(boxes[i, 0], boxes[order[1:], 0])
        yy1 = np.maximum(boxes[i, 1], boxes[order[1:], 1])
        xx2 = np.minimum(boxes[i, 2], boxes[order[1:], 2])
        yy2 = np.minimum(boxes[i, 3], boxes[order[1:], 3])
        inter = np.clip(xx2 - xx1 + 1, 0, None) * np.clip(yy2 - yy1 + 1, 0, None)
        denom = np.minimum(areas[i], areas[order[1:]]) if mode == "min" else areas[i] + areas[order[1:]] - inter
        order = order[1:][inter / denom <= threshold]
    return np.array(keep, dtype=np.int64)


def _regress(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    out = boxes.copy()
    out[:, :4] = boxes[:, :4] + reg * np.stack([w, h, w, h], axis=1)
    return out


def _square(boxes: np.ndarray) -> np.ndarray:
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out = boxes.copy()
    out[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    out[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    out[:, 2:4] = out[:, :2] + side[:, None]
    return out


def _normalise(x: torch.Tensor) -> torch.Tensor:
    return (x - 127.5) * 0.0078125


class MTCNN:
    """Three-stage detector. `detect(image)` -> faces sorted by probability (highest first)."""

    def __init__(self, weights_dir: str | Path | None = None, min_face: int = 20,
                 thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7), factor: float = 0.709) -> None:
        root = Path(weights_dir) if weights_dir else Path(str(resources.files("wplus") / WEIGHTS_DIR))
        self.nets = {}
        for name, build in (("pnet", pnet), ("rnet", rnet), ("onet", onet)):
            path = root / f"{name}.pt"
            try:
                state = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as exc:
                raise WplusError(f"{path}: cannot read MTCNN weights ({type(exc).__name__}); reinstall wplus") from None
            net = build()
            net.load_state_dict(state, strict=True)
            self.nets[name] = net.eval().requires_grad_(False)
        self.min_face, self.thresholds, self.factor = min_face, thresholds, factor

    def _crops(self, img: torch.Tensor, boxes: np.ndarray, size: int) -> torch.Tensor:
        """Square crops (zero outside the image) resized to size x size, normalised."""
        _, h, w = img.shape
        crops = []
        for x1, y1, x2, y2 in np.round(boxes[:, :4]).astype(int):
            cw, ch = x2 - x1 + 1, y2 - y1 + 1
            canvas = torch.zeros(3, ch, cw)
            sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2 + 1, w), min(y2 + 1, h)
            if sx2 > sx1 and sy2 > sy1:
                canvas[:, sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1] = img[:, sy1:sy2, sx1:sx2]
            crops.append(F.interpolate(canvas[None], size=(size, size), mode="area")[0])
        return _normalise(torch.stack(crops))

    @torch.no_grad()
    def detect(self, image: np.ndarray) -> list[Face]:
        if image.ndim != 3 or image.shape[2] != 3:
            raise WplusError(f"MTCNN needs an RGB image [H, W, 3], got shape {list(image.shape)}")
        img = torch.from_numpy(np.array(image, dtype=np.float32)).permute(2, 0, 1)
        h, w = image.shape[:2]
        boxes = self._stage1(img, h, w)
        if len(boxes):
            boxes = self._refine(img, boxes)
        if not len(boxes):
            return []
        return self._output(img, boxes)

    def _stage1(self, img: torch.Tensor, h: int, w: int) -> np.ndarray:
        m = 12.0 / self.min_face
        side = min(h, w) * m
        found = []
        scale = m
        while side >= 12:
            size = (int(h * scale + 1), int(w * scale + 1))
            x = _normalise(F.interpolate(img[None], size=size, mode="area"))
            prob, reg = self.nets["pnet"](x)
            prob, reg = prob[0, 1].numpy(), reg[0].numpy()
            ys, xs = np.nonzero(prob >= self.thresholds[0])
            if len(ys):
                x1 = np.floor((2 * xs + 1) / scale)
                y1 = np.floor((2 * ys + 1) / scale)
                x2 = np.floor((2 * xs + 12) / scale)
                y2 = np.floor((2 * ys + 12) / scale)
                cand = np.stack([x1, y1, x2, y2, prob[ys, xs], *reg[:, ys, xs]], axis=1)
                found.append(cand[_nms(cand[:, :4], cand[:, 4], 0.5)])
            scale *= self.factor
            side *= self.factor
        if not found:
            return np.zeros((0, 5))
        boxes = np.concatenate(found)
        boxes = boxes[_nms(boxes[:, :4], boxes[:, 4], 0.7)]
        return _square(_regress(boxes[:, :5], boxes[:, 5:9]))

    def _refine(self, img: torch.Tensor, boxes: np.ndarray) -> np.ndarray:
        prob, reg = self.nets["rnet"](self._crops(img, boxes, 24))
        score = prob[:, 1].numpy()
        keep = score > self.thresholds[1]
        boxes = np.concatenate([boxes[keep, :4], score[keep, None]], axis=1)
        reg = reg.numpy()[keep]
        order = _nms(boxes[:, :4], boxes[:, 4], 0.7)
        return _square(_regress(boxes[order], reg[order]))

    def _output(self, img: torch.Tensor, boxes: np.ndarray) -> list[Face]:
        prob, reg, points = self.nets["onet"](self._crops(img, boxes, 48))
        score = prob[:, 1].numpy()
        keep = score > self.thresholds[2]
        boxes, reg, points = boxes[keep], reg.numpy()[keep], points.numpy()[keep]
        boxes[:, 4] = score[keep]
        w = boxes[:, 2] - boxes[:, 0] + 1
        h = boxes[:, 3] - boxes[:, 1] + 1
        xs = w[:, None] * points[:, :5] + boxes[:, 0:1] - 1
        ys = h[:, None] * points[:, 5:] + boxes[:, 1:2] - 1
        boxes = _regress(boxes, reg)
        order = _nms(boxes[:, :4], boxes[:, 4], 0.7, mode="min")
        return [Face(boxes[i, :4].copy(), float(boxes[i, 4]), np.stack([xs[i], ys[i]], axis=1))
                for i in order]
