"""ONNX Runtime sessions with their thread counts set explicitly.

A nightly worker per core must not start a thread per core in every model (oversubscription
makes CPU time grow without making anything faster), so each session gets `threads` intra-op
threads and runs its graph sequentially.
"""

from __future__ import annotations

from pathlib import Path


def onnx_session(path: Path | bytes, threads: int = 1):
    """An onnxruntime CPU session over the model at `path` (or a serialised graph), fully
    graph-optimised."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # warnings about unused initializers are noise here
    # no busy-waiting between operators: indexing runs one process per core
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    model = path if isinstance(path, bytes) else str(path)
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
