"""``hotline serve`` (the QA / manager web app) and ``hotline users add NAME --role R``."""

from __future__ import annotations

import getpass
import socket
import sys
from pathlib import Path

from pipeline.casework import units
from pipeline.casework.cases import set_user_unit
from pipeline.commands import add_warehouse_options, open_warehouse
from pipeline.config import entry_settings
from pipeline.errors import HotlineError
from pipeline.warehouse import db
from pipeline.web.accounts import list_accounts
from pipeline.web.auth import add_user, password_problem, remove_user, set_disabled


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`HotlineError` when ``host:port`` cannot be listened on (in use, or not ours)."""
    if not 0 < port < 65536:
        raise HotlineError(f"--port {port}: a port is a number from 1 to 65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise HotlineError(f"--host {host}: not an address of this machine") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise HotlineError(f"cannot listen on {host}:{port}: {exc.strerror} "
                               "(another `hotline serve`? pass --port N)") from None


def _serve(args) -> int:
    import uvicorn

    from pipeline.web.app import create_app

    settings = entry_settings(args).with_(db_path=args.db)
    settings = settings.with_(web=settings.web.with_(host=args.host, port=args.port))
    host, port = settings.web.host, settings.web.port
    db.check_warehouse_path(settings.database, create=False)
    check_port_free(host, port)
    app = create_app(settings.database, settings)
    print(f"hotline: serving {settings.database} on http://{host}:{port}/", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="info")
    return 0


def read_password(args) -> str:
    """From stdin with ``--password-stdin`` (scripts, tests), else asked twice on the terminal."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Mật khẩu / password: ")
        if getpass.getpass("Nhập lại / again: ") != password:
            raise HotlineError("the two passwords differ; run the command again")
    if problem := password_problem(password):
        raise HotlineError(problem)
    return password


def _users_add(args) -> int:
    settings = entry_settings(args).with_(db_path=args.db)
    db.check_warehouse_path(settings.database, create=False)  # before asking for a password
    if args.role == "unit" and not (args.unit or "").strip():
        raise HotlineError("--role unit needs --unit NAME (the unit's name as routing gives it, e.g. 'UBND phường Tân Lập')")
    unit = None
    if args.role == "unit":  # checked before asking for a password: a typo would show "no cases" forever
        con = db.connect(settings.database, wait_s=args.wait, create=False)
        try:
            unit = units.check_unit(con, args.unit)
        finally:
            con.close()
    password = read_password(args)
    con = db.connect(settings.database, wait_s=args.wait, create=False)
    try:
        user = add_user(con, args.name, args.role, password)
        if unit:  # a handling unit's member sees only that unit's cases
            set_user_unit(con, user.name, unit)
    finally:
        con.close()
    print(f"user {user.name} ({user.role}) saved in {settings.database}")
    return 0


def _with_users(args, action):
    with open_warehouse(args) as con:
        return action(con)


def _users_list(args) -> int:
    users = _with_users(args, list_accounts)
    if not users:
        print("no accounts yet: hotline users add NAME --role qa|manager|admin")
        return 0
    print(f"{'name':<20} {'role':<8} {'state':<9} {'created':<17} {'last log-in':<17} unit")
    for u in users:
        last = f"{u.last_login:%Y-%m-%d %H:%M}" if u.last_login else "never"
        print(f"{u.name:<20} {u.role:<8} {'disabled' if u.disabled else 'active':<9} "
              f"{u.created_at:%Y-%m-%d %H:%M} {last:<17} {u.unit or ('(none!)' if u.role == 'unit' else '')}")
    return 0


def _users_units(args) -> int:
    for name in _with_users(args, units.known_units):
        print(name)
    return 0


def _users_rename_unit(args) -> int:
    moved = _with_users(args, lambda con: units.rename_unit(con, args.old, args.new, "cli"))
    print(f"unit {args.old!r} is now {args.new!r}: {len(moved)} case(s) and its accounts moved")
    return 0


def _users_disable(args) -> int:
    _with_users(args, lambda con: set_disabled(con, args.name, disabled=not args.enable))
    print(f"user {args.name} {'enabled' if args.enable else 'disabled (sessions ended)'}")
    return 0


def _users_remove(args) -> int:
    _with_users(args, lambda con: remove_user(con, args.name))
    print(f"user {args.name} removed")
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("serve", help="web app for QA review, managers' dashboards and exports",
                       description="Serve the web app (QA review, dashboards, exports) over a warehouse.")
    p.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $HOTLINE_HOME/hotline.duckdb)")
    p.add_argument("--host", default=None,
                   help="address to listen on (default: $HOTLINE_HOST or 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=None, help="port to listen on (default: $HOTLINE_PORT or 8000)")
    p.set_defaults(func=_serve)

    users = sub.add_parser("users", help="web app accounts: add, list, disable, remove",
                           description="Manage the web app's accounts (stored in the warehouse).")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")


    add = users_sub.add_parser("add", help="create an account, or reset its password and role")
    add.add_argument("name", help="user name (case does not matter)")
    add.add_argument("--role", required=True, choices=("qa", "manager", "admin", "unit"),
                     help="qa: review and correct calls; manager: dashboards and exports; admin: everything; "
                          "unit: a handling unit's member (its cases only, needs --unit)")
    add.add_argument("--unit", default=None, help="for --role unit: the unit's name as routing gives it "
                     "(e.g. 'UBND phường Tân Lập'); checked against `hotline users units`")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    add_warehouse_options(add)
    add.set_defaults(func=_users_add)

    ls = users_sub.add_parser("list", help="list accounts with role, state and last log-in")
    add_warehouse_options(ls)
    ls.set_defaults(func=_users_list)

    dis = users_sub.add_parser("disable", help="block an account's log-in and end its sessions")
    dis.add_argument("name", help="user name")
    dis.add_argument("--enable", action="store_true", help="enable the account again instead")
    add_warehouse_options(dis)
    dis.set_defaults(func=_users_disable)

    un = users_sub.add_parser("units", help="list the unit names --unit accepts (routing table, after renames)")
    add_warehouse_options(un)
    un.set_defaults(func=_users_units)

    ren = users_sub.add_parser("rename-unit", help="rename a handling unit, or merge it into another: its cases "
                                                   "and accounts move, later routing to it gives the new name")
    ren.add_argument("old", help="the unit's name now")
    ren.add_argument("new", help="its new name, or the unit to merge it into")
    add_warehouse_options(ren)
    ren.set_defaults(func=_users_rename_unit)

    rm = users_sub.add_parser("remove", help="delete an account (audit rows that name it stay)")
    rm.add_argument("name", help="user name")
    add_warehouse_options(rm)
    rm.set_defaults(func=_users_remove)
