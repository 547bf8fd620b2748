"""InterFaceGAN-style labelled directions: measured attributes, linear boundaries, conditioning."""
import math

import pytest
import torch

from wplus.app.inputs import bundled_examples
from wplus.checkpoints import load_generator
from wplus.editing.attributes import ATTRIBUTES, LANDMARK_ATTRIBUTES, measure, pixel_attributes
from wplus.editing.boundaries import condition, fit_boundary, sample_attributes
from wplus.errors import WplusError
from wplus.io.images import load_image
from wplus.seeds import z_block


def _unit(dim: int, seed: int) -> torch.Tensor:
    d = torch.randn(dim, generator=torch.Generator().manual_seed(seed))
    return d / d.norm()


@pytest.fixture(scope="module")
def photos() -> torch.Tensor:
    """The bundled face photo, its mirror image, and the bundled photo without a face: [3, 3, 128, 128]."""
    face = load_image(bundled_examples()["astronaut"], 128).tensor
    coffee = load_image(bundled_examples()["coffee"], 128).tensor
    return torch.cat([face, face.flip(-1), coffee])


def test_boundary_recovers_the_direction_of_a_linear_attribute():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(2000, 24, generator=g) * 0.5 + 1.0
    d = _unit(24, 1)
    values = w @ d
    values[::7] = float("nan")  # faces not found: ignored
    normal, info = fit_boundary(w, values, fraction=0.3)
    assert normal.shape == (24,) and abs(float(normal.norm()) - 1) < 1e-5
    assert float(normal @ d) >= 0.99, float(normal @ d)
    assert info.val_accuracy >= 0.98 and info.n_valid == 2000 - len(range(0, 2000, 7))
    assert info.n_train + info.n_val == 2 * int(info.n_valid * 0.3 / 2) and info.low < info.high
    flipped, _ = fit_boundary(w, -values)  # points towards higher values
    assert float(flipped @ d) <= -0.99


def test_boundary_refuses_what_cannot_define_a_direction():
    w = torch.randn(100, 8, generator=torch.Generator().manual_seed(0))
    with pytest.raises(WplusError, match="does not vary"):
        fit_boundary(w, torch.ones(100))
    with pytest.raises(WplusError, match="too few"):
        fit_boundary(w, torch.full((100,), float("nan")))
    with pytest.raises(WplusError, match=r"w \[N, w_dim\] and values \[N\]"):
        fit_boundary(w, torch.ones(99))


def test_condition_is_orthogonal_to_the_conditions_and_unit_length():
    a, b, c = _unit(32, 2), _unit(32, 3), _unit(32, 4)
    ab = condition(a, b)
    assert abs(float(ab @ b)) < 1e-6 and abs(float(ab.norm()) - 1) < 1e-6
    assert float(ab @ a) > 0.9  # random directions in 32-d are nearly orthogonal already
    a_orth = a - (a @ b) * b
    assert torch.allclose(condition(a_orth / a_orth.norm(), b), a_orth / a_orth.norm(), atol=1e-6)
    abc = condition(a, b, c)
    assert max(abs(float(abc @ b)), abs(float(abc @ c))) < 1e-6 and abs(float(abc.norm()) - 1) < 1e-6
    assert torch.allclose(condition(a, b, c, b + c), abc, atol=1e-6)  # a dependent condition adds nothing
    assert torch.allclose(condition(a), a, atol=1e-6)
    with pytest.raises(WplusError, match="span of the conditions"):
        condition(b, b, c)


def test_pixel_attributes_move_the_right_way():
    g = torch.Generator().manual_seed(0)
    images = torch.rand(4, 3, 32, 32, generator=g) * 1.2 - 0.6
    ramp = torch.linspace(-0.3, 0.3, 32).view(1, 1, 1, 32)  # brighter towards the image's right
    base, brighter, right_lit = (pixel_attributes(x) for x in (images, images + 0.2, images + ramp))
    assert torch.allclose(brighter["brightness"] - base["brightness"], torch.full((4,), 0.1), atol=1e-5)
    assert (right_lit["lighting"] > base["lighting"] + 0.1).all()
    assert (pixel_attributes(images.flip(-1))["lighting"] + base["lighting"]).abs().max() < 1e-5
    assert torch.allclose(right_lit["brightness"], base["brightness"], atol=1e-5)


def test_landmark_attributes_of_a_face_its_mirror_image_and_no_face(photos):
    threads = torch.get_num_threads()
    values = measure(photos)
    assert torch.get_num_threads() == threads  # MTCNN ran single-threaded, the count is restored
    assert tuple(values) == ATTRIBUTES and all(v.shape == (3,) for v in values.values())
    yaw, pitch, smile, scale = (values[name] for name in LANDMARK_ATTRIBUTES)
    assert abs(float(yaw[0])) < 0.05 and abs(float(yaw[0] + yaw[1])) < 0.05  # a frontal face
    assert 0.5 < float(pitch[0]) < 0.8 and abs(float(pitch[0] - pitch[1])) < 0.05
    assert 0.8 < float(smile[0]) < 1.3 and abs(float(smile[0] - smile[1])) < 0.05
    assert 0.1 < float(scale[0]) < 0.25 and abs(float(scale[0] / scale[1]) - 1) < 0.05
    assert all(math.isnan(float(values[name][2])) for name in LANDMARK_ATTRIBUTES)
    assert math.isfinite(float(values["brightness"][2])) and math.isfinite(float(values["lighting"][2]))
    assert float(values["lighting"][0] + values["lighting"][1]) == pytest.approx(0, abs=1e-5)
    zoomed = measure(torch.nn.functional.interpolate(photos[:1, :, 16:112, 16:112], size=128, mode="bilinear"))
    assert float(zoomed["face_scale"][0]) > 1.2 * float(scale[0])  # the face fills more of the image


def test_sample_attributes_on_the_default_model_and_yaw_of_a_turned_face():
    G = load_generator()
    w, values = sample_attributes(G, 16, seed=0, batch=16)
    w8, values8 = sample_attributes(G, 16, seed=0, batch=8)
    assert w.shape == (16, G.w_dim) and torch.allclose(w, w8, atol=1e-5)
    assert all(torch.allclose(values[k], values8[k], atol=1e-4, equal_nan=True) for k in ATTRIBUTES)
    assert torch.isfinite(values["yaw"]).sum() >= 12  # faces found in most samples
    turned = int(torch.nan_to_num(values["yaw"].abs(), nan=0).argmax())
    assert abs(float(values["yaw"][turned])) > 0.15
    with torch.no_grad():
        image = G.synthesis(G.mapping(z_block(16, G.z_dim, 0)[turned:turned + 1]), noise_mode="const")
    mirrored = measure(torch.cat([image, image.flip(-1)]))["yaw"]
    assert float(mirrored[0]) == pytest.approx(float(values["yaw"][turned]), abs=1e-4)
    assert float(mirrored[1]) == pytest.approx(-float(mirrored[0]), abs=0.1)


def test_measure_refuses_non_rgb_batches():
    with pytest.raises(WplusError, match=r"RGB images \[N, 3, H, W\]"):
        measure(torch.zeros(3, 64, 64))
