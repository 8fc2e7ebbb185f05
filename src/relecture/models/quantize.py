"""int8 NanoDet: the pinned float model quantized with activation ranges kept in the repository.

How the int8 file is made, the same on every machine (`build_int8`):
1. `fold_infinite_pads`: the converted graph pads with -inf before its max-pool (TensorFlow's
   way); a -inf tensor has no int8 range (its scale is infinite and every later layer is
   garbage), so the pad becomes the max-pool's own padding, which ONNX defines as ignored
   cells: the float outputs are unchanged (checked equal to the bit on real frames);
2. ONNX Runtime's pre-processing (basic graph optimisation: the bias additions fused into
   the convolutions, the layout transposes removed), without which the int8 graph keeps
   quantize/dequantize pairs around every transpose and is 1.4x slower;
3. static QDQ quantization, weights int8 per channel, activations uint8 per tensor, with the
   activation ranges of `RANGES` (`weights/nanodet-g-int8-ranges.json`). Those ranges were
   measured once, by `scripts/calibrate_nanodet.py`, on frames the project renders (its
   sample footage), never on ../shared/data; keeping them in a file means installing runs
   no calibration, so the file made, and its pinned sha256, do not depend on the CPU.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

RANGES = Path(__file__).parent / "weights" / "nanodet-g-int8-ranges.json"


def fold_infinite_pads(model) -> int:
    """Turn each Pad with a constant -inf value that feeds a MaxPool (directly or through
    layout Transposes only) into that MaxPool's `pads`; returns how many were folded. A pad
    not of that form is left as it is."""
    from onnx import helper, numpy_helper

    graph = model.graph
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    folded = 0
    for pad in [n for n in graph.node if n.op_type == "Pad"]:
        mode = next((a.s for a in pad.attribute if a.name == "mode"), b"constant")
        value = consts.get(pad.input[2]) if len(pad.input) > 2 else None
        if mode != b"constant" or value is None or not np.isneginf(value).all():
            continue
        pool, perm = _pool_behind(pad.output[0], consumers)
        if pool is None or any(a.name in ("pads", "auto_pad") for a in pool.attribute):
            continue
        amounts = consts[pad.input[1]].astype(np.int64)
        rank = len(amounts) // 2
        order = np.arange(rank) if perm is None else perm
        begin, end = amounts[:rank][order], amounts[rank:][order]  # in the pool's layout
        if begin[:2].any() or end[:2].any():  # only spatial padding is a pool's
            continue
        pool.attribute.append(helper.make_attribute("pads", [*begin[2:], *end[2:]]))
        pad.op_type = "Identity"
        del pad.input[1:]
        del pad.attribute[:]
        folded += 1
    used = {name for node in graph.node for name in node.input}
    unused = [i for i in graph.initializer if i.name not in used]
    for init in unused:  # what nothing reads now (the pads' amounts and values): ORT warns of each
        graph.initializer.remove(init)
    return folded


def _pool_behind(tensor: str, consumers: dict[str, list]):
    """(MaxPool, the pool input's axes as indices of the tensor's; None when no Transpose
    lies between) when `tensor` reaches exactly one MaxPool through single-consumer
    Transposes; (None, None) otherwise."""
    perm = None
    while True:
        users = consumers.get(tensor, [])
        if len(users) != 1:
            return None, None
        node = users[0]
        if node.op_type == "MaxPool":
            return node, perm
        if node.op_type != "Transpose":
            return None, None
        step = np.array(next(a.ints for a in node.attribute if a.name == "perm"))
        perm = step if perm is None else perm[step]
        tensor = node.output[0]


def prepared(fp32_path: Path, work: Path) -> Path:
    """Steps 1 and 2 of the module docstring: the graph calibration and quantization run on."""
    import onnx
    from onnxruntime.quantization.shape_inference import quant_pre_process

    model = onnx.load(str(fp32_path))
    fold_infinite_pads(model)
    folded = work / "folded.onnx"
    onnx.save(model, str(folded))
    out = work / "prepared.onnx"
    quant_pre_process(str(folded), str(out), skip_symbolic_shape=True)
    return out


def build_int8(fp32_path: Path, out: Path, ranges_path: Path = RANGES) -> None:
    """Write the int8 model of `fp32_path` to `out` with the activation ranges of
    `ranges_path` ({"ranges": {tensor: [lowest, highest]}})."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.calibrate import (
        CalibrationMethod, TensorData, TensorsData, save_tensors_data)

    ranges = json.loads(Path(ranges_path).read_text())["ranges"]
    data = TensorsData(CalibrationMethod.MinMax, {
        name: TensorData(lowest=np.float32(lo), highest=np.float32(hi))
        for name, (lo, hi) in ranges.items()})
    with tempfile.TemporaryDirectory(prefix="int8-") as tmp:
        work = Path(tmp)
        cache = work / "ranges.json"
        save_tensors_data(data, cache)
        quantize_static(str(prepared(fp32_path, work)), str(out), None,
                        quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax,
                        calibration_cache_path=cache)


def measure_ranges(prepared_path: Path, blobs: list[np.ndarray]) -> dict[str, list[float]]:
    """Every float tensor's [lowest, highest] over the input `blobs` (MinMax calibration)."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, create_calibrator

    class Blobs(CalibrationDataReader):
        def __init__(self, name: str) -> None:
            self._feeds = iter({name: b} for b in blobs)

        def get_next(self):
            return next(self._feeds, None)

    name = onnx.load(str(prepared_path)).graph.input[0].name
    with tempfile.TemporaryDirectory(prefix="calib-") as tmp:
        calibrator = create_calibrator(str(prepared_path),
                                       augmented_model_path=str(Path(tmp) / "augmented.onnx"))
        calibrator.collect_data(Blobs(name))
        data = calibrator.compute_data()
    return {k: [float(np.asarray(data[k].range_value[0]).item()),
                float(np.asarray(data[k].range_value[1]).item())] for k in sorted(data)}
