"""MTCNN detection and FFHQ alignment on real photos (scikit-image's bundled data)."""
import numpy as np
import pytest
from PIL import Image

skimage_data = pytest.importorskip("skimage.data")

from wplus.cli import main  # noqa: E402
from wplus.io.align import align, align_face, detector, ffhq_quad, paste_back  # noqa: E402


@pytest.fixture(scope="module")
def astronaut():
    return skimage_data.astronaut()


@pytest.fixture(scope="module")
def face(astronaut):
    faces = detector().detect(astronaut)
    assert len(faces) == 1
    return faces[0]


def test_one_face_with_ordered_landmarks(face):
    assert face.probability >= 0.95
    (x1, y1, x2, y2), lm = face.box, face.landmarks
    assert ((lm[:, 0] > x1) & (lm[:, 0] < x2) & (lm[:, 1] > y1) & (lm[:, 1] < y2)).all()
    left_eye, right_eye, nose, mouth_l, mouth_r = lm
    assert left_eye[0] < right_eye[0] and mouth_l[0] < mouth_r[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_l[1], mouth_r[1])


def test_aligned_crop_puts_eyes_where_the_recipe_says(astronaut, face):
    al = align_face(astronaut, face.landmarks, 256)
    expected = al.to_crop(face.landmarks)
    # FFHQ geometry: eyes level, symmetric about the centre, at 0.5 -/+ |eye_to_eye| / (4 |x|).
    assert abs(expected[0, 1] - expected[1, 1]) < 3 and abs(expected[:2, 0].mean() - 128) < 3
    again = detector().detect(np.asarray(al.image))
    assert len(again) == 1
    assert np.abs(again[0].landmarks[:2] - expected[:2]).max() < 3.0  # pixels, in a 256 crop


def test_landmarks_follow_a_known_transform(astronaut, face):
    h, w = astronaut.shape[:2]
    flipped = detector().detect(np.ascontiguousarray(astronaut[:, ::-1]))[0].landmarks
    mirrored = np.stack([w - 1 - face.landmarks[:, 0], face.landmarks[:, 1]], axis=1)[[1, 0, 2, 4, 3]]
    assert np.abs(flipped - mirrored).max() < 4.0
    # rotate 12 degrees about the centre and scale by 0.8
    angle, scale = np.deg2rad(12), 0.8
    c = np.array([w / 2, h / 2])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    inv = np.linalg.inv(rot)  # PIL maps output -> input
    offset = c - inv @ c
    warped = Image.fromarray(astronaut).transform((w, h), Image.Transform.AFFINE,
                                                  (*inv[0], offset[0], *inv[1], offset[1]),
                                                  resample=Image.Resampling.BILINEAR)
    moved = detector().detect(np.asarray(warped))[0].landmarks
    predicted = (face.landmarks - c) @ rot.T + c
    assert np.abs(moved - predicted).max() < 4.0


@pytest.mark.parametrize("name", ["coffee", "rocket", "chelsea"])
def test_no_face_in_non_face_photos(name):
    assert align(getattr(skimage_data, name)(), size=64) == []


def test_paste_back_of_unchanged_crop_restores_the_photo(astronaut, face):
    al = align_face(astronaut, face.landmarks, 512)
    back = np.asarray(paste_back(Image.fromarray(astronaut), al, al.image), dtype=np.float32)
    x1, y1, x2, y2 = face.box.astype(int)
    region = np.abs(back[y1:y2, x1:x2] - astronaut[y1:y2, x1:x2]).mean()
    assert region < 4.0  # resampling twice (bilinear) costs a few grey levels
    assert np.array_equal(back[:20, :20], astronaut[:20, :20].astype(np.float32))  # outside: untouched


def test_quad_is_a_square_centred_between_eyes_and_mouth(face):
    quad = ffhq_quad(face.landmarks)
    sides = np.linalg.norm(np.roll(quad, -1, axis=0) - quad, axis=1)
    assert np.allclose(sides, sides[0], rtol=1e-6)


def test_cli_align_grayscale_tiny_and_faceless(tmp_path, capsys):
    Image.fromarray(skimage_data.camera()).save(tmp_path / "camera.png")  # grayscale portrait
    Image.fromarray(skimage_data.coffee()).save(tmp_path / "coffee.png")
    Image.fromarray(skimage_data.astronaut()[::32, ::32]).save(tmp_path / "tiny.png")  # 16x16
    code = main(["align", str(tmp_path), "--size", "64", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert "skipped: " in err and "coffee.png: no face found" in err and "tiny.png: no face found" in err
    assert Image.open(tmp_path / "out" / "camera.png").size == (64, 64)


def test_cli_embed_align_paste_back(tmp_path, capsys):
    from wplus.checkpoints import save_generator

    from helpers import make_generator
    gen = save_generator(make_generator(), tmp_path / "g.safetensors")
    Image.fromarray(skimage_data.astronaut()).save(tmp_path / "astronaut.jpg")
    code = main(["embed", str(tmp_path / "astronaut.jpg"), "--generator", str(gen), "--align", "--paste-back",
                 "--steps", "5", "--loss", "mse", "--out", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    pasted = Image.open(tmp_path / "out" / "astronaut_pasted.png")
    assert pasted.size == (512, 512)
    assert "aligned to 32x32" in capsys.readouterr().err


def test_several_faces_numbered_or_largest(astronaut, tmp_path, capsys):
    small = np.asarray(Image.fromarray(astronaut).resize((256, 256)))
    group = np.concatenate([astronaut, np.pad(small, ((0, 256), (0, 0), (0, 0)), constant_values=255)], axis=1)
    found = align(group, size=64)
    assert len(found) == 2
    areas = [(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]) for f, _ in found]
    assert areas[0] > areas[1] and found[0][0].box[0] < 512 <= found[1][0].box[0]
    assert len(align(group, size=64, largest=True)) == 1
    Image.fromarray(group).save(tmp_path / "group.png")
    assert main(["align", str(tmp_path / "group.png"), "--size", "64", "--out", str(tmp_path / "o")]) == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["group_face0.png", "group_face1.png"]


def test_huge_photo_is_detected_on_a_downscaled_copy(astronaut, face):
    big = np.asarray(Image.fromarray(astronaut).resize((2048, 2048), Image.Resampling.BICUBIC))
    found = align(big, size=64)
    assert len(found) == 1
    assert np.abs(found[0][0].landmarks / 4 - face.landmarks).max() < 3.0
