"""models/topic_model.py is inference only; training, augmentation and metrics are in models/topic_training.py."""

from __future__ import annotations

import subprocess
import sys


from tests.helpers import REPO


def test_the_pipeline_classifies_without_loading_the_training_module():
    code = (
        "import sys\n"
        "from models.topic_model import load_topic_model\n"
        "from pipeline.analysis.topics import classify_text, assigned_topics\n"
        "scores = classify_text('mất điện cả xóm từ sáng đến giờ', load_topic_model())\n"
        "print(','.join(assigned_topics(scores)))\n"
        "print('models.topic_training' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    topics, training_loaded = out.stdout.split()
    assert "utilities" in topics.split(",")
    assert training_loaded == "False"


def test_the_shipped_artifact_calls_the_inference_module_text_forms():
    from models import topic_model

    model = topic_model.load_topic_model()
    preprocessors = {t.preprocessor for _, t in model.pipeline.named_steps["features"].transformer_list}
    assert preprocessors == {topic_model.accented_form, topic_model.folded_form}
