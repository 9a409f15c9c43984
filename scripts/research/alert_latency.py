"""Landing → alert e-mail, beside landing → tagged (issue 30 #3), with a real SMTP server receiving it.

Builds calls of 1–4 minutes from real speech (``/work/shared/eval/fosd-pool``, read in place;
the calls go to a temporary folder, never into the repository), each with an urgent sentence
about 10 s in, narrowed to 8 kHz μ-law mono as a hotline line delivers. Starts an aiosmtpd
server on 127.0.0.1 and ``hotline watch`` on an empty folder (``--interval``, ``--settle``),
with ``HOTLINE_ALERT_TO`` set: the watcher keeps its models loaded between polls and e-mails
an urgent call's alert as the run stores the call (``pipeline.runs.book.send_alerts``).
A warm-up call loads the models first (not counted). Then each call lands (written beside the
folder, then renamed into it: the landing moment is the rename) and the script waits for the
alert e-mail (its arrival at the SMTP server) and for the call's rule hits in the warehouse
(``rule_hits.found_at``: tagged).

The shipped urgent words ("cháy", "tai nạn", "đuối nước", "sập") are said in no clip of
/work/shared/eval, so the warehouse is given one more urgent rule before the watcher starts:
"cấp cứu" or "cứu nạn" said by anyone, which clips 013526 and 009080 of fosd-pool say.

    .venv/bin/python scripts/research/alert_latency.py [--calls 60,90,120,180,240] [--interval 2] [--settle 1] \
        [--late] [--early-pass-s S]

With the early urgent pass (``HOTLINE_EARLY_PASS_S``, on by default) the alert leaves from the
first seconds of the call; ``--late`` puts the urgent clip at the end of each call instead, where
only the full run hears it; ``--early-pass-s 0`` measures the watcher without the early pass.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPO))

POOL = Path("/work/shared/eval/fosd-pool")
URGENT_CLIPS = ("audio/fosd_FPTOpenSpeechData_Set001_V0.1_013526.mp3", "audio/fosd_FPTOpenSpeechData_Set001_V0.1_009080.mp3")
RULE = {"said": {"by": "anyone", "phrases": ["cấp cứu", "cứu nạn"]}}


def build_call(out: Path, seconds: float, rng: random.Random, clips: list[str], urgent: str, *,
               late: bool = False) -> Path:
    """A mono 8 kHz μ-law call of about ``seconds``: real clips with 0.3–0.9 s gaps, the urgent clip second
    (``late``: last, ending just before the call does)."""
    import soundfile as sf

    from pipeline.stages.audio import decode_audio, resample

    def piece(rel: str) -> np.ndarray:
        return resample(decode_audio(POOL / rel).mono(), 16000, 8000)

    parts, total = [], 0.0
    order = [] if late else [rng.choice(clips), urgent]
    tail = piece(urgent) if late else None
    room = seconds - (len(tail) / 8000 + 1.0 if late else 0.0)
    while total < room:
        rel = order.pop(0) if order else rng.choice(clips)
        x = piece(rel)
        gap = np.zeros(int(8000 * rng.uniform(0.3, 0.9)), dtype=np.float32)
        parts += [x, gap]
        total += (len(x) + len(gap)) / 8000
    if late:  # the speech so far cut to leave room, then the urgent clip and a second of silence
        parts = [np.concatenate(parts)[: int(room * 8000)], tail, np.zeros(8000, dtype=np.float32)]
    sf.write(str(out), np.concatenate(parts)[: int(seconds * 8000)], 8000, subtype="ULAW", format="WAV")
    return out


def _read(db_path: Path, sql: str, params: list) -> list | None:
    """The rows of ``sql`` read from the watcher's warehouse, or None (after 0.5 s) while the watcher holds it."""
    import duckdb

    try:
        c = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error:
        time.sleep(0.5)
        return None
    try:
        return c.execute(sql, params).fetchall()
    finally:
        c.close()


