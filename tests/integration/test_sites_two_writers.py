"""Several sites, one picture (issue 32 item 4): writers at two sites at once, real processes.

Each centre runs its own installation: two child processes write two sites' warehouses at the same time
(`hotline demo-data`, three rounds each) and after each round publish their extract (`hotline sites
export`), while the province refreshes from the extracts again and again. The province never opens a
site's live warehouse: a reader's lock on it would make the site's own writer wait or fail (measured:
docs/operations.md, "Several sites"). The final refresh holds every call of both sites exactly once."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb

from pipeline.warehouse import db, sites

ROUNDS, N1, N2 = 3, 300, 200  # per round and site (small: the overlap, not the size, is the test)


def _writer(path, extract, n, seed):
    cli = f"'{sys.executable}' -m pipeline.cli"
    one = (f"{cli} demo-data --calls {n} --seed {seed} --db '{path}' --batch 500 && "
           f"{cli} sites export --db '{path}' --out '{extract}'")
    return subprocess.Popen(["sh", "-c", " && ".join([one] * ROUNDS)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _site_ids(path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT call_id FROM calls WHERE status = 'done'").fetchall()}
    finally:
        con.close()


def test_two_sites_writing_at_once_lose_and_duplicate_nothing(tmp_path):
    paths = {"tinh": tmp_path / "tinh.duckdb", "bmt": tmp_path / "bmt.duckdb"}
    extracts = {key: tmp_path / f"{key}.extract.duckdb" for key in paths}
    con = db.connect(tmp_path / "province.duckdb")
    for key in paths:
        db.connect(paths[key]).close()
        sites.export_site(paths[key], extracts[key])  # an empty site publishes an empty extract
        sites.add_site(con, key, f"Trung tâm {key}", extracts[key])

    procs = [_writer(paths["tinh"], extracts["tinh"], N1, 1), _writer(paths["bmt"], extracts["bmt"], N2, 2)]
    seen = {key: [] for key in paths}
    while any(p.poll() is None for p in procs):
        for key in paths:
            seen[key].append(sites.refresh_site(con, key))  # never fails: an extract is replaced whole
        time.sleep(0.05)
    for p in procs:
        out, _ = p.communicate()
        assert p.returncode == 0, out

    assert sites.refresh_site(con, "tinh") == ROUNDS * N1 and sites.refresh_site(con, "bmt") == ROUNDS * N2
    for key, counts in seen.items():
        assert counts == sorted(counts)  # each refresh saw a whole round: the picture never went back
        assert set(counts) <= {i * (N1 if key == "tinh" else N2) for i in range(ROUNDS + 1)}
    for key, path in paths.items():
        copied = [r[0] for r in con.execute("SELECT call_id FROM site_calls WHERE site = ?", [key]).fetchall()]
        assert len(copied) == len(set(copied))  # none twice
        assert set(copied) == _site_ids(path)  # none lost, none invented
    n, distinct = con.execute("SELECT count(*), count(DISTINCT (site, call_id)) FROM site_calls").fetchone()
    assert n == distinct == ROUNDS * (N1 + N2)
    print(f"refreshes during the writes: {sum(len(v) for v in seen.values())}")
    con.close()
