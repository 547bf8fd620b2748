import pytest
import torch

from wplus.losses import build_loss
from wplus.models.vgg16 import CONV_INDEX, VGG16Features, VGGWeightsNotFound, load_vgg16

from helpers import vgg_state_dict


def test_torchvision_layout_loads_strictly(tmp_path):
    state = vgg_state_dict(seed=4, with_classifier=True)
    path = tmp_path / "vgg16-397923af.pth"
    torch.save(state, path)
    model = load_vgg16(path)
    assert torch.equal(model.features[28].weight, state["features.28.weight"])
    assert {CONV_INDEX[n] for n in ("conv1_1", "conv1_2", "conv3_2", "conv4_2")} == {0, 2, 12, 19}
    assert len([k for k in state if k.startswith("features.")]) == 26


def test_activations_are_post_relu_of_named_convs():
    torch.manual_seed(0)
    model = VGG16Features().eval()
    x = torch.randn(1, 3, 32, 32)
    conv1_1, conv3_2 = model(x, ["conv1_1", "conv3_2"])
    assert torch.allclose(conv1_1, torch.relu(model.features[0](x)))
    ref = model.features[:14](x)
    assert torch.allclose(conv3_2, ref) and (conv3_2 >= 0).all()


@pytest.mark.parametrize("content", [b"", b"not a torch file", None])
def test_bad_weights_give_clear_error(tmp_path, content):
    path = tmp_path / "vgg.pth"
    if content is None:  # wrong keys
        torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(VGGWeightsNotFound, match="vgg.pth") as info:
        load_vgg16(path)
    assert "\n" not in str(info.value)


def test_missing_weights_auto_falls_back(monkeypatch, tmp_path):
    monkeypatch.delenv("WPLUS_VGG16", raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(VGGWeightsNotFound, match="WPLUS_VGG16"):
        build_loss("i2s")
    loss = build_loss("auto")
    assert loss.name == "mse+msssim" and "--vgg16" in loss.warning and "\n" not in loss.warning
    monkeypatch.setenv("WPLUS_VGG16", str(tmp_path / "nope.pth"))
    with pytest.raises(VGGWeightsNotFound, match="nope.pth"):
        build_loss("i2s")
