"""open_clip adapter: image and text embeddings in one space, for free-text search.

Weights are never downloaded: the user points RELECTURE_CLIP_WEIGHTS at a checkpoint file
(registry key "open-clip"), RELECTURE_CLIP_ARCH names its architecture (default ViT-B-32).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from relecture.errors import ModelUnavailable
from relecture.indexer.embed import l2_normalise

ARCH_ENV = "RELECTURE_CLIP_ARCH"
DEFAULT_ARCH = "ViT-B-32"


def clip_weights() -> Path | None:
    """The user-provided CLIP checkpoint, or None when none is set or the file is missing."""
    from relecture.models.registry import locate, spec

    found = locate(spec("open-clip"))
    return found[0] if found else None


def weights_tag(path: Path, head_bytes: int = 1 << 20) -> str:
    """A short fingerprint of a checkpoint (size and first MiB): two checkpoints of the same
    architecture give different, incomparable spaces."""
    digest = hashlib.sha256(str(path.stat().st_size).encode())
    with path.open("rb") as f:
        digest.update(f.read(head_bytes))
    return digest.hexdigest()[:10]


class OpenClipEmbedder:
    """An open_clip model loaded from a local checkpoint, on CPU."""

    def __init__(self, arch: str, weights: Path, batch_size: int = 16) -> None:
        import open_clip

        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                arch, pretrained=str(weights)
            )
        except RuntimeError as exc:  # wrong architecture for the file, or a damaged file
            raise ModelUnavailable(
                f"cannot load CLIP weights {weights} as {arch} ({exc}); set {ARCH_ENV} to the "
                "architecture of the checkpoint"
            ) from exc
        self.model = model.eval()
        self.preprocess = preprocess
        self.tokenizer = open_clip.get_tokenizer(arch)
        self.batch_size = batch_size
        self.space = f"open-clip-{arch}-{weights_tag(weights)}"

    def embed_images(self, crops: list[np.ndarray]) -> np.ndarray:
        """L2-normalised image embeddings (N x D) of BGR crops."""
        import torch
        from PIL import Image

        out = []
        for start in range(0, len(crops), self.batch_size):
            batch = torch.stack([
                self.preprocess(Image.fromarray(np.ascontiguousarray(c[..., ::-1])))
                for c in crops[start:start + self.batch_size]
            ])
            with torch.inference_mode():
                out.append(self.model.encode_image(batch).float().numpy())
        return l2_normalise(np.concatenate(out)) if out else np.zeros((0, 0), np.float32)

    def embed_text(self, texts: list[str]) -> np.ndarray:
        """L2-normalised text embeddings (N x D), comparable with `embed_images`."""
        import torch

        with torch.inference_mode():
            vectors = self.model.encode_text(self.tokenizer(list(texts))).float().numpy()
        return l2_normalise(vectors)


def load_openclip() -> OpenClipEmbedder:
    """The open_clip embedder from RELECTURE_CLIP_WEIGHTS (and RELECTURE_CLIP_ARCH), or
    ModelUnavailable saying how to provide the weights."""
    from relecture.models.registry import require

    (weights,) = require("open-clip")
    return OpenClipEmbedder(os.environ.get(ARCH_ENV) or DEFAULT_ARCH, weights)
