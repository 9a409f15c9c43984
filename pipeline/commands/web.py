"""``hotline serve`` (the QA / manager web app) and ``hotline users add NAME --role R``."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from pipeline.config import load_settings
from pipeline.errors import HotlineError


def _serve(args) -> int:
    import uvicorn

    from pipeline.web.app import create_app

    settings = load_settings(db_path=args.db)
    if not settings.database.exists():
        raise HotlineError(f"no warehouse at {settings.database}: run `hotline run SOURCE_DIR --db {settings.database}` "
                           "first, or pass --db PATH")
    app = create_app(settings.database, settings)
    print(f"hotline: serving {settings.database} on http://{args.host}:{args.port}/", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def read_password(args) -> str:
    """From stdin with ``--password-stdin`` (scripts, tests), else asked twice on the terminal."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Mật khẩu / password: ")
        if getpass.getpass("Nhập lại / again: ") != password:
            raise HotlineError("the two passwords differ; run the command again")
    from pipeline.web.auth import password_problem

    if problem := password_problem(password):
        raise HotlineError(problem)
    return password


def _users_add(args) -> int:
    from pipeline.warehouse import db
    from pipeline.web.auth import add_user

    settings = load_settings(db_path=args.db)
    password = read_password(args)
    con = db.connect(settings.database, wait_s=args.wait)
    try:
        user = add_user(con, args.name, args.role, password)
    finally:
        con.close()
    print(f"user {user.name} ({user.role}) saved in {settings.database}")
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("serve", help="web app for QA review and manager dashboards")
    p.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $HOTLINE_HOME/hotline.duckdb)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=_serve)

    users = sub.add_parser("users", help="web app accounts")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = users_sub.add_parser("add", help="create or reset an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("qa", "manager", "admin"))
    add.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $HOTLINE_HOME/hotline.duckdb)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    add.add_argument("--wait", type=float, default=0.0, help="seconds to wait for another writer to finish")
    add.set_defaults(func=_users_add)
