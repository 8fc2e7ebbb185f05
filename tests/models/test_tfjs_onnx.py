"""The TF.js -> ONNX converter on a small graph the test writes itself (every op NanoDet-g
uses), checked against the same computation in torch; and its refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from relecture.models.tfjs_onnx import ConversionError, convert


def _const(name, dtype, shape):
    dims = [{"size": str(d)} if d else {} for d in shape]
    return {"name": name, "op": "Const", "attr": {
        "dtype": {"type": dtype}, "value": {"tensor": {"dtype": dtype, "tensorShape": {"dim": dims}}}}}


def _op(name, op, inputs, **attr):
    return {"name": name, "op": op, "input": inputs, "attr": attr}


NHWC = {"s": "TkhXQw=="}  # base64 "NHWC", as TF.js writes attribute strings
VALID = {"s": "VkFMSUQ="}


def _ints(*v):
    return {"list": {"i": [str(x) for x in v]}}


def tiny_graph(rng) -> tuple[dict, dict[str, np.ndarray]]:
    """Input NCHW 1x3x32x32 -> conv 3x3/2 + bias + LeakyRelu (16x16x8) -> max pool on a
    -inf pad -> bilinear x2 back to 16x16, concatenated -> 1x1 conv to 3+4 channels -> split
    into sigmoid scores and raw values, each flattened to [1, cells, C]."""
    w = {
        "w1": rng.normal(size=(3, 3, 3, 8)).astype(np.float32),
        "b1": rng.normal(size=8).astype(np.float32),
        "w2": rng.normal(size=(1, 1, 16, 7)).astype(np.float32),
        "pad1": np.array([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32),
        "pad2": np.array([[0, 0], [0, 1], [0, 1], [0, 0]], np.int32),
        "ninf": np.array(-6e4, np.float32),
        "to_nhwc": np.array([0, 2, 3, 1], np.int32),
        "to_nchw": np.array([0, 3, 1, 2], np.int32),
        "to_cells": np.array([0, 2, 1], np.int32),
        "size": np.array([16, 16], np.int32),
        "axis": np.array(3, np.int32),
        "splits": np.array([3, 4], np.int32),
        "split_axis": np.array(1, np.int32),
        "shape_s": np.array([1, 3, 256], np.int32),
        "shape_b": np.array([1, 4, 256], np.int32),
        "empty_idx": np.zeros((0, 1), np.int32), "dense_shape": np.array([3], np.int32),
        "empty_val": np.zeros(0, np.int32), "zero": np.array(0, np.int32),
    }
    dtypes = {k: "DT_INT32" if v.dtype == np.int32 else "DT_FLOAT" for k, v in w.items()}
    nodes = [_const(k, dtypes[k], v.shape) for k, v in w.items()]
    nodes += [
        {"name": "input", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"},
         "shape": {"shape": {"dim": [{"size": "1"}, {"size": "3"}, {"size": "32"}, {"size": "32"}]}}}},
        _op("zeros", "SparseToDense", ["empty_idx", "dense_shape", "empty_val", "zero"]),
        _op("shape_s2", "AddV2", ["shape_s", "zeros"]),
        _op("x", "Transpose", ["input", "to_nhwc"]),
        _op("p", "Pad", ["x", "pad1"]),
        _op("c1", "Conv2D", ["p", "w1"], strides=_ints(1, 2, 2, 1), dilations=_ints(1, 1, 1, 1),
            padding=VALID, data_format=NHWC),
        _op("a1", "Add", ["c1", "b1"]),
        _op("r1", "LeakyRelu", ["a1"], alpha={"f": 0.1}),
        _op("p2", "PadV2", ["r1", "pad2", "ninf"]),
        _op("m", "MaxPool", ["p2"], ksize=_ints(1, 3, 3, 1), strides=_ints(1, 2, 2, 1),
            padding=VALID, data_format=NHWC),
        _op("up", "ResizeBilinear", ["m", "size"], half_pixel_centers={"b": True},
            align_corners={"b": False}),
        _op("cat", "ConcatV2", ["r1", "up", "axis"], N={"i": "2"}),
        _op("c2", "Conv2D", ["cat", "w2"], strides=_ints(1, 1, 1, 1), dilations=_ints(1, 1, 1, 1),
            padding=VALID, data_format=NHWC),
        _op("y", "Transpose", ["c2", "to_nchw"]),
        _op("sp", "SplitV", ["y", "splits", "split_axis"], num_split={"i": "2"}),
        _op("sg", "Sigmoid", ["sp"]),
        _op("rs", "Reshape", ["sg", "shape_s2"]),
        _op("rb", "Reshape", ["sp:1", "shape_b"]),
        _op("ts", "Transpose", ["rs", "to_cells"]),
        _op("tb", "Transpose", ["rb", "to_cells"]),
        _op("Identity", "Identity", ["ts"]),
        _op("Identity_1", "Identity", ["tb"]),
    ]
    fp16 = {"dtype": "float16", "original_dtype": "float32"}
    manifest = [{"name": k, "shape": list(v.shape), "dtype": "int32" if v.dtype == np.int32
                 else "float32", **({} if v.dtype == np.int32 else {"quantization": fp16})}
                for k, v in w.items()]
    def out(c):
        return {"dim": [{"size": "1"}, {"size": "256"}, {"size": str(c)}]}

    model = {"format": "graph-model", "modelTopology": {"node": nodes},
             "signature": {"outputs": {"Identity:0": {"tensorShape": out(3)},
                                       "Identity_1:0": {"tensorShape": out(4)}}},
             "weightsManifest": [{"paths": ["w.bin"], "weights": manifest}]}
    return model, w


def write_model(folder, model, w) -> None:
    blob = b"".join(v.astype(np.float16).tobytes() if v.dtype == np.float32 else v.tobytes()
                    for v in w.values())
    (folder / "w.bin").write_bytes(blob)
    (folder / "model.json").write_text(json.dumps(model))


def torch_reference(image: np.ndarray, w: dict[str, np.ndarray]):
    """The same network in torch (NCHW), from the fp16-rounded weights."""
    import torch
    import torch.nn.functional as F

    def t(a):
        return torch.from_numpy(a.astype(np.float16).astype(np.float32))

    x = torch.from_numpy(image)
    r1 = F.leaky_relu(F.conv2d(F.pad(x, (1, 1, 1, 1)), t(w["w1"]).permute(3, 2, 0, 1),
                               t(w["b1"]), stride=2), 0.1)
    m = F.max_pool2d(F.pad(r1, (0, 1, 0, 1), value=-6e4), 3, 2)
    h, wd = r1.shape[2:]
    up = F.interpolate(m, size=(h, wd), mode="bilinear", align_corners=False)
    y = F.conv2d(torch.cat([r1, up], 1), t(w["w2"]).permute(3, 2, 0, 1))
    scores = torch.sigmoid(y[:, :3]).flatten(2).transpose(1, 2)
    boxes = y[:, 3:].flatten(2).transpose(1, 2)
    return scores.numpy(), boxes.numpy()


def test_converted_graph_computes_what_tensorflow_ops_mean_at_any_input_size(tmp_path):
    from relecture.models.runtime import onnx_session

    rng = np.random.default_rng(0)
    model, w = tiny_graph(rng)
    write_model(tmp_path, model, w)
    convert(tmp_path / "model.json", tmp_path / "tiny.onnx")
    session = onnx_session(tmp_path / "tiny.onnx")
    # the declared 32x32, and a 16:9-like 64x32 the graph never declared
    for shape in ((1, 3, 32, 32), (1, 3, 32, 64)):
        image = rng.normal(size=shape).astype(np.float32)
        scores, boxes = session.run(["Identity", "Identity_1"], {"input": image})
        want_scores, want_boxes = torch_reference(image, w)
        assert scores.shape == want_scores.shape == (1, shape[2] * shape[3] // 4, 3)
        np.testing.assert_allclose(scores, want_scores, atol=1e-4)
        np.testing.assert_allclose(boxes, want_boxes, atol=1e-3)


def test_an_unknown_tensorflow_op_stops_the_conversion_with_its_name(tmp_path):
    model, w = tiny_graph(np.random.default_rng(1))
    model["modelTopology"]["node"].append(_op("odd", "Erf", ["r1"]))
    write_model(tmp_path, model, w)
    with pytest.raises(ConversionError, match="Erf"):
        convert(tmp_path / "model.json", tmp_path / "tiny.onnx")
    assert not (tmp_path / "tiny.onnx").exists()


def test_weights_shorter_than_the_manifest_are_refused(tmp_path):
    model, w = tiny_graph(np.random.default_rng(2))
    write_model(tmp_path, model, w)
    blob = (tmp_path / "w.bin").read_bytes()
    (tmp_path / "w.bin").write_bytes(blob[:-8])
    with pytest.raises((ConversionError, ValueError)):
        convert(tmp_path / "model.json", tmp_path / "tiny.onnx")
