import numpy as np
import pytest
import torch
from PIL import Image

from wplus.io.images import ImageLoadError, find_images, load_image, save_image


def _gradient(w=40, h=30):
    x = np.linspace(0, 255, w)[None, :, None].repeat(h, 0)
    y = np.linspace(0, 255, h)[:, None, None].repeat(w, 1)
    return np.concatenate([x, y, 255 - x], axis=2).astype(np.uint8)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".bmp", ".tif"])
def test_common_formats(tmp_path, suffix):
    path = tmp_path / f"img{suffix}"
    Image.fromarray(_gradient()).save(path)
    item = load_image(path, 16)
    assert item.tensor.shape == (1, 3, 16, 16)
    assert item.tensor.min() >= -1 and item.tensor.max() <= 1
    assert "centre-cropped 40x30" in item.note and "resized 30x30 to 16x16" in item.note


def test_modes_are_converted(tmp_path):
    gray16 = tmp_path / "g16.png"
    Image.fromarray(np.full((8, 8), 65535, np.uint16)).save(gray16)
    assert torch.allclose(load_image(gray16, 8).tensor, torch.ones(1, 3, 8, 8))
    rgba = tmp_path / "rgba.png"
    a = np.zeros((8, 8, 4), np.uint8)  # fully transparent -> white background
    Image.fromarray(a, "RGBA").save(rgba)
    assert torch.allclose(load_image(rgba, 8).tensor, torch.ones(1, 3, 8, 8))
    pal = tmp_path / "p.png"
    Image.fromarray(_gradient(8, 8)).convert("P").save(pal)
    assert load_image(pal, 8).note is None
    gray = tmp_path / "l.jpg"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(gray)
    assert load_image(gray, 8).tensor.shape == (1, 3, 8, 8)


# One test per Pillow mode: a 16x16 image whose levels are known, saved in that mode, must load
# as exactly those levels (within one 8-bit step): 0 -> -1, 136 -> ~0, 255 -> +1.
_LEVELS = np.arange(16) * 17.0  # 0, 17, ..., 255 along the columns
_COLS = np.tile(_LEVELS, (16, 1))  # [H, W]: level of the column
_ROWS = _COLS.T  # [H, W]: level of the row
_ALPHA = np.repeat([255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 51, 51, 51, 51, 255, 255],
                   16).reshape(16, 16)  # opaque, transparent and 20% rows


def _over_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha[..., None] / 255.0
    return rgb * a + 255.0 * (1 - a)


