"""A YOLOv8 ONNX graph exported for one square input size, rebuilt for another.

The export bakes its input size into the detection head: the anchor points and strides are
constant tensors over the 8400 cells of a 640 x 640 input, and the distribution-focal-loss
reshapes name 8400. Everything before the head is convolutional, so a smaller input needs
only those constants remade: the cell centres (i + 0.5, j + 0.5) of each stride's grid, the
stride of each cell, and the reshapes given -1 for the cell count. The rebuilt graph is made
in memory from the pinned file at load time, so the model's provenance stays that file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

STRIDES = (8, 16, 32)


def head_constants(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(anchor points (1, 2, cells), strides (1, cells)) of a YOLOv8 head at `size` x `size`."""
    points, strides = [], []
    for stride in STRIDES:
        cells = size // stride
        ys, xs = np.meshgrid(np.arange(cells) + 0.5, np.arange(cells) + 0.5, indexing="ij")
        points.append(np.stack([xs.ravel(), ys.ravel()]))
        strides.append(np.full(cells * cells, stride))
    return np.concatenate(points, 1)[None], np.concatenate(strides)[None]


def yolov8_at_input(path: Path, size: int) -> bytes:
    """The serialised graph of the YOLOv8 export at `path`, taking `size` x `size` inputs."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    exported = dims[-1].dim_value
    if size % STRIDES[-1] or not exported:
        raise ValueError(f"{path}: cannot rebuild for a {size} px input (exported {exported})")
    old_cells = head_constants(exported)[1].shape[1]
    points, strides = head_constants(size)
    dims[-2].dim_value = dims[-1].dim_value = size
    for output in model.graph.output:  # their sizes follow the input's
        output.type.tensor_type.ClearField("shape")
    del model.graph.value_info[:]

    def rebuilt(tensor):
        value = numpy_helper.to_array(tensor)
        if value.shape == (1, 2, old_cells):
            value = points
        elif value.shape == (1, old_cells):
            value = strides
        elif value.dtype == np.int64 and value.ndim == 1 and old_cells in value.tolist():
            value = np.where(value == old_cells, -1, value)
        else:
            return None
        return numpy_helper.from_array(value.astype(numpy_helper.to_array(tensor).dtype),
                                       tensor.name)

    for k, tensor in enumerate(model.graph.initializer):
        if (new := rebuilt(tensor)) is not None:
            model.graph.initializer[k].CopyFrom(new)
    for node in model.graph.node:
        for attr in node.attribute:
            if node.op_type == "Constant" and attr.name == "value":
                if (new := rebuilt(attr.t)) is not None:
                    attr.t.CopyFrom(new)
    return model.SerializeToString()
