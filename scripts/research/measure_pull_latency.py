"""Measure the time from a recording landing on an SFTP server to its call being tagged in DuckDB.

A real sshd on 127.0.0.1 plays the PBX: for each call it appends the CDR row to
``Master.csv`` and writes the recording (FreePBX name) over about a second, like
a PBX closing a call. The pipeline pulls over SFTP either as ``hotline watch
sftp://…`` (one long-lived process, models loaded once) or as the ``hotline
deploy`` deployment on a real ``prefect server`` (one flow-run process per
scheduled run). Latency = ``calls.processed_at`` − the moment the file was
complete on the server.

    PYTHONPATH=$PWD .venv/bin/python scripts/research/measure_pull_latency.py --mode watch --interval 10
    PYTHONPATH=$PWD .venv/bin/python scripts/research/measure_pull_latency.py --mode deploy --interval 30
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support import prefect_server, sshd  # noqa: E402
from tests.helpers import SAMPLES  # noqa: E402

CALLS = ["2026/11/03/rec_20261103_082512_ext101.wav", "2026/11/24/rec_20261124_091033_ext102.wav",
         "2026/11/17/rec_20261117_082507_ext101.wav", "2026/11/07/rec_20261107_141730_ext102.wav"]


def cdr_row(src: str, ext: str, start: datetime, uid: str, seconds: int) -> str:
    cells = ["", src, ext, "from-trunk", f'"" <{src}>', "PJSIP/viettel-0001", f"PJSIP/{ext}-0002", "Dial",
             f"PJSIP/{ext},,tT", f"{start:%Y-%m-%d %H:%M:%S}", f"{start:%Y-%m-%d %H:%M:%S}",
             f"{start + timedelta(seconds=seconds):%Y-%m-%d %H:%M:%S}", seconds, seconds, "ANSWERED", "DOCUMENTATION",
             uid, ""]
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow(cells)
    return buf.getvalue()


def land(pbx: Path, i: int, sample: str) -> tuple[str, datetime]:
    """One call ends on the PBX: its CDR row, then its recording written in chunks. Returns (relpath, complete at)."""
    start = datetime.now().replace(microsecond=0)
    uid = f"{int(start.timestamp())}.{100 + i}"
    ext = sample.rsplit("ext", 1)[1][:3]
    src = f"09051234{i:02d}"
    rel = f"{start:%Y/%m/%d}/in-{ext}-{src}-{start:%Y%m%d-%H%M%S}-{uid}.wav"
    data = (SAMPLES / sample).read_bytes()
    with (pbx / "Master.csv").open("a") as fh:
        fh.write(cdr_row(src, ext, start, uid, 30))
    (pbx / rel).parent.mkdir(parents=True, exist_ok=True)
    with (pbx / rel).open("wb") as fh:
        step = len(data) // 10 + 1
        for k in range(0, len(data), step):
            fh.write(data[k:k + step])
            fh.flush()
            time.sleep(0.1)
    return rel, datetime.now()


def tagged(db_path: Path) -> dict[str, datetime]:
    import duckdb

    if not db_path.exists():
        return {}
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error:
        return {}  # the pipeline is writing just now
    try:
        return {r[0]: r[1] for r in con.execute(
            "SELECT source_path, processed_at FROM calls c WHERE status = 'done' AND EXISTS "
            "(SELECT 1 FROM call_topics t WHERE t.call_id = c.call_id)").fetchall()}
    except duckdb.Error:
        return {}
    finally:
        con.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("watch", "deploy"), default="watch")
    ap.add_argument("--interval", type=float, default=10.0, help="seconds between polls / scheduled runs")
    ap.add_argument("--calls", type=int, default=3)
    ap.add_argument("--gap", type=float, default=25.0, help="seconds between calls landing")
    ap.add_argument("--timeout", type=float, default=300.0, help="give up on a call after this many seconds")
    ap.add_argument("--out", type=Path, default=REPO / "var" / "pull_latency.json")
    args = ap.parse_args()
    # A timeout's SIGTERM must still stop sshd, the server and the pipeline (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="pull-latency-"))
    pbx = work / "monitor"
    pbx.mkdir()
    (pbx / "Master.csv").write_text("")
    db = work / "hotline" / "calls.duckdb"
    srv = sshd.start(work / "sshd")
    env = {"HOTLINE_HOME": str(work / "hotline"), "HOTLINE_SFTP_KNOWN_HOSTS": str(srv.known_hosts),
           "HOTLINE_SFTP_KEY_PATH": str(srv.client_key), "PYANNOTE_METRICS_ENABLED": "0",
           "HOTLINE_MODEL_CACHE": str(REPO / "var" / "models")}
    server = proc = None
    results = []
    try:
        if args.mode == "deploy":
            server = prefect_server.Server(work / "prefect")
            proc = prefect_server.start_deploy(server, [srv.url(pbx), "--name", "latency", "--interval",
                                                        str(args.interval), "--db", str(db), "--confirm", "1"],
                                               env, work / "pipeline.log")
            prefect_server.wait_for_deployment(server, "latency")
        else:
            import os

            full = {k: v for k, v in os.environ.items()}
            full.update(env, PREFECT_HOME=str(work / "prefect"), PYTHONPATH=str(REPO))
            proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "watch", srv.url(pbx), "--interval",
                                     str(args.interval), "--settle", "0", "--db", str(db)], cwd=REPO, env=full,
                                    stdout=open(work / "pipeline.log", "wb"), stderr=subprocess.STDOUT,
                                    start_new_session=True)
        time.sleep(args.interval)  # let the pipeline start and poll once
        for i in range(args.calls):
            rel, at = land(pbx, i, CALLS[i % len(CALLS)])
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline and rel not in (got := tagged(db)):
                time.sleep(0.5)
            latency = (got[rel] - at).total_seconds() if rel in got else None
            results.append({"call": i, "landed": at.isoformat(), "latency_s": latency})
            print(f"call {i}: landing -> tagged {latency if latency is None else round(latency, 1)} s", flush=True)
            if i + 1 < args.calls:
                time.sleep(max(0.0, args.gap - (time.monotonic() - (deadline - args.timeout))))
    finally:
        if proc is not None:
            prefect_server.stop(proc)
        if server is not None:
            server.stop()
        srv.stop()
    lat = [r["latency_s"] for r in results if r["latency_s"] is not None]
    summary = {"mode": args.mode, "interval_s": args.interval, "calls": results,
               "median_s": statistics.median(lat) if lat else None, "max_s": max(lat) if lat else None,
               "min_s": min(lat) if lat else None, "log": str(work / "pipeline.log")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "calls"}))
    return 0 if len(lat) == args.calls else 1


if __name__ == "__main__":
    sys.exit(main())
