"""Embedders: the offline ImageNet features and the open_clip adapter (on a tiny model)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from relecture.errors import ModelUnavailable
from relecture.indexer.embed import EfficientNetLite0, TextEmbedder, load_embedder

TINY_CLIP = {
    "embed_dim": 24,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


@pytest.fixture
def tiny_clip(tmp_path, monkeypatch):
    """A randomly initialised tiny open_clip model saved to a checkpoint file, and the
    environment pointing at it."""
    import open_clip
    import torch

    config = tmp_path / "relecture-tiny-clip.json"
    config.write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(config)
    weights = tmp_path / "tiny.pt"
    torch.save(open_clip.create_model("relecture-tiny-clip").state_dict(), weights)
    monkeypatch.setenv("RELECTURE_CLIP_WEIGHTS", str(weights))
    monkeypatch.setenv("RELECTURE_CLIP_ARCH", "relecture-tiny-clip")
    return weights


def crops(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (40 + 7 * i, 60, 3), dtype=np.uint8) for i in range(n)]


def test_clip_weights_load_from_file_and_embed_images_and_text(tiny_clip):
    embedder = load_embedder()
    assert isinstance(embedder, TextEmbedder)
    assert embedder.space.startswith("open-clip-relecture-tiny-clip-")
    images = embedder.embed_images(crops(3))
    texts = embedder.embed_text(["red van", "white car"])
    assert images.shape == (3, 24) and texts.shape == (2, 24)
    assert images.dtype == np.float32 and texts.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(images, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)


def test_absent_clip_weights_say_how_to_provide_them(monkeypatch, tmp_path):
    from relecture.indexer.embed_openclip import load_openclip

    monkeypatch.setenv("RELECTURE_CLIP_WEIGHTS", str(tmp_path / "missing.bin"))
    with pytest.raises(ModelUnavailable, match="RELECTURE_CLIP_WEIGHTS=/path/to/file"):
        load_openclip()


def test_without_clip_weights_the_offline_features_are_used(monkeypatch):
    monkeypatch.delenv("RELECTURE_CLIP_WEIGHTS", raising=False)
    net = EfficientNetLite0()
    embedder = load_embedder(net)
    assert embedder is net and embedder.space == "efficientnet-lite0-imagenet"
    assert not isinstance(embedder, TextEmbedder)


def test_offline_features_are_normalised_and_tell_images_apart():
    net = EfficientNetLite0()
    a, b = crops(2)
    vectors = net.embed_images([a, a.copy(), b])
    assert vectors.shape == (3, 1280) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > 0.999
    assert vectors[0] @ vectors[2] < 0.99
    assert net.embed_images([]).shape == (0, 1280)


def test_type_refinement_and_embedding_of_the_same_crop_run_the_network_once(monkeypatch):
    net = EfficientNetLite0()
    a, b = crops(2)
    probs = net.imagenet_probabilities([a, b])  # what type refinement asks for
    forward = net._forward
    calls = []
    monkeypatch.setattr(net, "_forward", lambda cs: calls.append(len(cs)) or forward(cs))
    vector = net.embed_images([a])  # the embedding of the best crop, asked just after
    assert calls == []
    np.testing.assert_allclose(net.imagenet_probabilities([b])[0], probs[1])
    np.testing.assert_allclose(vector[0], net.embed_images([a.copy()])[0], atol=1e-5)
    assert calls == [1]  # an equal but distinct array is computed, not taken from the memo


def test_the_onnx_export_answers_like_the_plain_timm_model(tmp_path):
    # ONNX Runtime runs an export of the same network: a speed change, not a new model, so
    # catalogs indexed before and after stay comparable
    import timm
    import torch

    from relecture.models.export_efficientnet import export_onnx
    from relecture.models.runtime import onnx_session

    torch.manual_seed(0)
    model = timm.create_model("efficientnet_lite0", pretrained=False).eval()
    for m in model.modules():  # random statistics, so a wrong BatchNorm export would show
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    export_onnx(model, tmp_path / "net.onnx")
    x = torch.rand(2, 3, 224, 224)
    with torch.inference_mode():
        features = model.forward_head(model.forward_features(x), pre_logits=True)
        probs = model.get_classifier()(features).softmax(1)
    f, p = onnx_session(tmp_path / "net.onnx").run(None, {"crops": x.numpy()})
    np.testing.assert_allclose(f, features.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(p, probs.numpy(), atol=1e-5)
