"""The int8 build (`models.quantize`) on a small graph the test writes itself: a -inf pad
before a max-pool, as the converted NanoDet has, folded into the pool with the same outputs;
then quantized with measured ranges, giving nearly the float outputs."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from relecture.models.quantize import build_int8, fold_infinite_pads, measure_ranges, prepared
from relecture.models.runtime import onnx_session


def pooled_graph(rng, pad_value: float = -np.inf, with_pool: bool = True):
    """1x3x16x16 -> conv 3x3 (8) -> LeakyRelu -> Pad(value) -> to NHWC and back -> MaxPool
    3x3/2 -> conv 1x1 (4): the shape of NanoDet's stem, where TensorFlow pads with -inf."""
    inits = [
        numpy_helper.from_array(rng.normal(size=(8, 3, 3, 3)).astype(np.float32), "w1"),
        numpy_helper.from_array(rng.normal(size=8).astype(np.float32), "b1"),
        numpy_helper.from_array(rng.normal(size=(4, 8, 1, 1)).astype(np.float32), "w2"),
        numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads"),
        numpy_helper.from_array(np.array(pad_value, np.float32), "fill"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("LeakyRelu", ["c1"], ["r1"], alpha=0.1),
        helper.make_node("Pad", ["r1", "pads", "fill"], ["p"], mode="constant"),
        helper.make_node("Transpose", ["p"], ["nhwc"], perm=[0, 2, 3, 1]),
        helper.make_node("Transpose", ["nhwc"], ["nchw"], perm=[0, 3, 1, 2]),
    ]
    last = "nchw"
    if with_pool:
        nodes.append(helper.make_node("MaxPool", ["nchw"], ["m"], kernel_shape=[3, 3], strides=[2, 2]))
        last = "m"
    nodes.append(helper.make_node("Conv", [last, "w2"], ["y"]))
    graph = helper.make_graph(
        nodes, "pooled", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(model_or_path, x):
    source = model_or_path.SerializeToString() if hasattr(model_or_path, "graph") else model_or_path
    return onnx_session(source).run(None, {"x": x})[0]


def test_a_minus_infinity_pad_becomes_the_pools_own_padding_with_the_same_outputs():
    rng = np.random.default_rng(1)
    model = pooled_graph(rng)
    x = rng.normal(size=(1, 3, 16, 16)).astype(np.float32) * 3
    before = _run(model, x)
    assert fold_infinite_pads(model) == 1
    assert not any(n.op_type == "Pad" for n in model.graph.node)
    pool = next(n for n in model.graph.node if n.op_type == "MaxPool")
    assert list(next(a.ints for a in pool.attribute if a.name == "pads")) == [1, 1, 1, 1]
    assert {i.name for i in model.graph.initializer} == {"w1", "b1", "w2"}  # nothing unused left
    np.testing.assert_array_equal(_run(model, x), before)


@pytest.mark.parametrize("pad_value, with_pool", [(0.0, True), (-np.inf, False)])
def test_other_pads_are_left_as_they_are(pad_value, with_pool):
    model = pooled_graph(np.random.default_rng(2), pad_value, with_pool)
    assert fold_infinite_pads(model) == 0
    assert sum(n.op_type == "Pad" for n in model.graph.node) == 1


def test_the_int8_model_built_from_stored_ranges_gives_nearly_the_float_outputs(tmp_path):
    rng = np.random.default_rng(3)
    fp32 = tmp_path / "model.onnx"
    onnx.save(pooled_graph(rng), str(fp32))
    blobs = [rng.normal(size=(1, 3, 16, 16)).astype(np.float32) for _ in range(8)]
    work = tmp_path / "work"
    work.mkdir()
    ranges = measure_ranges(prepared(fp32, work), blobs)
    assert all(np.isfinite(v).all() and v[0] <= v[1] for v in ranges.values())
    stored = tmp_path / "ranges.json"
    stored.write_text(json.dumps({"ranges": ranges}))
    int8 = tmp_path / "int8.onnx"
    build_int8(fp32, int8, stored)
    again = tmp_path / "again.onnx"
    build_int8(fp32, again, stored)
    assert int8.read_bytes() == again.read_bytes()  # no calibration at build: the same file
    ops = {n.op_type for n in onnx.load(str(int8)).graph.node}
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    x = blobs[0]
    want, got = _run(str(fp32), x), _run(str(int8), x)
    assert np.corrcoef(want.ravel(), got.ravel())[0, 1] > 0.99
    assert np.abs(got - want).max() < 0.1 * np.abs(want).max()
