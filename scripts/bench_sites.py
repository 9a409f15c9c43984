"""Several sites, one picture (issue 32 item 4): ATTACH of site warehouses against one shared DuckLake.

    PYTHONPATH=. nice -n 10 .venv/bin/python scripts/bench_sites.py /tmp/sites32/site1.duckdb \
        /tmp/sites32/site2.duckdb /tmp/sites32/site3.duckdb --work /tmp/sites32/bench

Site files come from ``hotline demo-data --calls N --seed S --db siteS.duckdb``. DuckLake needs
duckdb-extension-ducklake / -postgres (PyPI) and PostgreSQL's initdb/pg_ctl (Debian ``postgresql``):
a throwaway cluster is started on a random port in ``--work`` and stopped after. Prints one line per
figure; docs/operations.md ("Several sites") holds a run's figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import duckdb

from pipeline.warehouse import db, sites

Q_COUNTS = """SELECT c.site, c.line, date_trunc('month', c.started_at) AS month, t.topic, p.name,
                     count(DISTINCT c.call_id) FROM {calls} c
              LEFT JOIN {topics} t ON t.site = c.site AND t.call_id = c.call_id
              LEFT JOIN {places} p ON p.site = c.site AND p.call_id = c.call_id
              WHERE c.started_at >= DATE '2026-01-01' GROUP BY ALL"""
Q_OPEN = """SELECT site, unit, count(*) FROM {cases} WHERE status IN ('new', 'forwarded', 'in_progress')
            GROUP BY ALL"""


def timed(fn, runs=5):
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out), max(out)


def du(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def attach_union(paths: list[Path]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for i, p in enumerate(paths):
        con.execute(f"ATTACH '{p}' AS s{i} (READ_ONLY)")
    for view, table, select in (("u_calls", "calls", "call_id, line, started_at"),
                                ("u_topics", "call_topics", "call_id, topic"),
                                ("u_places", "call_places", "call_id, name"),
                                ("u_cases", "cases", "case_id, status, unit")):
        union = " UNION ALL ".join(f"SELECT 's{i}' AS site, {select} FROM s{i}.{table}" for i in range(len(paths)))
        con.execute(f"CREATE TEMP VIEW {view} AS {union}")
    return con


HOLDER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])            # read-write: what a site's `hotline run` load holds
    con.execute("CREATE TABLE IF NOT EXISTS bench_hold (x INTEGER)")
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
""")

LAKE_WRITER = textwrap.dedent("""
    import sys, time, duckdb
    from duckdb_extensions import import_extension
    con = duckdb.connect()
    for ext in ("postgres", "ducklake"):
        import_extension(ext, con=con)
        con.execute(f"LOAD {ext}")
    con.execute(f"ATTACH 'ducklake:postgres:{sys.argv[1]}' AS lake (DATA_PATH '{sys.argv[2]}')")
    site, n, batch = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    retries = 0
    for b in range(0, n, batch):
        for attempt in range(50):
            try:
                con.execute("INSERT INTO lake.site_calls SELECT ?, ? || '-' || i, 'bmt', now(), 60, false, false, false "
                            "FROM range(?, ?) r(i)", [site, site, b, min(n, b + batch)])
                break
            except duckdb.Error as exc:
                retries += 1
                time.sleep(0.05 * (attempt + 1))
        else:
            raise SystemExit(f"gave up: {exc}")
    print(f"{site} wrote {n} in batches of {batch}, retries {retries}", flush=True)
""")


