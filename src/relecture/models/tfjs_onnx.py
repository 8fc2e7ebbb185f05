"""Convert a TF.js graph model (model.json + weight shards) into an ONNX file, with numpy and
the `onnx` package only (no TensorFlow).

A TF.js graph model is a list of TensorFlow nodes plus a weights manifest naming the bytes of
every constant. Each TF op the graph uses is rebuilt as ONNX nodes; constant-only
subgraphs (shape arithmetic) are folded in numpy. TF runs convolutions NHWC and ONNX NCHW,
so each convolution, pooling and resize is wrapped in two transposes; onnxruntime's
transpose optimiser cancels the pairs when the session is built.

The graph's declared input size is kept for nothing but shape-free rewrites: reshapes
flatten the spatial dims whatever they are, and resizes scale by the factor they had at the
declared size, so the ONNX model takes any input whose sides are multiples of the largest
stride. Only the ops a supported model uses are known; any other op stops the conversion
with its name (nothing is guessed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from relecture.files import write_atomic

_TF_DTYPES = {"DT_FLOAT": np.float32, "DT_INT32": np.int32, "DT_INT64": np.int64}
_NHWC_TO_NCHW = [0, 3, 1, 2]
_NCHW_TO_NHWC = [0, 2, 3, 1]
_OPSET = 18  # Resize with `axes`


class ConversionError(ValueError):
    """The graph uses something this converter does not rebuild."""


def read_weights(model_json: dict, folder: Path) -> dict[str, np.ndarray]:
    """Every weight of the manifest, dequantised to its original dtype, by name."""
    out: dict[str, np.ndarray] = {}
    for group in model_json["weightsManifest"]:
        data = b"".join((folder / p).read_bytes() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            shape = [int(d) for d in w["shape"]]
            count = int(np.prod(shape)) if shape else 1
            quant = w.get("quantization")
            if quant and quant.get("dtype") == "float16":
                stored, final = np.float16, np.float32
            elif quant:
                raise ConversionError(f"weight {w['name']}: quantization {quant} not supported")
            else:
                stored = final = {"float32": np.float32, "int32": np.int32}[w["dtype"]]
            size = count * np.dtype(stored).itemsize
            raw = np.frombuffer(data, stored, count, offset) if count else np.zeros(0, stored)
            out[w["name"]] = raw.astype(final).reshape(shape)
            offset += size
        if offset != len(data):
            raise ConversionError(f"weights manifest names {offset} bytes, shards hold {len(data)}")
    return out


def _tensor_name(ref: str) -> str:
    """A TF input reference ('node', 'node:1', '^control') as an ONNX value name."""
    name = ref.lstrip("^")
    return name[:-2] if name.endswith(":0") else name


@dataclass
class _Builder:
    """Collects ONNX nodes and initializers while TF nodes are translated in order."""

    consts: dict[str, np.ndarray]
    nodes: list = field(default_factory=list)
    initializers: dict[str, np.ndarray] = field(default_factory=dict)

    def const(self, name: str, value: np.ndarray) -> str:
        self.initializers[name] = value
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def nchw(self, op: str, x: str, out: str, extra: list[str] = (), **attrs) -> str:
        """`op` run on NCHW between two transposes of an NHWC tensor."""
        a = self.node("Transpose", [x], out + "/nchw", perm=_NHWC_TO_NCHW)
        b = self.node(op, [a, *extra], out + "/op", **attrs)
        return self.node("Transpose", [b], out, perm=_NCHW_TO_NHWC)


def _nhwc_pair(attr: dict, key: str) -> list[int]:
    values = [int(v) for v in attr[key]["list"]["i"]]
    return values[1:3]


def _padding(attr: dict) -> dict:
    mode = _attr_str(attr, "padding")
    if mode == "VALID":
        return {}
    if mode == "SAME":
        return {"auto_pad": "SAME_UPPER"}
    raise ConversionError(f"padding {mode} not supported")


def _attr_str(attr: dict, key: str) -> str:
    import base64

    return base64.b64decode(attr[key]["s"]).decode() if key in attr else ""


def _check_nhwc(name: str, attr: dict) -> None:
    if "data_format" in attr and _attr_str(attr, "data_format") != "NHWC":
        raise ConversionError(f"{name}: data format {_attr_str(attr, 'data_format')} not supported")


def _onnx_pads(paddings: np.ndarray) -> np.ndarray:
    """TF paddings [[before, after] per dim] as ONNX pads [all befores, all afters]."""
    p = np.asarray(paddings, np.int64).reshape(-1, 2)
    return np.concatenate([p[:, 0], p[:, 1]])


def _fold(op: str, args: list[np.ndarray]) -> np.ndarray | None:
    """Value of a node whose inputs are all constants (shape arithmetic), or None."""
    if op in ("Add", "AddV2"):
        return np.asarray(args[0] + args[1])
    if op == "SparseToDense":
        indices, shape, values, default = args
        out = np.full(np.asarray(shape).astype(np.int64), default, dtype=np.asarray(default).dtype)
        if indices.size:
            out[tuple(np.asarray(indices).reshape(len(indices), -1).T)] = values
        return out
    if op == "Identity":
        return args[0]
    return None


def _translate(b: _Builder, n: dict, resize_sources: dict[str, list[int]] | None) -> None:
    """Add the ONNX nodes for one non-constant TF node."""
    op, name, attr = n["op"], n["name"], n.get("attr", {})
    ins = [_tensor_name(i) for i in n.get("input", []) if not i.startswith("^")]
    c = b.consts
    if op in ("Add", "AddV2"):
        operands = [b.const(i, c[i].astype(np.float32)) if i in c else i for i in ins]
        b.node("Add", operands, name)
    elif op == "Identity":
        b.node("Identity", ins[:1], name)
    elif op == "Transpose":
        b.node("Transpose", ins[:1], name, perm=[int(v) for v in c[ins[1]]])
    elif op in ("Pad", "PadV2"):
        pads = b.const(name + "/pads", _onnx_pads(c[ins[1]]))
        value = c[ins[2]] if op == "PadV2" else np.float32(0)
        fill = b.const(name + "/value", np.asarray(value, np.float32).reshape(()))
        b.node("Pad", [ins[0], pads, fill], name, mode="constant")
    elif op == "Conv2D":
        _check_nhwc(name, attr)
        w = b.const(name + "/w", np.ascontiguousarray(c[ins[1]].transpose(3, 2, 0, 1)))
        b.nchw("Conv", ins[0], name, [w], strides=_nhwc_pair(attr, "strides"),
               dilations=_nhwc_pair(attr, "dilations"), **_padding(attr))
    elif op == "MaxPool":
        _check_nhwc(name, attr)
        b.nchw("MaxPool", ins[0], name, kernel_shape=_nhwc_pair(attr, "ksize"),
               strides=_nhwc_pair(attr, "strides"), **_padding(attr))
    elif op == "LeakyRelu":
        b.node("LeakyRelu", ins[:1], name, alpha=float(attr.get("alpha", {}).get("f", 0.2)))
    elif op == "Sigmoid":
        b.node("Sigmoid", ins[:1], name)
    elif op == "ConcatV2":
        axis = int(c[ins[-1]])
        b.node("Concat", ins[:-1], name, axis=axis)
    elif op == "SplitV":
        sizes = b.const(name + "/split", np.asarray(c[ins[1]], np.int64))
        from onnx import helper

        outs = [name] + [f"{name}:{k}" for k in range(1, len(c[ins[1]]))]
        b.nodes.append(helper.make_node("Split", [ins[0], sizes], outs, name=name,
                                        axis=int(c[ins[2]])))
    elif op == "Reshape":
        # The spatial size follows the input: the last dim (flattened cells) is inferred.
        shape = np.asarray(c[ins[1]], np.int64).copy()
        shape[-1] = -1
        b.node("Reshape", [ins[0], b.const(name + "/shape", shape)], name)
    elif op == "ResizeBilinear":
        if attr.get("align_corners", {}).get("b") or not attr.get("half_pixel_centers", {}).get("b"):
            raise ConversionError(f"{name}: only half-pixel-centre bilinear resizes are supported")
        size = np.asarray(c[ins[1]], np.int64)
        roi = b.const(name + "/roi", np.zeros(0, np.float32))
        mode = {"mode": "linear", "coordinate_transformation_mode": "half_pixel"}
        if resize_sources is None:  # first pass: the declared output size, for inference
            b.nchw("Resize", ins[0], name, [roi, "", b.const(name + "/sizes", size)],
                   axes=[2, 3], **mode)
        else:  # the factor it had at the declared size, so any input size works
            source = resize_sources[name]
            scales = np.array([1, 1, size[0] / source[1], size[1] / source[2]], np.float32)
            # Full-rank scales, no `axes`: onnxruntime's int8 (QDQ) optimiser mishandles axes.
            b.nchw("Resize", ins[0], name, [roi, b.const(name + "/scales", scales)], **mode)
    else:
        raise ConversionError(f"TF op {op} ({name}) is not supported by the converter")


def _graph(model: dict, weights: dict[str, np.ndarray], input_dims: list,
           resize_sources: dict[str, list[int]] | None):
    from onnx import TensorProto, helper, numpy_helper

    b = _Builder(consts={})
    inputs = []
    for n in model["modelTopology"]["node"]:
        op, name = n["op"], n["name"]
        if op == "Const":
            dtype = _TF_DTYPES[n["attr"]["dtype"]["type"]]
            b.consts[name] = weights[name].astype(dtype) if name in weights else np.zeros(0, dtype)
            continue
        if op == "Placeholder":
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, input_dims))
            continue
        ins = [_tensor_name(i) for i in n.get("input", []) if not i.startswith("^")]
        if ins and all(i in b.consts for i in ins):
            folded = _fold(op, [b.consts[i] for i in ins])
            if folded is None:
                raise ConversionError(f"TF op {op} ({name}) on constants cannot be folded")
            b.consts[name] = folded
            continue
        _translate(b, n, resize_sources)
    signature = model.get("signature", {}).get("outputs", {})
    # Outputs keep their rank and channel count; the other dims follow the input size.
    outputs = []
    for key, spec in signature.items():
        dims = [int(d["size"]) for d in spec["tensorShape"]["dim"]]
        shape = [1] + [f"{_tensor_name(key)}_{i}" for i in range(1, len(dims) - 1)] + dims[-1:]
        outputs.append(helper.make_tensor_value_info(_tensor_name(key), TensorProto.FLOAT, shape))
    inits = [numpy_helper.from_array(v, k) for k, v in b.initializers.items()]
    return helper.make_graph(b.nodes, "tfjs", inputs, outputs, inits)


def _resize_sources(model: dict, weights: dict[str, np.ndarray]) -> dict[str, list[int]]:
    """NHWC shape entering each ResizeBilinear at the model's declared input size, by shape
    inference over a first conversion whose resizes keep their declared output sizes."""
    from onnx import helper, shape_inference

    nodes = model["modelTopology"]["node"]
    resizes = {n["name"]: _tensor_name(n["input"][0]) for n in nodes if n["op"] == "ResizeBilinear"}
    if not resizes:
        return {}
    placeholder = next(n for n in nodes if n["op"] == "Placeholder")
    dims = [int(d["size"]) for d in placeholder["attr"]["shape"]["shape"]["dim"]]
    g = _graph(model, weights, dims, resize_sources=None)
    inferred = shape_inference.infer_shapes(helper.make_model(g, opset_imports=[
        helper.make_opsetid("", _OPSET)]), strict_mode=True)
    known = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
             for v in inferred.graph.value_info}
    return {name: known[source] for name, source in resizes.items()}


def convert(model_json: Path, out: Path) -> None:
    """Convert the TF.js graph model at `model_json` (weight shards beside it) to ONNX at
    `out`, its input NCHW float32 with free height and width."""
    import onnx
    from onnx import helper

    model = json.loads(model_json.read_text())
    if model.get("format") != "graph-model":
        raise ConversionError(f"{model_json.name}: not a TF.js graph model")
    weights = read_weights(model, model_json.parent)
    g = _graph(model, weights, [1, 3, "height", "width"], _resize_sources(model, weights))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", _OPSET)],
                          producer_name="relecture.models.tfjs_onnx")
    m.ir_version = 8
    onnx.checker.check_model(m)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, m.SerializeToString(), mode=0o644)
