"""``hotline lines list|assign|scope``: the installation's hotlines (pipeline/lines.py) and users' line scopes."""

from __future__ import annotations

from pipeline.commands import add_warehouse_options, open_warehouse
from pipeline.config import entry_settings
from pipeline.errors import HotlineError
from pipeline.lines import line_book
from pipeline.warehouse.lines import assign_lines, line_counts, set_user_lines, user_lines
from pipeline.warehouse.users import user_exists


def _list(args) -> int:
    book = line_book(entry_settings(args))
    with open_warehouse(args, read_only=True) as con:
        counts = line_counts(con)
    print("key\tnumber\tcalls\tfirst\tlast\tagency\tname")
    for ln in book.lines:
        n, first, last = counts.get(ln.key, (0, None, None))
        default = " (default)" if ln.key == book.default else ""
        print(f"{ln.key}{default}\t{ln.number}\t{n}\t{first or '-'}\t{last or '-'}\t{ln.agency}\t{ln.name}")
    for key, (n, first, last) in sorted(counts.items(), key=lambda kv: str(kv[0])):
        if key is None:
            print(f"(none)\t-\t{n}\t{first or '-'}\t{last or '-'}\tcalls with no line yet: `hotline lines assign`")
        elif book.get(key) is None:
            print(f"{key}\t-\t{n}\t{first or '-'}\t{last or '-'}\tnot in the lines file (HOTLINE_LINES_FILE)")
    return 0


def _assign(args) -> int:
    book = line_book(entry_settings(args))
    with open_warehouse(args) as con:
        n = assign_lines(con, book)
    print(f"lines assigned to {n} call(s)")
    return 0


def _scope(args) -> int:
    book = line_book(entry_settings(args))
    unknown = [key for key in args.lines if book.get(key) is None]
    if unknown:
        raise HotlineError(f"unknown line(s) {', '.join(unknown)}: `hotline lines list` shows the keys")
    with open_warehouse(args) as con:
        if not user_exists(con, args.user):
            raise HotlineError(f"no account {args.user!r}: `hotline users add` creates it")
        set_user_lines(con, args.user, args.lines)
        now = user_lines(con, args.user)
    print(f"{args.user}: {', '.join(now) if now else 'every line'}")
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("lines", help="the hotlines this installation serves (đường dây nóng) and users' line scopes")
    actions = p.add_subparsers(dest="lines_command", required=True, metavar="ACTION")
    ls = actions.add_parser("list", help="each line: key, number, calls in the warehouse, first and last, agency")
    add_warehouse_options(ls)
    ls.set_defaults(func=_list)
    a = actions.add_parser("assign", help="give every call without a line its line (after an upgrade; idempotent)")
    add_warehouse_options(a)
    a.set_defaults(func=_assign)
    s = actions.add_parser("scope", help="let a user see only these lines' calls and cases (no line: every line)")
    s.add_argument("user", help="account name")
    s.add_argument("lines", nargs="*", help="line keys, e.g. bmt; none: every line")
    add_warehouse_options(s)
    s.set_defaults(func=_scope)
