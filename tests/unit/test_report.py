"""``hotline report`` and ``hotline users add``, in-process through the CLI."""

from __future__ import annotations

import io
import re
import shutil

import duckdb
import pytest

from pipeline.cli import main
from pipeline.web.auth import authenticate, hash_password, verify_password


def test_report_is_self_contained_with_charts(web_db, tmp_path, capsys):
    out = tmp_path / "bao-cao.html"
    assert main(["report", "--from", "2026-10-19", "--to", "2026-11-01", "--out", str(out), "--db", str(web_db)]) == 0
    html = out.read_text(encoding="utf-8")
    assert html.count("<svg") >= 2 and 'class="heat"' in html  # calls per day and hour; week × topic table
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing fetched from elsewhere
    assert "19/10/2026" in html and "Chủ đề theo tuần" in html
    con = duckdb.connect(str(web_db))
    n = con.execute("SELECT count(*) FROM calls WHERE CAST(started_at AS DATE) BETWEEN '2026-10-19' AND '2026-11-01'"
                    ).fetchone()[0]
    con.close()
    assert f'<td>Cuộc gọi</td><td class="num">{n}</td>' in html


def test_report_in_english(web_db, tmp_path):
    out = tmp_path / "report.html"
    assert main(["report", "--from", "2026-10-01", "--to", "2026-12-31", "--out", str(out), "--db", str(web_db),
                 "--lang", "en"]) == 0
    assert "Topics by week" in out.read_text(encoding="utf-8")


@pytest.mark.skipif(not shutil.which("chromium"), reason="PDF needs Debian chromium")
def test_report_pdf(web_db, tmp_path):
    out = tmp_path / "report.pdf"
    assert main(["report", "--from", "2026-10-01", "--to", "2026-12-31", "--out", str(out), "--db", str(web_db)]) == 0
    assert out.read_bytes()[:5] == b"%PDF-"


def test_users_add_hashes_the_password(web_db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("mot-mat-khau-dai\n"))
    assert main(["users", "add", "Hoa", "--role", "qa", "--db", str(web_db), "--password-stdin"]) == 0
    con = duckdb.connect(str(web_db))
    stored, role = con.execute("SELECT password_hash, role FROM users WHERE user_name = 'hoa'").fetchone()
    assert role == "qa" and stored.startswith("scrypt$") and "mot-mat-khau-dai" not in stored
    assert authenticate(con, "hoa", "mot-mat-khau-dai") is not None
    assert authenticate(con, "hoa", "mot-mat-khau-sai") is None
    con.close()


def test_users_add_refuses_short_password(web_db, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("ngan\n"))
    assert main(["users", "add", "hoa", "--role", "qa", "--db", str(web_db), "--password-stdin"]) != 0
    assert "at least 8" in capsys.readouterr().err


def test_password_hash_is_salted():
    a, b = hash_password("cung-mat-khau"), hash_password("cung-mat-khau")
    assert a != b
    assert verify_password("cung-mat-khau", a) and verify_password("cung-mat-khau", b)
    assert not verify_password("khac", a)
    assert not verify_password("cung-mat-khau", "md5$abc")


def test_serve_refuses_a_missing_database(tmp_path, capsys):
    assert main(["serve", "--db", str(tmp_path / "none.duckdb"), "--port", "0"]) != 0
    assert "hotline run" in capsys.readouterr().err
    assert not (tmp_path / "none.duckdb").exists()