def _alert_pass(db_path: Path, name: str) -> str:
    """Which pass raised the call's alerts ("early", "full"), from their stored triggers."""
    import json

    for _ in range(20):
        rows = _read(db_path, "SELECT a.trigger FROM alerts a JOIN calls c USING (call_id) WHERE c.source_path LIKE ?",
                     [f"%{name}"])
        if rows is not None:
            return ",".join(sorted((json.loads(t or "{}").get("pass") or "full") for (t,) in rows)) or "no alert"
    return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", default="60,90,120,180,240", help="call lengths in seconds, comma-separated")
    parser.add_argument("--interval", type=float, default=2.0, help="watch poll interval, s")
    parser.add_argument("--settle", type=float, default=1.0, help="watch settle time, s")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up on a call after this many seconds")
    parser.add_argument("--seed", type=int, default=30)
    parser.add_argument("--late", action="store_true",
                        help="the urgent clip at the end of each call, past the early pass's first seconds")
    parser.add_argument("--early-pass-s", type=float, default=None,
                        help="HOTLINE_EARLY_PASS_S for the watcher (default: the shipped setting; 0: off)")
    args = parser.parse_args()

    from pipeline.analysis.rules import Rule
    from pipeline.casework import categories
    from pipeline.warehouse import db as wdb
    from tests.support.smtp import smtp_server

    rng = random.Random(args.seed)
    lines = (POOL / "manifest.tsv").read_text(encoding="utf-8").splitlines()[1:]
    clips = [ln.split("\t")[0] for ln in lines if ln.split("\t")[0] not in URGENT_CLIPS]
    tmp = Path(tempfile.mkdtemp(prefix="hotline-alert-latency-"))
    watched, built, home = tmp / "pbx", tmp / "built", tmp / "home"
    for d in (watched, built, home):
        d.mkdir()
    lengths = [float(x) for x in args.calls.split(",")]
    calls = [build_call(built / f"call_{i}.wav", s, rng, clips, URGENT_CLIPS[i % 2], late=args.late)
             for i, s in enumerate(lengths)]
    warmup = build_call(built / "warmup.wav", 20, rng, clips, URGENT_CLIPS[0])
    db_path = home / "hotline.duckdb"
    con = wdb.connect(db_path)
    categories.save_rule(con, Rule(name="khan-cap-cuu-nan", title="Khẩn cấp: cấp cứu, cứu nạn", condition=RULE,
                                   urgent=True), "alert-latency")
    con.close()

    arrivals: list[tuple[float, bytes]] = []
    with smtp_server() as (inbox, port):
        handle = inbox.handle_DATA

        async def stamped(server, session, envelope):
            arrivals.append((time.time(), envelope.content))
            return await handle(server, session, envelope)

        inbox.handle_DATA = stamped
        env = dict(os.environ, HOTLINE_HOME=str(home), PYTHONUNBUFFERED="1", HOTLINE_SMTP_HOST="127.0.0.1",
                   HOTLINE_SMTP_PORT=str(port), HOTLINE_ALERT_TO="truc-ban@1022.example",
                   HOTLINE_ALERT_FROM="hotline@1022.example", PYTHONPATH=str(REPO))
        env.setdefault("HOTLINE_MODEL_CACHE", str(REPO / "var" / "models"))
        if args.early_pass_s is not None:
            env["HOTLINE_EARLY_PASS_S"] = str(args.early_pass_s)
        print(f"uptime at start: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}",
              flush=True)
        log = open(tmp / "watch.log", "w")
        watcher = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "watch", str(watched), "--interval",
                                    str(args.interval), "--settle", str(args.settle), "--db", str(db_path)],
                                   cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        results = []
        try:
            for i, src in enumerate([warmup, *calls]):
                n_before = len(arrivals)
                staged = watched.parent / f"landing_{src.name}"
                shutil.copyfile(src, staged)
                load = os.getloadavg()[0]
                os.rename(staged, watched / src.name)
                landed = time.time()
                landed_local = datetime.now()
                deadline = landed + args.timeout
                while len(arrivals) == n_before and time.time() < deadline:
                    time.sleep(0.1)
                alert = arrivals[n_before][0] - landed if len(arrivals) > n_before else None
                tagged = None
                while time.time() < deadline:  # the hits' time, once the watcher lets go of the file
                    rows = _read(db_path, "SELECT max(h.found_at) FROM rule_hits h JOIN calls c USING (call_id) "
                                 "WHERE c.source_path LIKE ?", [f"%{src.name}"])
                    if rows is None:
                        continue
                    row = rows[0] if rows else None
                    if row and row[0] is not None:
                        tagged = (row[0] - landed_local).total_seconds()
                        break
                    time.sleep(0.5)
                dur = len(__import__("soundfile").read(str(src))[0]) / 8000
                time.sleep(2.0)  # a second e-mail for the call would be sent right after the tag
                n_mails = len(arrivals) - n_before
                how = _alert_pass(db_path, src.name)
                results.append((src.name, dur, alert, tagged, load))
                print(f"{src.name}: {dur:.0f} s call, landing->alert {alert if alert is None else round(alert, 1)} s "
                      f"({how}), landing->tagged {tagged if tagged is None else round(tagged, 1)} s, "
                      f"{n_mails} e-mail(s), load {load:.1f}", flush=True)
                time.sleep(args.interval)
        finally:
            os.killpg(watcher.pid, signal.SIGINT)
            try:
                watcher.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(watcher.pid, signal.SIGKILL)
                watcher.wait()
            log.close()
    timed = [r for r in results[1:] if r[2] is not None]
    if timed:
        a = [r[2] for r in timed]
        t = [r[3] for r in timed if r[3] is not None]
        print(f"landing->alert: median {statistics.median(a):.1f} s, worst {max(a):.1f} s over {len(a)} calls; "
              f"landing->tagged: median {statistics.median(t):.1f} s, worst {max(t):.1f} s; "
              f"load average 1-min {min(r[4] for r in results):.1f}-{max(r[4] for r in results):.1f} at landing; "
              f"warm-up (cold watcher) alert {results[0][2]} s")
    print(f"uptime at end: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(f"log: {tmp / 'watch.log'}")
    return 0 if len(timed) == len(calls) else 1


if __name__ == "__main__":
    sys.exit(main())