def _palette_image(mode: str) -> tuple[Image.Image, np.ndarray]:
    colours = np.stack([_LEVELS, 255 - _LEVELS, _LEVELS // 2], axis=1)  # 16 palette entries
    index = np.tile(np.arange(16, dtype=np.uint8), (16, 1))
    if mode == "P":
        img = Image.frombytes("P", (16, 16), index.tobytes())
    else:
        img = Image.frombytes("PA", (16, 16), np.dstack([index, _ALPHA]).astype(np.uint8).tobytes())
    img.putpalette(colours.astype(np.uint8).ravel().tolist())
    expected = colours[np.tile(np.arange(16), (16, 1))]
    return img, (_over_white(expected, _ALPHA) if mode == "PA" else expected)


def _u8(a: np.ndarray) -> np.ndarray:
    return a.astype(np.uint8)


_GREY = np.repeat(_COLS[..., None], 3, axis=2)
_RGB = np.stack([_COLS, _ROWS, 255 - _COLS], axis=2)
_CMYK = np.stack([_COLS, _ROWS, np.zeros_like(_COLS), np.zeros_like(_COLS)], axis=2)  # K = 0

#: Single-band 16-bit, 32-bit integer and float arrays (the suffix after ':' is the value
#: range); each must load as the grey levels of _COLS.
_WIDE = {
    "I;16": (_COLS * 257).astype(np.uint16), "I;16B": (_COLS * 257).astype(">u2"),
    "I:0-255": _COLS.astype(np.int32), "I:0-65535": (_COLS * 257).astype(np.int32),
    "F:0-1": (_COLS / 255).astype(np.float32), "F:0-255": _COLS.astype(np.float32),
    "F:0-65535": (_COLS * 257).astype(np.float32),
}
#: 8-bit modes: a Pillow image in that mode and the RGB array in 0..255 it must load as.
#: (No YCbCr: no lossless format round-trips it across Pillow versions; 12.3 cannot read
#: back the YCbCr TIFF it writes.)
_EIGHT_BIT = {
    "1": lambda: (Image.fromarray(_COLS >= 128), np.repeat((_COLS >= 128)[..., None] * 255.0, 3, axis=2)),
    "L": lambda: (Image.fromarray(_u8(_COLS)), _GREY),
    "LA": lambda: (Image.merge("LA", [Image.fromarray(_u8(_COLS)), Image.fromarray(_u8(_ALPHA))]),
                   _over_white(_GREY, _ALPHA)),
    "P": lambda: _palette_image("P"),
    "PA": lambda: _palette_image("PA"),
    "RGB": lambda: (Image.fromarray(_u8(_RGB)), _RGB),
    "RGBA": lambda: (Image.fromarray(_u8(np.dstack([_RGB, _ALPHA]))), _over_white(_RGB, _ALPHA)),
    "CMYK": lambda: (Image.fromarray(_u8(_CMYK), "CMYK"), 255 - _CMYK[..., :3]),  # R = 255 - C ...
}


def _mode_case(case: str) -> tuple[Image.Image, np.ndarray]:
    """A Pillow image for `case` and the RGB array in 0..255 it must load as."""
    if case in _WIDE:
        return Image.fromarray(_WIDE[case]), _GREY
    return _EIGHT_BIT[case]()


@pytest.mark.parametrize("case,suffix", [
    ("1", ".png"), ("L", ".png"), ("LA", ".png"), ("P", ".png"), ("PA", ".tif"),
    ("RGB", ".png"), ("RGBA", ".png"), ("CMYK", ".tif"),
    ("I;16", ".png"), ("I;16", ".tif"), ("I;16B", ".tif"), ("I:0-255", ".tif"),
    ("I:0-65535", ".tif"), ("F:0-1", ".tif"), ("F:0-255", ".tif"), ("F:0-65535", ".tif"),
])
def test_every_mode_loads_its_real_range(tmp_path, case, suffix):
    img, expected = _mode_case(case)
    path = tmp_path / f"img{suffix}"
    img.save(path)
    with Image.open(path) as reread:
        assert reread.mode == case.split(":")[0]  # the file really holds that mode
    item = load_image(path, 16)
    assert item.note is None  # no crop or resize: the pixels are compared as they are
    want = torch.from_numpy(expected).float().permute(2, 0, 1)[None] / 127.5 - 1
    torch.testing.assert_close(item.tensor, want, atol=1.01 / 127.5, rtol=0)


def test_exif_orientation_applied(tmp_path):
    img = Image.fromarray(_gradient(40, 20))  # landscape
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 on display
    path = tmp_path / "rot.jpg"
    img.save(path, exif=exif)
    assert "centre-cropped 20x40" in load_image(path, 8).note  # portrait after transpose


@pytest.mark.parametrize("name,content,match", [
    ("empty.png", b"", "empty"),
    ("text.png", b"hello, I am text", "not a readable image"),
    ("trunc.png", None, "corrupt or truncated"),
])
def test_bad_files_one_line(tmp_path, name, content, match):
    path = tmp_path / name
    if content is None:
        good = tmp_path / "good.png"
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(good)
        content = good.read_bytes()[:200]
    path.write_bytes(content)
    with pytest.raises(ImageLoadError, match=match) as info:
        load_image(path, 16)
    assert name in str(info.value) and "\n" not in str(info.value)


def test_decompression_bomb_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    Image.new("1", (30000, 30000)).save(path)  # tiny file, 900 M pixels declared
    with pytest.raises(ImageLoadError, match="too large"):
        load_image(path, 16)


def test_find_images_and_save(tmp_path):
    (tmp_path / "b.png").write_bytes(b"")
    (tmp_path / "a.txt").write_text("x")
    save_image(torch.zeros(3, 4, 4), tmp_path / "c.png")
    assert [p.name for p in find_images([tmp_path])] == ["b.png", "c.png"]
    assert np.asarray(Image.open(tmp_path / "c.png")).max() in (127, 128)
