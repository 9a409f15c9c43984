"""The known-operators page: admin only, CSRF, enrolment from selected calls through the CLI's
library function (with a stand-in diarizer: the real one is exercised by `hotline eval diarization
--enrol`), the list with consent and calls used, removal; no audio stored or served."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.records import SpeakerTurn
from pipeline.warehouse import db
from tests.support.web_fixtures import csrf_of


class TwoVoices:
    """Each recording it is handed holds the same operator voice and a new citizen voice."""

    def __init__(self, seed: int = 3):
        self.rng = np.random.default_rng(seed)
        self.operator = self.rng.standard_normal(192).astype(np.float32)
        self.calls = 0

    def diarize_voices(self, waveform, num_speakers=None):
        self.calls += 1
        citizen = self.rng.standard_normal(192).astype(np.float32)
        noisy_op = self.operator + 0.2 * self.rng.standard_normal(192).astype(np.float32)
        order = ("SPEAKER_00", "SPEAKER_01") if self.calls % 2 else ("SPEAKER_01", "SPEAKER_00")
        turns = (SpeakerTurn(0.0, 2.0, order[0]), SpeakerTurn(2.2, 5.0, order[1]))
        return turns, {order[0]: citizen, order[1]: noisy_op}


@pytest.fixture
def voices(app):
    fake = TwoVoices()
    app.state.operator_diarizer = fake
    return fake


def _enrol_form(client, **fields):
    page = client.get("/operators")
    assert page.status_code == 200
    data = {"csrf_token": csrf_of(page.text), "extension": "101", "name": "Nguyễn Thị Lan",
            "consent": "Phiếu đồng ý số 12, ký ngày 01/12/2026"}
    data.update(fields)
    return client.post("/operators/enrol", data=data, follow_redirects=False)


def test_only_admins_see_the_page(client_as, voices):
    assert client_as("admin").get("/operators").status_code == 200
    for role in ("qa", "manager"):
        assert client_as(role).get("/operators").status_code == 403
    anonymous = client_as(None)
    assert anonymous.get("/operators", follow_redirects=False).status_code == 303
    assert anonymous.post("/operators/enrol", data={"extension": "101"}).status_code == 401


def test_enrol_from_two_calls_lists_and_removes(client_as, voices, call_ids, web_db):
    admin = client_as("admin")
    page = admin.get("/operators?ext=101")
    assert "Nhận diện giọng tổng đài viên" in page.text and "Chưa có tổng đài viên nào" in page.text
    offered = [cid for cid in call_ids if f'value="{cid}"' in page.text]
    assert len(offered) >= 2  # the extension's calls are offered for selection

    response = _enrol_form(admin, call_id=offered[:2])
    assert response.status_code == 303, response.text
    listing = admin.get(response.headers["location"])
    assert "Đã đăng ký giọng cho máy lẻ 101: 2 cuộc gọi" in listing.text
    row = listing.text.split('data-ext="101"')[1].split("</tr>")[0]
    assert "Nguyễn Thị Lan" in row and "Phiếu đồng ý số 12" in row and ">an<" in row and "<td>2</td>" in row
    assert voices.calls == 2

    con = db.connect(web_db, migrate_schema=False)
    try:
        (embedding, n_calls, by, consent), = con.execute(
            "SELECT embedding, n_calls, enrolled_by, consent_note FROM operator_voiceprints").fetchall()
        columns = {r[0] for r in con.execute("DESCRIBE operator_voiceprints").fetchall()}
    finally:
        con.close()
    e = np.asarray(embedding)
    cos = float(e @ voices.operator / np.linalg.norm(e) / np.linalg.norm(voices.operator))
    assert cos > 0.95  # the shared voice, not a citizen (random: cosine ~0)
    assert (n_calls, by) == (2, "an") and consent.startswith("Phiếu")
    assert not columns & {"audio", "samples", "waveform", "path"}

    page = admin.get("/operators")
    removed = admin.post("/operators/101/remove", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert removed.status_code == 303
    assert "Đã xóa mẫu giọng của máy lẻ 101" in admin.get(removed.headers["location"]).text
    assert admin.post("/operators/101/remove", data={"csrf_token": csrf_of(page.text)}).status_code == 404


def test_enrol_refuses_bad_requests(client_as, voices, call_ids):
    admin = client_as("admin")
    assert _enrol_form(admin, call_id=call_ids[:2], csrf_token="forged").status_code == 403
    no_calls = _enrol_form(admin)
    assert no_calls.status_code == 400 and "Chọn từ 1 đến 10 cuộc gọi" in no_calls.text
    one_mono = _enrol_form(admin, call_id=call_ids[:1])  # one mono call: two equally likely voices
    assert one_mono.status_code == 400 and "at least two calls" in one_mono.text
    no_consent = _enrol_form(admin, call_id=call_ids[:2], consent="  ")
    assert no_consent.status_code == 400 and "consent" in no_consent.text
    unknown = _enrol_form(admin, call_id=["ffffffffffffffff", call_ids[0]])
    assert unknown.status_code == 400 and "ffffffffffffffff" in unknown.text
    assert voices.calls == 1  # refused before any diarization, but for the one-mono-call case
    assert "Nguyễn Thị Lan" in no_consent.text  # the form keeps what was typed
