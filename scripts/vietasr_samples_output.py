"""Print viet-asr's output on the demo calls in samples/ as a TSV (tests/data/vietasr_samples_output.tsv)."""
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from models.registry import load_recognizer  # noqa: E402
from pipeline.config import apply_environment, load_settings  # noqa: E402
from pipeline.stages.audio import decode_audio  # noqa: E402
from pipeline.stages.transcribe import transcribe_call  # noqa: E402

settings = load_settings()
apply_environment(settings)
rec = load_recognizer("viet-asr", cache_dir=settings.model_cache)
print("file\tstart_s\tend_s\thypothesis")
for f in json.loads((REPO / "samples" / "manifest.json").read_text(encoding="utf-8")):
    for t in transcribe_call(decode_audio(REPO / "samples" / f), rec):
        for s in t.segments:
            print(f"{f}\t{s.start:.2f}\t{s.end:.2f}\t{s.text}")
