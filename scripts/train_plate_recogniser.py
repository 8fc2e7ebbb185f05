"""Train the plate recogniser (`platerec`) on plates the project renders, and export it to ONNX.

    PYTHONPATH=src python scripts/train_plate_recogniser.py --seed 14 --samples 32000 --epochs 4 \
        --out src/relecture/models/weights/platerec.onnx

Every training picture is drawn by `relecture.synth.plate_crops` (sample k of the seed; no
real photo is ever used), so the same seed, steps and thread count give the same weights
(torch on the CPU, deterministic algorithms): the crops are drawn once, then
shown `--epochs` times, each shifted a little. The network is small on purpose (a few MB,
a few milliseconds a crop on one core): five convolutions over a 64 x 128 grey crop, then one
classifier per character slot (fixed slots read two-line plates as well as one-line ones,
where a CTC head would need one row of characters).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from relecture.indexer.plate_recogniser import (
    CLASSES, INPUT_H, INPUT_W, PAD, SLOTS, decode, normalised, plate_pixels,
)
from relecture.synth.plate_crops import available_fonts, training_crop


def block(cin: int, cout: int, pool: tuple[int, int] | None) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                               nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    return layers + ([nn.MaxPool2d(pool)] if pool else [])


class SlotNet(nn.Module):
    """Conv features (64x128 -> 4x8) -> one softmax over CLASSES per slot."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16),
            nn.ReLU(inplace=True), *block(16, 32, (2, 2)), *block(32, 64, (2, 2)),
            *block(64, 96, None), *block(96, 128, (2, 2)))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.2),
                                  nn.Linear(128 * (INPUT_H // 16) * (INPUT_W // 16), 128),
                                  nn.ReLU(inplace=True), nn.Linear(128, SLOTS * len(CLASSES)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).view(-1, SLOTS, len(CLASSES))


class Exported(nn.Module):
    """What the ONNX file holds: the net with its softmax."""

    def __init__(self, net: SlotNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(crops), dim=2)


def encode(plate: str) -> list[int]:
    """A plate's text as SLOTS class indices, empty slots after the characters."""
    return [CLASSES.index(c) for c in plate[:SLOTS]] + [CLASSES.index(PAD)] * (SLOTS - len(plate))


def rendered(seed: int, first: int, n: int, workers: int) -> tuple[np.ndarray, np.ndarray]:
    """Samples first..first+n of the rendered set of `seed`: grey pixels (n, H, W) uint8 and
    slot labels (n, SLOTS); drawn by `workers` processes, in order."""
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


def evaluate(net: SlotNet, pixels: np.ndarray, labels: np.ndarray) -> float:
    """Exact plate reads on held-out rendered crops."""
    net.eval()
    with torch.no_grad():
        x = torch.from_numpy(np.stack([normalised(p) for p in pixels]))
        reads = decode(torch.softmax(net(x), dim=2).numpy())
    net.train()
    truth = ["".join(CLASSES[i] for i in row if CLASSES[i] != PAD) for row in labels.tolist()]
    return sum(r.text == t for r, t in zip(reads, truth)) / len(truth)


def train(seed: int, samples: int, epochs: int, batch: int, threads: int, workers: int,
          out: Path) -> None:
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(seed)
    start = time.time()
    pixels, labels = rendered(seed, 0, samples, workers)
    # held-out samples start far beyond any training index
    val_pixels, val_labels = rendered(seed, 1_000_000_000, 1000, workers)
    print(f"rendered {samples} + 1000 crops in {time.time() - start:.0f}s", flush=True)
    net = SlotNet()
    steps = epochs * (samples // batch)
    optimiser = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=2e-3, total_steps=steps,
                                                   pct_start=0.1)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    for epoch in range(epochs):
        for x, y in batches(pixels, labels, batch, rng):
            loss = loss_fn(net(x).reshape(-1, len(CLASSES)), y.reshape(-1))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
        print(f"epoch {epoch + 1}/{epochs} loss {loss.item():.3f} held-out rendered exact "
              f"{evaluate(net, val_pixels, val_labels):.3f} {time.time() - start:.0f}s",
              flush=True)
    export(net, out)


def export(net: SlotNet, out: Path) -> None:
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
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="processes drawing plates")
    parser.add_argument("--out", type=Path,
                        default=Path("src/relecture/models/weights/platerec.onnx"))
    args = parser.parse_args()
    np.seterr(all="ignore")
    train(args.seed, args.samples, args.epochs, args.batch, args.threads, args.workers, args.out)


if __name__ == "__main__":
    main()
