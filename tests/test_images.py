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
