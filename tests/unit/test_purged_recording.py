"""After the retention purge deleted a call's staged recording, the call page says so (not a 404 page) and
the audio URL answers 410 Gone; a purged call whose recording lies in the PBX's own folder still plays."""

from __future__ import annotations

import hashlib
import shutil
from datetime import timedelta

import duckdb

from pipeline.warehouse import db
from pipeline.warehouse.purge import purge
from pipeline.warehouse.staged_copies import staging_root


def test_call_page_after_its_staged_copy_was_purged(web_db, client_as):
    con = duckdb.connect(str(web_db))
    (staged_id, started, rel, src), (local_id,) = (
        con.execute("SELECT c.call_id, c.started_at, c.source_path, r.source_dir FROM calls c JOIN runs r USING (run_id) "
                    "ORDER BY c.started_at LIMIT 1").fetchone(),
        con.execute("SELECT call_id FROM calls ORDER BY started_at LIMIT 1 OFFSET 1").fetchone())
    con.close()
    folder = staging_root(web_db) / "10.0.0.5-0123456789ab"  # as sources.staging_dir names an SFTP pull's folder
    (folder / rel).parent.mkdir(parents=True)
    shutil.copyfile(f"{src}/{rel}", folder / rel)
    con = db.connect(web_db)
    con.execute("INSERT INTO runs (run_id, started_at, source_dir, status) VALUES ('run-sftp', ?, ?, 'done')",
                [started, str(folder.resolve())])
    # The fixture's hashes are made up; the purge deletes a staged file only when its bytes are the call's recording.
    con.execute("UPDATE calls SET run_id = 'run-sftp', recording_sha256 = ? WHERE call_id = ?",
                [hashlib.sha256((folder / rel).read_bytes()).hexdigest(), staged_id])
    con.close()

    client = client_as("qa")
    assert client.get(f"/audio/{staged_id}").status_code == 200  # kept: plays from the staged copy
    assert f'src="/audio/{staged_id}"' in client.get(f"/calls/{staged_id}").text

    con = db.connect(web_db)
    second = con.execute("SELECT started_at FROM calls WHERE call_id = ?", [local_id]).fetchone()[0]
    report = purge(con, 0, now=second + timedelta(seconds=1))  # the two oldest calls
    con.close()
    assert report.n_calls == 2 and report.n_staged == 1 and not (folder / rel).exists()

    page = client.get(f"/calls/{staged_id}")
    assert page.status_code == 200 and 'id="recording-removed"' in page.text
    assert "Bản ghi âm đã được xóa theo chính sách lưu trữ." in page.text and f'src="/audio/{staged_id}"' not in page.text
    gone = client.get(f"/audio/{staged_id}")
    assert gone.status_code == 410 and "chính sách lưu trữ" in gone.json()["detail"]

    # Purged too, but its recording is the PBX's file in a local folder: never deleted, still played.
    assert client.get(f"/audio/{local_id}").status_code == 200
    page = client.get(f"/calls/{local_id}").text
    assert 'id="recording-removed"' not in page and f'src="/audio/{local_id}"' in page
