"""Generate the synthetic demo calls in ``samples/`` and the audio fixtures in ``tests/data/``.

espeak-ng speaks each turn, numpy lays the turns out on a timeline (gaps, telephone
crosstalk, a faint noise floor), sox converts to the delivery format. Everything is
fixed in this file (texts, voices, gaps, noise seeds), so a re-run with the same
espeak-ng and sox versions writes the same bytes.

    .venv/bin/python scripts/make_samples.py --out samples
    .venv/bin/python scripts/make_samples.py --out samples --test-data tests/data

The speech is synthetic: good for exercising the pipeline, useless for judging ASR
accuracy (Whisper base gets most espeak Vietnamese syllables wrong).
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16000  # Hz of the timeline every call is mixed on
LEAD_IN_S = 0.6  # s of line noise before the operator answers (the ring is not recorded)
TAIL_S = 0.6  # s of line noise after the last word
NOISE_DBFS = -58.0  # RMS of the line noise floor, dBFS
CROSSTALK_DB = -30.0  # level of the other side leaking into a stereo channel, dB
# LAME's encoder delay (576 + 529 samples): libsndfile and PyAV both keep it, so the
# speech in a decoded mp3 starts this much later than on the timeline.
MP3_DELAY_S = 1105 / RATE

GREETING = (
    "Tổng đài dịch vụ đô thị thông minh một không hai hai xin nghe, "
    "tôi có thể giúp gì cho anh chị?"
)


@dataclass(frozen=True)
class Voice:
    name: str  # espeak-ng voice+variant, e.g. "vi+f3"
    pitch: int  # espeak-ng pitch, 0..99
    speed: int  # words per minute
    peak_dbfs: float  # peak level of each rendered turn, dBFS


@dataclass(frozen=True)
class Turn:
    role: str  # operator | citizen
    text: str  # what the voice says (numbers written as spoken words)
    gap_s: float  # s of silence before this turn; negative = starts before the last turn ended


@dataclass(frozen=True)
class Call:
    pbx_call_id: str  # id as the PBX exports it
    file_name: str  # path relative to the samples folder
    layout: str  # wav16 | stereo_ulaw | ulaw8k | mp3
    topics: tuple[str, ...]  # taxonomy keys the call is about
    start_time: str  # local start time, ISO-ish, as the PBX writes it
    caller_number: str  # synthetic Vietnamese mobile number
    operator_ext: str  # operator's extension
    operator: Voice
    citizen: Voice
    turns: tuple[Turn, ...]
    seed: int  # seed of the noise floor


OPERATOR_F = Voice("vi+f3", pitch=62, speed=165, peak_dbfs=-4.0)
OPERATOR_M = Voice("vi+m1", pitch=45, speed=165, peak_dbfs=-4.0)
CITIZEN_M = Voice("vi+m3", pitch=30, speed=150, peak_dbfs=-7.0)
CITIZEN_F = Voice("vi+f4", pitch=70, speed=155, peak_dbfs=-7.0)
# The band-limited μ-law call is played hot: at the levels above, Whisper base heard no
# speech in it at all; louder (and a less deep citizen voice) it transcribes.
OPERATOR_HOT = Voice("vi+f3", pitch=62, speed=165, peak_dbfs=-1.0)
CITIZEN_HOT = Voice("vi+m3", pitch=55, speed=150, peak_dbfs=-2.0)

CALLS: tuple[Call, ...] = (
    Call(
        pbx_call_id="1762133112.1041",
        file_name="2026/11/03/rec_20261103_082512_ext101.wav",
        layout="wav16",
        topics=("environment",),
        start_time="2026-11-03 08:25:12",
        caller_number="0905123456",
        operator_ext="101",
        operator=OPERATOR_F,
        citizen=CITIZEN_M,
        seed=1,
        turns=(
            Turn("operator", GREETING, 0.0),
            Turn("citizen", "Chào chị, rác ở đường Y Jút phường Tân Tiến cả tuần không ai thu gom.", 0.6),
            Turn("operator", "Dạ, anh cho xin số điện thoại ạ.", 0.5),
            Turn("citizen", "Số điện thoại của tôi là không chín không năm, một hai ba, bốn năm sáu.", 0.4),
            Turn("operator", "Dạ, tôi báo thu gom ngay hôm nay.", 0.5),
        ),
    ),
    Call(
        pbx_call_id="1762478250.1077",
        file_name="2026/11/07/rec_20261107_141730_ext102.wav",
        layout="stereo_ulaw",
        topics=("urban_order",),
        start_time="2026-11-07 14:17:30",
        caller_number="0935667788",
        operator_ext="102",
        operator=OPERATOR_F,
        citizen=CITIZEN_M,
        seed=2,
        turns=(
            Turn("operator", GREETING, 0.0),
            Turn(
                "citizen",
                "Alô, quán cà phê số bốn mươi lăm đường Phan Bội Châu, phường Thành Công, "
                "bày bàn ghế lấn chiếm hết vỉa hè và cả lòng đường.",
                0.7,
            ),
            # A backchannel over the end of the citizen's turn: real calls overlap.
            Turn("operator", "Dạ vâng.", -0.5),
            Turn("citizen", "Người đi bộ phải đi xuống lòng đường, rất nguy hiểm.", 0.3),
            Turn(
                "operator",
                "Dạ, tôi chuyển cho đội trật tự đô thị phường kiểm tra ngay. Cảm ơn anh.",
                0.6,
            ),
        ),
    ),
    Call(
        pbx_call_id="1762829415.1102",
        file_name="2026/11/11/rec_20261111_095015_ext103.mp3",
        layout="mp3",
        topics=("administrative_procedures",),
        start_time="2026-11-11 09:50:15",
        caller_number="0972345018",
        operator_ext="103",
        operator=OPERATOR_M,
        citizen=CITIZEN_F,
        seed=3,
        turns=(
            Turn("operator", GREETING, 0.0),
            Turn(
                "citizen",
                "Chào em, chị muốn hỏi làm căn cước công dân cho con mười bốn tuổi thì làm ở đâu?",
                0.8,
            ),
            Turn(
                "operator",
                "Dạ, chị đưa cháu đến công an phường nơi thường trú, mang theo giấy khai sinh, "
                "hoặc đăng ký trước trên cổng dịch vụ công quốc gia.",
                0.6,
            ),
            Turn("citizen", "Nhà chị ở đường Mai Hắc Đế phường Ea Tam, có cần hẹn trước không em?", 0.5),
            Turn("operator", "Dạ không cần hẹn ạ, công an phường làm việc từ thứ hai đến sáng thứ bảy.", 0.7),
            Turn("citizen", "Ừ, cảm ơn em nhé.", 0.4),
        ),
    ),
    Call(
        pbx_call_id="1763342707.1139",
        file_name="2026/11/17/rec_20261117_082507_ext101.wav",
        layout="ulaw8k",
        topics=("utilities",),
        start_time="2026-11-17 08:25:07",
        caller_number="0988776554",
        operator_ext="101",
        operator=OPERATOR_HOT,
        citizen=CITIZEN_HOT,
        seed=4,
        turns=(
            Turn("operator", GREETING, 0.0),
            Turn(
                "citizen",
                "Alô, đèn đường trên đường Nguyễn Tất Thành gần ngã sáu, phường Tân Lợi, "
                "tắt hết ba đêm nay rồi, tối đi rất nguy hiểm.",
                0.9,
            ),
            Turn("operator", "Dạ, anh cho tôi xin họ tên và số điện thoại ạ.", 0.5),
            Turn(
                "citizen",
                "Tôi tên Nguyễn Văn Hùng, số điện thoại của tôi là "
                "không chín tám tám, bảy bảy sáu, năm năm bốn.",
                0.6,
            ),
            Turn(
                "operator",
                "Dạ, tôi đã chuyển cho công ty chiếu sáng đô thị, sẽ sửa trong hôm nay. Cảm ơn anh.",
                0.8,
            ),
        ),
    ),
    Call(
        pbx_call_id="1763950233.1168",
        file_name="2026/11/24/rec_20261124_091033_ext102.wav",
        layout="wav16",
        topics=("traffic",),
        start_time="2026-11-24 09:10:33",
        caller_number="0914202611",
        operator_ext="102",
        operator=OPERATOR_F,
        citizen=CITIZEN_M,
        seed=5,
        turns=(
            Turn("operator", GREETING, 0.0),
            Turn("citizen", "Có ổ gà rất lớn giữa đường Lê Duẩn, phường Ea Tam, xe máy vừa ngã ở đó.", 0.5),
            Turn("operator", "Dạ, có ai bị thương không anh?", 0.4),
            Turn("citizen", "Một người trầy tay, cần rào lại gấp.", 0.3),
            Turn("operator", "Dạ, tôi báo ngay cho cảnh sát giao thông.", 0.4),
        ),
    ),
)

SHORT_SENTENCE = "Rác ở đường Y Jút phường Tân Tiến cả tuần nay không được thu gom, bốc mùi lắm."
SHORT_STEREO = (
    Turn("operator", "Một không hai hai xin nghe.", 0.0),
    Turn("citizen", "Đèn đường bị tắt rồi.", 0.5),
)


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, **kwargs)


def speak(text: str, voice: Voice, workdir: Path) -> np.ndarray:
    """Render ``text`` with espeak-ng: float32 mono at RATE, edges trimmed, peak at voice.peak_dbfs."""
    wav = workdir / "turn.wav"
    _run(["espeak-ng", "-v", voice.name, "-p", str(voice.pitch), "-s", str(voice.speed), "-w", str(wav), text])
    # Raw little-endian float32 out of sox: no extra Python audio dependency.
    raw = _run(["sox", "-R", str(wav), "-t", "raw", "-e", "floating-point", "-b", "32", "-L", "-r", str(RATE), "-"])
    samples = np.frombuffer(raw.stdout, dtype="<f4").astype(np.float32)
    voiced = np.flatnonzero(np.abs(samples) > 1e-3)
    samples = samples[voiced[0] : voiced[-1] + 1]
    return samples * np.float32(10 ** (voice.peak_dbfs / 20) / np.abs(samples).max())


def lay_out(turns: tuple[Turn, ...], voices: dict[str, Voice], workdir: Path):
    """Place each turn on a timeline. Returns (per-role tracks dict, manifest turns)."""
    rendered = [speak(t.text, voices[t.role], workdir) for t in turns]
    timeline = []
    t = LEAD_IN_S
    for turn, audio in zip(turns, rendered):
        start = t + turn.gap_s if timeline else t
        end = start + len(audio) / RATE
        timeline.append((turn, audio, start, end))
        t = max(t, end)
    n = int(round((t + TAIL_S) * RATE))
    tracks = {role: np.zeros(n, dtype=np.float32) for role in voices}
    manifest = []
    for turn, audio, start, end in timeline:
        i = int(round(start * RATE))
        tracks[turn.role][i : i + len(audio)] += audio
        manifest.append({"role": turn.role, "text": turn.text, "start_s": round(start, 3), "end_s": round(end, 3)})
    return tracks, manifest


def _noise(n: int, seed: int) -> np.ndarray:
    rms = 10 ** (NOISE_DBFS / 20)
    return (np.random.default_rng(seed).standard_normal(n) * rms).astype(np.float32)


def _write_with_sox(samples: np.ndarray, out: Path, sox_out_args: list[str], effects: list[str] = ()) -> None:
    """Write (channels, n) float32 at RATE through sox into ``out`` with the given output options."""
    channels = samples.shape[0]
    interleaved = np.ascontiguousarray(samples.T, dtype="<f4").tobytes()
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["sox", "-R", "-D", "-t", "raw", "-e", "floating-point", "-b", "32", "-L", "-r", str(RATE),
           "-c", str(channels), "-", *sox_out_args, str(out), *effects]
    _run(cmd, input=interleaved)


def render(tracks: dict[str, np.ndarray], layout: str, seed: int, out: Path) -> None:
    """Mix the role tracks into ``layout`` and write ``out``."""
    op, cit = tracks["operator"], tracks["citizen"]
    telephone = ["sinc", "300-3400"]
    if layout == "stereo_ulaw":
        leak = np.float32(10 ** (CROSSTALK_DB / 20))
        left = op + leak * cit + _noise(len(op), seed)
        right = cit + leak * op + _noise(len(op), seed + 1000)
        # G.711 μ-law stereo at 8 kHz: what many PBXs record, and a quarter the size of 16-bit
        # 16 kHz. No 300 Hz high-pass here: with it Whisper base heard no speech in either
        # channel of this espeak call (the mono μ-law call keeps it, as the hard case).
        _write_with_sox(np.stack([left, right]), out, ["-r", "8000", "-e", "u-law", "-t", "wav"])
        return
    mono = (op + cit + _noise(len(op), seed))[None, :]
    if layout == "wav16":
        _write_with_sox(mono, out, ["-r", str(RATE), "-e", "signed-integer", "-b", "16", "-t", "wav"])
    elif layout == "ulaw8k":
        _write_with_sox(mono, out, ["-r", "8000", "-c", "1", "-e", "u-law", "-t", "wav"], telephone)
    elif layout == "mp3":
        _write_with_sox(mono, out, ["-C", "32", "-t", "mp3"])
    else:
        raise ValueError(f"unknown layout {layout!r}")


def _decoded_duration(path: Path) -> float:
    """Seconds a decoder returns for ``path`` (an mp3 decodes longer than its timeline)."""
    import soundfile  # the project's decoder; imported here so --help works without it

    return soundfile.info(str(path)).duration


def make_calls(out_dir: Path) -> None:
    """Write every call of CALLS, calls.csv and manifest.json under ``out_dir``."""
    manifest = {}
    with tempfile.TemporaryDirectory() as tmp:
        for call in CALLS:
            tracks, turns = lay_out(call.turns, {"operator": call.operator, "citizen": call.citizen}, Path(tmp))
            render(tracks, call.layout, call.seed, out_dir / call.file_name)
            for turn in turns:
                if call.layout == "stereo_ulaw":
                    turn["channel"] = 0 if turn["role"] == "operator" else 1
                if call.layout == "mp3":
                    turn["start_s"] = round(turn["start_s"] + MP3_DELAY_S, 3)
                    turn["end_s"] = round(turn["end_s"] + MP3_DELAY_S, 3)
            manifest[call.file_name] = {
                "pbx_call_id": call.pbx_call_id,
                "layout": call.layout,
                "topics": list(call.topics),
                "duration_s": round(_decoded_duration(out_dir / call.file_name), 3),
                "voices": {"operator": call.operator.name, "citizen": call.citizen.name},
                "turns": turns,
            }
    with open(out_dir / "calls.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["call_id", "start_time", "caller_number", "operator_ext", "direction", "file_name"])
        for call in CALLS:
            writer.writerow([call.pbx_call_id, call.start_time, call.caller_number, call.operator_ext,
                             "inbound", call.file_name])
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def make_test_data(data_dir: Path) -> None:
    """Write the short clips and the broken files the unit tests use."""
    bad = data_dir / "bad"
    bad.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        speech = speak(SHORT_SENTENCE, CITIZEN_M, work)
        mono = np.concatenate([np.zeros(int(0.3 * RATE), np.float32), speech, np.zeros(int(0.3 * RATE), np.float32)])
        mono = mono + _noise(len(mono), 11)
        short = data_dir / "short_vi.wav"
        _write_with_sox(mono[None, :], short, ["-r", str(RATE), "-e", "signed-integer", "-b", "16", "-t", "wav"])

        tracks, _ = lay_out(SHORT_STEREO, {"operator": OPERATOR_F, "citizen": CITIZEN_M}, work)
        leak = np.float32(10 ** (CROSSTALK_DB / 20))
        op, cit = tracks["operator"], tracks["citizen"]
        stereo = np.stack([op + leak * cit + _noise(len(op), 12), cit + leak * op + _noise(len(op), 13)])
        _write_with_sox(stereo, data_dir / "short_stereo.wav",
                        ["-r", str(RATE), "-e", "signed-integer", "-b", "16", "-t", "wav"])

        (bad / "empty.wav").write_bytes(b"")
        (bad / "not_audio.mp3").write_text("This is a text file, not an MP3.\n", encoding="utf-8")
        # Header promises the whole clip, the data stops a little past a third, mid-sample.
        data = short.read_bytes()
        (bad / "truncated.wav").write_bytes(data[: 44 + (len(data) - 44) // 3 + 1])
        (bad / "random.flac").write_bytes(np.random.default_rng(14).bytes(4096))
        mp3 = work / "short.mp3"
        _write_with_sox(mono[None, :], mp3, ["-C", "32", "-t", "mp3"])
        shutil.copyfile(mp3, bad / "mp3_named.wav")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("samples"), help="folder for the calls (default: samples)")
    parser.add_argument("--test-data", type=Path, help="also write the test fixtures into this folder")
    args = parser.parse_args(argv)
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            print(f"{tool} not found: apt-get install espeak-ng sox libsox-fmt-all", file=sys.stderr)
            return 2
    make_calls(args.out)
    if args.test_data:
        make_test_data(args.test_data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
