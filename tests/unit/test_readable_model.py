"""The shipped case and punctuation model (models/artifacts/readable): small, quick to load, and
what it makes of recognised speech. Its figures on held-out written text are `hotline eval readable`
(docs/asr.md, "Readable text"); these tests hold what must stay true of any model shipped."""

from __future__ import annotations

import time

import pytest

from models.readable_text import ARTIFACT, load_readable_model
from pipeline.analysis.readable import make_readable

MAX_BYTES = 15 * 2**20


@pytest.fixture(scope="module")
def model():
    return load_readable_model()


def test_shipped_model_is_small_and_loads_quickly():
    assert ARTIFACT.stat().st_size <= MAX_BYTES
    load_readable_model.cache_clear()
    t0 = time.perf_counter()
    m = load_readable_model()
    seconds = time.perf_counter() - t0
    assert seconds < 3.0, f"load took {seconds:.2f} s (target 1 s on an idle core; 3 s allows a shared machine)"
    assert m.fingerprint.startswith("sha256:") and "legal.txt.gz" in m.meta["files"]
    assert "news" not in m.meta["files"], "the shipped model is trained on licence-clear text only"


def test_a_recognised_turn_comes_out_cased_punctuated_and_with_digits(model):
    text = make_readable("dạ em ở số bốn mươi lăm đường quang trung phường tân lợi thành phố buôn ma thuột", model).text
    assert text.startswith("Dạ")
    assert "số 45 đường Quang Trung" in text and "Buôn Ma Thuột" in text
    assert "Tân Lợi" in text and "phường tân lợi" in text.lower()  # "Phường Tân Lợi" as written text often has it
    assert text.endswith(".")


def test_a_spoken_question_ends_with_a_question_mark(model):
    assert make_readable("chị ơi bao giờ thì có người xuống kiểm tra", model).text.endswith("?")


def test_written_text_said_as_the_recogniser_writes_it_gets_its_capitals_back(model):
    # a held-out kind of sentence: the law's and Wikipedia's proper nouns
    text = make_readable("ủy ban nhân dân tỉnh đắk lắk đã có văn bản gửi bộ tài nguyên và môi trường", model).text
    assert "Đắk Lắk" in text
    assert text[0] == "Ủ"
