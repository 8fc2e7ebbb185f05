"""Check an evidence package: every hash, the signature, and that evidence.json tells the truth.

Checks are independent so that one altered byte is reported with the file it is in, whatever
else it breaks: the manifests are read and every listed file re-hashed here (naming each
mismatch), bagit's own validation gives the RFC 8493 verdict, the Ed25519 signature is checked
over both manifests, and evidence.json is compared with the files and the manifest. Without
both signed manifests nothing else can be trusted, so a missing or unreadable one is the
only problem reported. A bad package is a report, never an exception.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from relecture.requisitions.export import (EVIDENCE_FILE, FORMAT, PUBLIC_KEY_FILE, REPORT_FILE,
                                           REPORT_PDF_FILE, SIGNATURE_FILE, SIGNED_FILES)

_MANIFEST, _TAGMANIFEST = SIGNED_FILES
_REQUIRED_TAGS = ("bagit.txt", "bag-info.txt", _MANIFEST)


@dataclass(frozen=True)
class Problem:
    """One thing wrong, and the package file (bag-relative path) it is in."""

    file: str
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    """The verdict on one package: ok when no problem was found."""

    path: Path
    problems: tuple[Problem, ...]
    package_id: str | None
    files_checked: int

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_package(path: Path, trusted_public_key_pem: bytes | None = None) -> VerifyReport:
    """Verify the package directory at `path`.

    Without `trusted_public_key_pem` the signature is checked with the key the package carries,
    which proves the package is unchanged since it was signed; give the site's public key to
    also prove who signed it.
    """
    root = Path(path)
    problems: list[Problem] = []
    if not root.is_dir():
        return VerifyReport(root, (Problem(str(root), "not a directory"),), None, 0)
    payload = _read_manifest(root, _MANIFEST, problems)
    tags = _read_manifest(root, _TAGMANIFEST, problems)
    if problems and not (payload and tags):  # no signed list to check anything against
        return VerifyReport(root, tuple(problems), None, 0)
    checked = _check_entries(root, tags, _TAGMANIFEST, problems)
    manifest_altered = any(p.file == _MANIFEST for p in problems)
    checked += _check_entries(root, payload, _MANIFEST, problems,
                              note=" (manifest-sha256.txt itself was altered)"
                              if manifest_altered else "")
    _check_listing(root, payload, tags, problems)
    _check_bagit(root, problems)
    _check_signature(root, trusted_public_key_pem, problems)
    package_id = _check_evidence(root, payload, problems)
    return VerifyReport(root, tuple(dict.fromkeys(problems)), package_id, checked)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _read_manifest(root: Path, name: str, problems: list[Problem]) -> dict[str, str]:
    """{bag-relative path: sha256} from a manifest; malformed lines are problems."""
    try:
        text = (root / name).read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(Problem(name, "missing: the package cannot be checked without it"))
        return {}
    except (OSError, UnicodeDecodeError) as e:
        problems.append(Problem(name, f"unreadable ({e})"))
        return {}
    entries: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.strip().split(None, 1)
        if not parts:
            continue
        if len(parts) != 2 or len(parts[0]) != 64 or not _is_hex(parts[0]):
            problems.append(Problem(name, f"line {n} is not '<sha256> <path>'"))
            continue
        rel = parts[1].lstrip("*")
        if rel.startswith("/") or ".." in Path(rel).parts:
            problems.append(Problem(name, f"line {n} names a path outside the package: {rel}"))
            continue
        if rel in entries:
            problems.append(Problem(name, f"lists {rel} twice"))
        entries[rel] = parts[0].lower()
    return entries


def _is_hex(s: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in s)


def _check_entries(root: Path, entries: dict[str, str], manifest: str,
                   problems: list[Problem], note: str = "") -> int:
    for rel, digest in entries.items():
        f = root / rel
        if not f.is_file():
            problems.append(Problem(rel, f"listed in {manifest} but missing"))
        elif _sha256(f) != digest:
            problems.append(Problem(rel, f"content changed: sha256 differs from {manifest}{note}"))
    return len(entries)


def _check_listing(root: Path, payload: dict, tags: dict, problems: list[Problem]) -> None:
    """Every file is listed where it belongs; only the signature is unlisted, by design."""
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = f.relative_to(root).as_posix()
        if rel.startswith("data/"):
            if rel not in payload:
                problems.append(Problem(rel, f"payload file not listed in {_MANIFEST}"))
        elif rel not in tags and rel not in (SIGNATURE_FILE, _TAGMANIFEST):
            problems.append(Problem(rel, f"tag file not listed in {_TAGMANIFEST}"))
    for rel in _REQUIRED_TAGS:
        if rel not in tags:
            problems.append(Problem(_TAGMANIFEST, f"does not list {rel}"))


def _check_bagit(root: Path, problems: list[Problem]) -> None:
    """bagit's RFC 8493 verdict; its findings only matter when ours missed them."""
    import bagit

    try:
        bagit.Bag(str(root)).validate(processes=1)
    except (bagit.BagError, OSError, UnicodeError, ValueError) as e:  # bagit reads raw files
        if "Payload-Oxum" in str(e):  # a count we do not check ourselves
            problems.append(Problem("bag-info.txt", str(e)))
        elif not problems:
            problems.append(Problem("bagit.txt", f"not a valid BagIt bag: {e}"))


