"""Train the plate recogniser (`platerec`) on plates the project renders, and export it to ONNX.

    PYTHONPATH=src python scripts/train_plate_recogniser.py --seed 14 --samples 24000 \
        --epochs 4 --batch 32 --threads 2 --workers 2 \
        --out src/relecture/models/weights/platerec.onnx

(the command `models.registry.PLATEREC_TRAIN` names; about 30 minutes on two shared cores:
6 to draw the crops, 2 to 11 an epoch).

Every training picture is drawn by `relecture.synth.plate_crops` (sample k of the seed; no
real photo is ever used), so the same seed, sizes and thread count give the same weights
(torch on the CPU, deterministic algorithms): the crops are drawn once, then shown
`--epochs` times, each shifted a little. The network is small on purpose (about a MB, about
a millisecond a crop on one core): five convolutions over a 32 x 128 grey crop down to one
feature vector per 4-pixel column, and a CTC head (CTC learns where characters are by
itself, which a fixed-slot head learns far more slowly on this CPU).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from relecture.indexer.plate_recogniser import (
    BLANK, CLASSES, INPUT_H, INPUT_W, decode, normalised, plate_pixels,
)
from relecture.synth.plate_crops import available_fonts, training_crop

MAX_CHARS = 10


def block(cin: int, cout: int, pool: tuple[int, int] | None) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                               nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    return layers + ([nn.MaxPool2d(pool)] if pool else [])


class ColumnNet(nn.Module):
    """Conv features (32x128 -> 1x32) -> logits over CLASSES per column: (batch, 32, C)."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            *block(1, 16, (2, 2)), *block(16, 32, (2, 2)), *block(32, 64, None),
            *block(64, 64, (2, 1)), *block(64, 96, (2, 1)),
            nn.Conv2d(96, 128, (2, 3), padding=(0, 1)), nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Conv1d(128, len(CLASSES), 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).squeeze(2)).transpose(1, 2)


class Exported(nn.Module):
    """What the ONNX file holds: the net with its softmax."""

    def __init__(self, net: ColumnNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(crops), dim=2)


def encode(plate: str) -> list[int]:
    """A plate's text as MAX_CHARS class indices, padded with blanks (not targets)."""
    plate = plate[:MAX_CHARS]
    return [CLASSES.index(c) for c in plate] + [CLASSES.index(BLANK)] * (MAX_CHARS - len(plate))


def rendered(seed: int, first: int, n: int, workers: int) -> tuple[np.ndarray, np.ndarray]:
    """Samples first..first+n of the rendered set of `seed`: grey pixels (n, H, W) uint8 and
    labels (n, MAX_CHARS); drawn by `workers` processes, in order."""
    from multiprocessing import get_context

    with get_context("forkserver").Pool(workers) as pool:
        crops = pool.starmap(_sample, [(seed, k) for k in range(first, first + n)],
                             chunksize=64)
    return np.stack([c[0] for c in crops]), np.array([c[1] for c in crops], np.int64)


def _sample(seed: int, k: int) -> tuple[np.ndarray, list[int]]:
    crop = training_crop(seed, k, available_fonts())
    return plate_pixels(crop.image), encode(crop.plate)


def batches(pixels: np.ndarray, labels: np.ndarray, batch: int, rng: np.random.Generator):
    """Shuffled batches of one epoch, each crop shifted by up to 3 px (a detector's box
    moves that much between frames), normalised as at run time."""
    order = rng.permutation(len(pixels))
    for i in range(0, len(order) - batch + 1, batch):
        idx = order[i:i + batch]
        x = np.stack([normalised(np.roll(pixels[j], tuple(rng.integers(-3, 4, 2)), (0, 1)))
                      for j in idx])
        yield torch.from_numpy(x), torch.from_numpy(labels[idx])


def evaluate(net: ColumnNet, pixels: np.ndarray, labels: np.ndarray) -> float:
    """Exact plate reads on held-out rendered crops."""
    net.eval()
    with torch.no_grad():
        x = torch.from_numpy(np.stack([normalised(p) for p in pixels]))
        reads = decode(torch.softmax(net(x), dim=2).numpy())
    net.train()
    truth = ["".join(CLASSES[i] for i in row if CLASSES[i] != BLANK) for row in labels.tolist()]
    return sum(r.text == t for r, t in zip(reads, truth)) / len(truth)


def ctc_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    blank = CLASSES.index(BLANK)
    lengths = (labels != blank).sum(dim=1)
    targets = labels[labels != blank]
    log_probs = logits.log_softmax(2).transpose(0, 1)  # (columns, batch, classes)
    columns = torch.full((labels.shape[0],), log_probs.shape[0], dtype=torch.long)
    return nn.functional.ctc_loss(log_probs, targets, columns, lengths, blank=blank,
                                  zero_infinity=True)


def train(seed: int, samples: int, epochs: int, batch: int, threads: int, workers: int,
          out: Path, cache: Path | None) -> None:
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(seed)
    start = time.time()
    if cache and cache.is_file():
        held = np.load(cache)
        pixels, labels, val_pixels, val_labels = (held[k] for k in ("x", "y", "vx", "vy"))
    else:
        pixels, labels = rendered(seed, 0, samples, workers)
        # held-out samples start far beyond any training index
        val_pixels, val_labels = rendered(seed, 1_000_000_000, 1000, workers)
        if cache:
            np.savez(cache, x=pixels, y=labels, vx=val_pixels, vy=val_labels)
    print(f"{len(pixels)} + {len(val_pixels)} rendered crops in {time.time() - start:.0f}s",
          flush=True)
    net = ColumnNet()
    steps = epochs * (len(pixels) // batch)
    optimiser = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=2e-3, total_steps=steps,
                                                   pct_start=0.1)
    for epoch in range(epochs):
        for x, y in batches(pixels, labels, batch, rng):
            loss = ctc_loss(net(x), y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
        print(f"epoch {epoch + 1}/{epochs} loss {loss.item():.3f} held-out rendered exact "
              f"{evaluate(net, val_pixels, val_labels):.3f} {time.time() - start:.0f}s",
              flush=True)
    export(net, out)


def export(net: ColumnNet, out: Path) -> None:
    net.eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(Exported(net), torch.zeros(1, 1, INPUT_H, INPUT_W), str(out),
                      input_names=["crops"], output_names=["probabilities"],
                      dynamic_axes={"crops": {0: "batch"}, "probabilities": {0: "batch"}},
                      opset_version=17, dynamo=False)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--samples", type=int, default=32000, help="rendered training crops")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="processes drawing plates")
    parser.add_argument("--cache", type=Path, help="keep the rendered crops here (.npz) and "
                        "reuse them when the file exists")
    parser.add_argument("--out", type=Path,
                        default=Path("src/relecture/models/weights/platerec.onnx"))
    args = parser.parse_args()
    np.seterr(all="ignore")
    train(args.seed, args.samples, args.epochs, args.batch, args.threads, args.workers, args.out,
          args.cache)


if __name__ == "__main__":
    main()