def bench_attach(paths: list[Path], work: Path) -> None:
    print("== (a) ATTACH READ_ONLY, union views over the live site files")
    t = time.perf_counter()
    con = attach_union(paths)
    print(f"attach {len(paths)} files + views: {time.perf_counter() - t:.3f} s")
    names = {"calls": "u_calls", "topics": "u_topics", "places": "u_places", "cases": "u_cases"}
    med, mx = timed(lambda: con.execute(Q_COUNTS.format(**names)).fetchall())
    print(f"counts topic x ward x line x month (2026): median {med:.3f} s, max {mx:.3f} s")
    med, mx = timed(lambda: con.execute(Q_OPEN.format(**names)).fetchall())
    print(f"open cases per unit: median {med:.3f} s, max {mx:.3f} s")
    con.close()

    print("== (a) while a site writes: ATTACH of a file another process holds read-write")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(paths[0]), "5"], stdout=subprocess.PIPE, text=True)
    holder.stdout.readline()
    try:
        duckdb.connect().execute(f"ATTACH '{paths[0]}' AS s (READ_ONLY)")
        print("attach while held: worked")
    except duckdb.Error as exc:
        print(f"attach while held: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
    holder.wait()

    print("== (a') refresh into the province warehouse (hotline sites refresh), and extracts")
    prov = work / "province.duckdb"
    prov.unlink(missing_ok=True)
    pcon = db.connect(prov)
    for i, p in enumerate(paths):
        sites.add_site(pcon, f"s{i}", f"site {i}", p)
    for i, _ in enumerate(paths):
        t = time.perf_counter()
        n = sites.refresh_site(pcon, f"s{i}")
        print(f"refresh s{i} from its warehouse: {n} calls, {time.perf_counter() - t:.3f} s")
    pcon.execute("CHECKPOINT")
    names = {"calls": "site_calls", "topics": "site_call_topics", "places": "site_call_places", "cases": "site_cases"}
    med, mx = timed(lambda: pcon.execute(Q_COUNTS.format(**names)).fetchall())
    print(f"counts on the province copy: median {med:.3f} s, max {mx:.3f} s")
    med, mx = timed(lambda: pcon.execute(Q_OPEN.format(**names)).fetchall())
    print(f"open cases on the province copy: median {med:.3f} s, max {mx:.3f} s")
    med, mx = timed(lambda: sites.province_counts(pcon, date(2026, 1, 1), date(2026, 12, 31), lines=["bmt"]))
    print(f"province_counts line=bmt: median {med:.3f} s, max {mx:.3f} s")
    pcon.close()
    print(f"province warehouse: {du(prov) / 2**20:.1f} MiB; site files: {sum(du(p) for p in paths) / 2**20:.1f} MiB")
    ext = work / "s0.extract.duckdb"
    t = time.perf_counter()
    sites.export_site(paths[0], ext)
    print(f"export s0 extract: {time.perf_counter() - t:.3f} s, {du(ext) / 2**20:.1f} MiB")


def pg_cluster(work: Path):
    initdb = shutil.which("initdb") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))), None)
    if initdb is None:
        return None
    bindir = Path(initdb).resolve().parent
    data = work / "pg"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    prefix = []
    if os.geteuid() == 0:  # initdb refuses root
        shutil.chown(data, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(prefix + [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "hotline"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(data / "log"), "-w", "-o",
                             f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"], check=True,
                   stdout=subprocess.DEVNULL)
    stop = prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]
    subprocess.run(prefix + [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "hotline", "lake"],
                   check=True)
    return f"dbname=lake host=127.0.0.1 port={port} user=hotline", stop, data


def bench_lake(paths: list[Path], work: Path) -> None:
    print("== (b) one DuckLake: PostgreSQL catalog + Parquet files")
    try:
        from duckdb_extensions import import_extension
        probe = duckdb.connect()
        for ext in ("postgres", "ducklake"):
            import_extension(ext, con=probe)
    except Exception as exc:  # the extension packages are not a dependency of the product
        print(f"skipped: pip install duckdb-extension-ducklake==1.5.5 duckdb-extension-postgres==1.5.5 ({exc})")
        return
    made = pg_cluster(work)
    if made is None:
        print("skipped: no PostgreSQL initdb (Debian package postgresql)")
        return
    dsn, stop, pgdata = made
    files = work / "lake_files"
    shutil.rmtree(files, ignore_errors=True)
    files.mkdir()
    try:
        from duckdb_extensions import import_extension
        con = duckdb.connect()
        for ext in ("postgres", "ducklake"):
            import_extension(ext, con=con)
            con.execute(f"LOAD {ext}")
        t = time.perf_counter()
        con.execute(f"ATTACH 'ducklake:postgres:{dsn}' AS lake (DATA_PATH '{files}/')")
        print(f"attach lake: {time.perf_counter() - t:.3f} s")
        con.execute("CREATE TABLE lake.site_calls (site VARCHAR, call_id VARCHAR, line VARCHAR, started_at TIMESTAMP, "
                    "duration_s DOUBLE, urgent BOOLEAN, frustrated BOOLEAN, needs_review BOOLEAN)")
        con.execute("CREATE TABLE lake.site_call_topics (site VARCHAR, call_id VARCHAR, topic VARCHAR)")
        con.execute("CREATE TABLE lake.site_call_places (site VARCHAR, call_id VARCHAR, kind VARCHAR, name VARCHAR)")
        con.execute("CREATE TABLE lake.site_cases (site VARCHAR, case_id VARCHAR, status VARCHAR, unit VARCHAR)")
        for i, p in enumerate(paths):
            t = time.perf_counter()
            con.execute(f"ATTACH '{p}' AS src (READ_ONLY)")
            con.execute("INSERT INTO lake.site_calls SELECT ?, call_id, line, started_at, duration_s, urgent, "
                        "frustrated, needs_review FROM src.calls", [f"s{i}"])
            con.execute("INSERT INTO lake.site_call_topics SELECT ?, call_id, topic FROM src.call_topics", [f"s{i}"])
            con.execute("INSERT INTO lake.site_call_places SELECT ?, call_id, kind, name FROM src.call_places",
                        [f"s{i}"])
            con.execute("INSERT INTO lake.site_cases SELECT ?, case_id, status, unit FROM src.cases", [f"s{i}"])
            con.execute("DETACH src")
            print(f"load s{i} into the lake: {time.perf_counter() - t:.3f} s")
        names = {"calls": "lake.site_calls", "topics": "lake.site_call_topics", "places": "lake.site_call_places",
                 "cases": "lake.site_cases"}
        med, mx = timed(lambda: con.execute(Q_COUNTS.format(**names)).fetchall())
        print(f"counts on the lake: median {med:.3f} s, max {mx:.3f} s")
        med, mx = timed(lambda: con.execute(Q_OPEN.format(**names)).fetchall())
        print(f"open cases on the lake: median {med:.3f} s, max {mx:.3f} s")
        t = time.perf_counter()
        con.execute("INSERT INTO lake.site_calls SELECT 's0', 'fresh-' || i, 'bmt', now(), 60, false, false, false "
                    "FROM range(100) r(i)")
        print(f"freshness: append 100 new calls (one commit): {time.perf_counter() - t:.3f} s")
        before = con.execute("SELECT count(*) FROM lake.site_calls").fetchone()[0]
        con.close()
        print(f"lake files: {du(files) / 2**20:.1f} MiB in {sum(1 for _ in files.rglob('*.parquet'))} Parquet files; "
              f"PostgreSQL cluster: {du(pgdata) / 2**20:.1f} MiB")
        print("two writer processes at once, 5000 calls each in commits of 50:")
        t = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", LAKE_WRITER, dsn, f"{files}/", site, "5000", "50"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for site in ("w1", "w2")]
        for p in procs:
            out, _ = p.communicate()
            print("  " + out.strip().replace("\n", "\n  "))
        print(f"  both done in {time.perf_counter() - t:.1f} s")
        con = duckdb.connect()
        for ext in ("postgres", "ducklake"):
            import_extension(ext, con=con)
            con.execute(f"LOAD {ext}")
        con.execute(f"ATTACH 'ducklake:postgres:{dsn}' AS lake (DATA_PATH '{files}/')")
        n, distinct = con.execute("SELECT count(*), count(DISTINCT (site, call_id)) FROM lake.site_calls").fetchone()
        print(f"  rows {n - before} new (expected 10000), distinct {distinct - before}; "
              f"Parquet files now {sum(1 for _ in files.rglob('*.parquet'))}, {du(files) / 2**20:.1f} MiB")
        con.close()
    finally:
        subprocess.run(stop, stdout=subprocess.DEVNULL)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sites", nargs="+", type=Path, help="site warehouses (hotline demo-data)")
    ap.add_argument("--work", type=Path, required=True, help="scratch folder (province file, lake, PostgreSQL)")
    ap.add_argument("--skip-lake", action="store_true", help="only the ATTACH figures")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print("load:", os.getloadavg())
    bench_attach(args.sites, args.work)
    if not args.skip_lake:
        bench_lake(args.sites, args.work)
    print("load:", os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
