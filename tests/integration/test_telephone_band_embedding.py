"""The telephone-band front end of the real CAM++ embedding (its weights loaded): two telephone
chunks that differ only above the band embed the same with narrowband="flat", not with "none".
The band detection itself is tested without weights in tests/unit/test_diarization_band.py."""

import numpy as np
import pytest

from tests.unit.test_diarization_band import SR, _band_limited, _fbank


def test_flat_narrowband_embedding_ignores_what_lies_above_the_band(monkeypatch):
    """With narrowband="flat" two telephone chunks that differ only above 3.4 kHz (resampler
    noise) embed the same; with "none" they do not."""
    torch = pytest.importorskip("torch")
    from models import diarization

    try:
        flat = diarization.build_campplus_embedding(narrowband="flat")
        none = diarization.build_campplus_embedding(narrowband="none")
    except Exception as exc:  # weights not installed here
        pytest.skip(f"CAM++ not available: {exc}")
    rng = np.random.default_rng(1)
    t = np.arange(2 * SR) / SR
    voice = _band_limited(sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 28)) * 0.05, 3400)
    spec = np.fft.rfft(rng.standard_normal(t.size))
    spec[np.fft.rfftfreq(t.size, 1 / SR) < 3600] = 0
    above = np.fft.irfft(spec, n=t.size)  # noise only above 3.6 kHz
    a = voice + 1e-6 * rng.standard_normal(t.size)
    b = voice + 3e-4 * above
    waves = torch.from_numpy(np.stack([a, b]).astype(np.float32))[:, None]
    assert all(diarization._is_narrowband(_fbank(w)) for w in (a, b))
    with torch.inference_mode():
        ef, en = flat(waves), none(waves)
    cos = lambda e: float(torch.nn.functional.cosine_similarity(e[0], e[1], dim=0))  # noqa: E731
    assert cos(ef) > 0.999
    assert cos(en) < cos(ef) - 0.01
