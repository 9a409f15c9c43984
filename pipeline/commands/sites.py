"""``hotline sites add|list|refresh|remove|export``: several centres' installations in one province picture (issue 32).

The province's warehouse (``--db PROVINCE.duckdb``) registers each site's warehouse or extract and
copies its calls' and cases' non-personal columns (pipeline/warehouse/sites.py); the web app's
``/province`` page reads that copy. A site that writes all day, or keeps its warehouse to itself,
runs ``hotline sites export --db SITE.duckdb --out SITE.extract.duckdb`` and the province registers
the extract. Measurements and the choice against one shared DuckLake: docs/operations.md.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from pipeline.commands import add_warehouse_options, open_warehouse
from pipeline.config import entry_settings
from pipeline.errors import HotlineError
from pipeline.warehouse import db
from pipeline.warehouse import sites as site_store


def _add(args) -> int:
    settings = entry_settings(args).with_(db_path=getattr(args, "db", None))
    con = db.connect(settings.database, wait_s=args.wait or 0.0)  # the first site creates the province's warehouse
    with closing(con):
        try:
            site_store.add_site(con, args.site, args.name or args.site, args.path)
        except site_store.SiteError as exc:
            raise HotlineError(str(exc)) from None
    print(f"site {args.site} added: {Path(args.path).resolve()} (`hotline sites refresh` copies its calls)")
    return 0


def _list(args) -> int:
    with open_warehouse(args, read_only=True) as con:
        rows = site_store.list_sites(con)
    print("site\tcalls\trefreshed\tlast error\tname\tpath")
    for r in rows:
        when = r["refreshed_at"].strftime("%Y-%m-%d %H:%M") if r["refreshed_at"] else "never"
        print(f"{r['site']}\t{r['copied']}\t{when}\t{r['last_error'] or '-'}\t{r['name']}\t{r['path']}")
    return 0


def _refresh(args) -> int:
    failed = 0
    with open_warehouse(args) as con:
        keys = args.sites or site_store.site_keys(con)
        if not keys:
            raise HotlineError("no site yet: `hotline sites add SITE PATH --db PROVINCE.duckdb` registers one")
        for key in keys:
            try:
                n = site_store.refresh_site(con, key)
                print(f"{key}: {n} calls")
            except site_store.SiteError as exc:
                failed += 1
                print(f"hotline: error: {exc} (the previous copy is kept)")
    return 1 if failed else 0


def _remove(args) -> int:
    with open_warehouse(args) as con:
        if not site_store.remove_site(con, args.site):
            raise HotlineError(f"no site {args.site!r}: `hotline sites list` shows them")
    print(f"site {args.site} removed with its copied calls")
    return 0


def _export(args) -> int:
    settings = entry_settings(args).with_(db_path=getattr(args, "db", None))
    db.check_warehouse_path(Path(settings.database), create=False)
    n = site_store.export_site(settings.database, args.out)
    print(f"extract written: {n} calls, {Path(args.out).stat().st_size / 2**20:.1f} MiB: {args.out}")
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("sites", help="several centres' installations in one province picture (the /province page)")
    actions = p.add_subparsers(dest="sites_command", required=True, metavar="ACTION")
    a = actions.add_parser("add", help="register a site's warehouse or extract in the province's warehouse")
    a.add_argument("site", help="short key, e.g. bmt")
    a.add_argument("path", type=Path, help="the site's warehouse (.duckdb) or its extract (`hotline sites export`)")
    a.add_argument("--name", default=None, help="the centre's name as pages show it (default: the key)")
    add_warehouse_options(a)
    a.set_defaults(func=_add)
    ls = actions.add_parser("list", help="each site: calls in the province copy, last refresh, last error")
    add_warehouse_options(ls)
    ls.set_defaults(func=_list)
    r = actions.add_parser("refresh", help="copy each site's current calls and cases (replaces its copy; never duplicates)")
    r.add_argument("sites", nargs="*", help="site keys (default: every site)")
    add_warehouse_options(r)
    r.set_defaults(func=_refresh)
    rm = actions.add_parser("remove", help="forget a site and its copied calls")
    rm.add_argument("site", help="site key")
    add_warehouse_options(rm)
    rm.set_defaults(func=_remove)
    e = actions.add_parser("export", help="at a site: write the columns the province reads into a file of their own")
    e.add_argument("--out", type=Path, required=True, help="the extract to write, e.g. /srv/share/bmt.extract.duckdb")
    add_warehouse_options(e)
    e.set_defaults(func=_export)