def _check_signature(root: Path, trusted_pem: bytes | None, problems: list[Problem]) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    sig_path, key_path = root / SIGNATURE_FILE, root / PUBLIC_KEY_FILE
    if not sig_path.is_file():
        problems.append(Problem(SIGNATURE_FILE, "missing: the package is not signed"))
        return
    try:
        pem = key_path.read_bytes()
        key = load_pem_public_key(pem)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 key")
    except (OSError, ValueError) as e:
        problems.append(Problem(PUBLIC_KEY_FILE, f"unusable public key ({e})"))
        return
    if trusted_pem is not None and load_pem_public_key(trusted_pem) != key:
        problems.append(Problem(PUBLIC_KEY_FILE, "signed with a key other than the trusted one"))
    try:
        message = b"".join((root / f).read_bytes() for f in SIGNED_FILES)
        key.verify(sig_path.read_bytes(), message)
    except OSError:
        problems.append(Problem(SIGNATURE_FILE, "cannot check: a signed manifest is missing"))
    except InvalidSignature:
        changed = {p.file for p in problems} & {*SIGNED_FILES, PUBLIC_KEY_FILE}
        if changed:
            where = ", ".join(sorted(changed)) + " altered"
        else:
            # manifest-sha256.txt matches the tag manifest, so the tag manifest itself (and
            # with it any entry it vouches for) or the signature is not what was signed.
            where = f"{_TAGMANIFEST} or {SIGNATURE_FILE} altered"
            problems.append(Problem(_TAGMANIFEST, f"not the signed version, or {SIGNATURE_FILE} "
                                                  "was altered: its entries cannot be trusted"))
        problems.append(Problem(SIGNATURE_FILE,
                                f"signature does not match the manifests ({where})"))


def _check_evidence(root: Path, payload: dict, problems: list[Problem]) -> str | None:
    """evidence.json agrees with the files, the manifest, and itself; returns the package id."""
    try:
        ev = json.loads((root / EVIDENCE_FILE).read_text(encoding="utf-8"))
        items, sources = ev["items"], {s["sha256"] for s in ev["sources"]}
        package_id = ev["package_id"]
    except FileNotFoundError:
        problems.append(Problem(EVIDENCE_FILE, "missing"))
        return None
    except (ValueError, KeyError, TypeError) as e:
        problems.append(Problem(EVIDENCE_FILE, f"unreadable or incomplete ({e!r:.120})"))
        return None
    if ev.get("format") != FORMAT:
        problems.append(Problem(EVIDENCE_FILE, f"unknown format {ev.get('format')!r}"))
    masters = {i.get("sha256") for i in items if i.get("role") == "master"}
    described = {EVIDENCE_FILE, REPORT_FILE, REPORT_PDF_FILE, PUBLIC_KEY_FILE}
    for i in items:
        rel = str(i.get("file"))
        described.add(rel)
        f = root / rel
        if not f.is_file():
            problems.append(Problem(rel, "named in evidence.json but missing"))
            continue
        if _sha256(f) != i.get("sha256"):
            problems.append(Problem(rel, "sha256 differs from evidence.json"))
        if payload.get(rel) not in (None, i.get("sha256")):
            problems.append(Problem(EVIDENCE_FILE, f"sha256 of {rel} differs from {_MANIFEST}"))
        origin = sources if i.get("role") == "master" else masters
        if i.get("role") not in ("master", "derived", "still"):
            problems.append(Problem(EVIDENCE_FILE, f"{rel}: unknown role {i.get('role')!r}"))
        elif i.get("derived_from") not in origin:
            problems.append(Problem(EVIDENCE_FILE, f"{rel}: derived_from is not a listed "
                                    + ("source" if i["role"] == "master" else "master")))
    for rel in sorted(set(payload) - described):
        problems.append(Problem(rel, "in the package but not described in evidence.json"))
    for h in ev.get("hits", []):
        for rel in set(h.get("items", [])) - described:
            problems.append(Problem(EVIDENCE_FILE, f"hit {h.get('sighting_id')} names {rel}, "
                                                   "which is not an item"))
    key = root / PUBLIC_KEY_FILE
    if key.is_file() and ev.get("signature", {}).get("public_key_sha256") != _sha256(key):
        problems.append(Problem(EVIDENCE_FILE, "public_key_sha256 does not match public_key.pem"))
    return package_id
