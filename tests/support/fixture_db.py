"""A small, realistic warehouse for the web, report and notebook tests (plain SQL, bulk inserts).

Six weeks of calls to the 1022 line: several topics, wards and operators, some urgent,
some needing review, one with a phone number redacted. Every call points at the same
short real recording (tests/data/short_vi.wav), copied into the run's source folder.
"""

from __future__ import annotations

import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from pipeline.warehouse import db

REPO = Path(__file__).resolve().parents[2]
SHORT_WAV = REPO / "tests" / "data" / "short_vi.wav"

# (topic, ward, citizen sentence, operator reply)
_STORIES = [
    ("environment", "Tân Tiến", "Rác ở đường Y Jút phường Tân Tiến cả tuần nay không được thu gom, bốc mùi lắm.",
     "Dạ em ghi nhận, sẽ chuyển công ty môi trường đô thị xử lý."),
    ("utilities", "Thành Nhất", "Đèn đường ở hẻm 45 Lê Duẩn phường Thành Nhất bị tắt ba hôm rồi.",
     "Dạ em chuyển điện lực kiểm tra đèn chiếu sáng ạ."),
    ("traffic", "Tân Lập", "Ổ gà lớn trên đường Nguyễn Tất Thành gần phường Tân Lập, xe máy té liên tục.",
     "Dạ em báo ban quản lý giao thông xuống xem ngay."),
    ("security_order", "Ea Tam", "Có nhóm thanh niên tụ tập đánh nhau ở phường Ea Tam, cần công an tới gấp.",
     "Dạ em chuyển công an phường ngay lập tức."),
    ("administrative_procedures", "Thành Công", "Tôi muốn hỏi thủ tục làm căn cước ở phường Thành Công cần giấy tờ gì.",
     "Dạ anh mang giấy khai sinh và sổ hộ khẩu cũ tới bộ phận một cửa."),
    ("urban_order", "Tân Hòa", "Quán cà phê lấn chiếm vỉa hè đường Phan Bội Châu phường Tân Hòa.",
     "Dạ em chuyển đội trật tự đô thị kiểm tra."),
    ("land", "Hòa Thắng", "Nhà bên cạnh xây lấn sang đất nhà tôi ở xã Hòa Thắng.",
     "Dạ chị gửi đơn lên ủy ban xã để được giải quyết."),
]
OPERATORS = ["101", "102", "103"]
FIRST_DAY = datetime(2026, 10, 12, 7, 0)  # a Monday; six weeks of calls follow


def build_fixture_db(path: Path, source_dir: Path, *, n_calls: int = 36, seed: int = 7) -> list[str]:
    """Create and fill a migrated warehouse at ``path``; returns the call ids (oldest first)."""
    rng = random.Random(seed)
    source_dir.mkdir(parents=True, exist_ok=True)
    rel = Path("2026/11/rec_short.wav")
    (source_dir / rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SHORT_WAV, source_dir / rel)
    calls, segs, raws, topics, places, routes, metrics, pii = [], [], [], [], [], [], [], []
    ids = []
    for i in range(n_calls):
        topic, ward, said, reply = _STORIES[i % len(_STORIES)]
        started = FIRST_DAY + timedelta(days=rng.randrange(0, 42), hours=rng.randrange(0, 12), minutes=rng.randrange(60))
        cid = f"{i:04d}{rng.getrandbits(48):012x}"
        ids.append((started, cid))
        urgent = topic == "security_order"
        confidence = round(rng.uniform(0.35, 0.95), 3)
        needs_review = confidence < 0.55
        raw_citizen = said + (" Số tôi là 0905123456." if i % 5 == 0 else "")
        red_citizen = said + (" Số tôi là [SĐT]." if i % 5 == 0 else "")
        lines = [("operator", "Tổng đài 1022 xin nghe.", "Tổng đài 1022 xin nghe."),
                 ("citizen", raw_citizen, red_citizen), ("operator", reply, reply)]
        t = 0.0
        for seq, (role, raw, red) in enumerate(lines):
            dur = 1.2 + 0.4 * seq
            segs.append({"call_id": cid, "seq": seq, "start_s": t, "end_s": t + dur, "speaker": role.upper(),
                         "role": role, "channel": 0 if role == "operator" else 1, "text": red,
                         "avg_logprob": -0.4, "no_speech_prob": 0.02, "confidence": confidence, "flags": None})
            raws.append({"call_id": cid, "seq": seq, "text": raw})
            t += dur
        calls.append({
            "call_id": cid, "recording_sha256": cid * 4, "source_path": str(rel), "pbx_call_id": f"17621{i:05d}.1",
            "started_at": started, "duration_s": 5.2, "channels": 1, "sample_rate_hz": 16000, "language": "vi",
            "language_prob": 0.97, "status": "done", "caller_hash": f"h{i:03d}", "caller_last3": "456",
            "operator_ext": OPERATORS[i % 3], "direction": "inbound",
            "transcript": " ".join(red for _, _, red in lines), "confidence": confidence,
            "needs_review": needs_review, "review_reasons": "low_confidence" if needs_review else None,
            "urgent": urgent, "urgency_reasons": "violence" if urgent else None, "role_confidence": 0.9,
            "reviewed": False, "run_id": "run-fixture", "asr_model": "base", "processed_at": datetime(2026, 11, 27, 9),
        })
        topics.append({"call_id": cid, "topic": topic, "score": 0.8, "source": "model", "assigned": True})
        topics.append({"call_id": cid, "topic": "other", "score": 0.1, "source": "model", "assigned": False})
        kind = "commune" if ward == "Hòa Thắng" else "ward"
        places.append({"call_id": cid, "seq": 0, "kind": kind, "text": f"phường {ward}", "name": ward,
                       "unit_code": f"U{abs(hash(ward)) % 1000:03d}", "resolved_from": None})
        routes.append({"call_id": cid, "seq": 0, "agency": "ward_police" if urgent else "ward_office",
                       "agency_vi": "Công an phường" if urgent else "UBND phường", "reason": topic})
        for scope, talk in (("call", 4.2), ("operator", 2.0), ("citizen", 2.2)):
            metrics.append({"call_id": cid, "scope": scope, "name": "talk_time_s", "value": talk})
            metrics.append({"call_id": cid, "scope": scope, "name": "overlap_s", "value": 0.1})
        if i % 5 == 0:
            pii.append({"call_id": cid, "kind": "phone", "n": 1})
    con = db.connect(path)
    try:
        con.execute("INSERT INTO runs (run_id, started_at, finished_at, source_dir, status) VALUES (?, ?, ?, ?, 'done')",
                    ["run-fixture", datetime(2026, 11, 27, 9), datetime(2026, 11, 27, 10), str(source_dir)])
        for table, rows in (("calls", calls), ("segments", segs), ("segments_raw", raws), ("call_topics", topics),
                            ("call_places", places), ("call_routes", routes), ("call_metrics", metrics),
                            ("pii_counts", pii)):
            frame = pd.DataFrame(rows)
            con.register("_rows", frame)
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
            con.unregister("_rows")
    finally:
        con.close()
    return [cid for _, cid in sorted(ids)]
