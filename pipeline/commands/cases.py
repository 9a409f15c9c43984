"""``hotline cases build|list|report|export``: cases (phiếu phản ánh) from the command line.

``build`` opens a case for every loaded call that has none (the loader does this for new
calls; run it once on a warehouse loaded before cases existed). Idempotent.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline import access
from pipeline.casework import cases
from pipeline.commands import add_role_option, add_warehouse_options, iso_date, open_warehouse
from pipeline.config import entry_settings
from pipeline.errors import HotlineError
from pipeline.i18n import translator
from pipeline.report import case_reports, formats
from pipeline.report.formats import topic_labels
from pipeline.report.documents import Issuer, docx_to_pdf, to_docx
from pipeline.warehouse.case_counts import n_incidents


def _build(args) -> int:
    with open_warehouse(args) as con:
        counts = cases.build_cases(con)
        n = n_incidents(con)
    print(f"cases: {counts['opened']} opened, {counts['answered']} closed as answered, "
          f"{counts['proposed']} merge proposals; {n} incidents in all")
    return 0


def _list(args) -> int:
    with open_warehouse(args) as con:
        rows = cases.list_cases(con, cases.Actor("cli", "manager"), status=None if args.status == "all" else args.status,
                                unit=args.unit,
                                overdue=args.overdue)
    t, labels = translator("vi"), topic_labels("vi")  # as the pages name them: labels, not program keys
    for r in rows:
        due = formats.day(r["due_date"]) or "-"
        status = t(f"case_status_{r['status']}", default=r["status"])
        print(f"{r['case_id']}  {status:<18} {'!' if r['urgent'] else ' '}"
              f"{t('case_overdue') if r['is_overdue'] else '':<8} {t('case_due')} {due}  {r['n_calls']} {t('rp_calls').lower()}  "
              f"{r['unit'] or t('rp_unit_none')}  {labels.get(r['topic'], r['topic'] or '-')}  {r['place'] or '-'}")
    print(f"{len(rows)} case(s)", file=sys.stderr)
    return 0


def _report(args) -> int:
    suffix = args.out.suffix.lower() if args.out else ""
    if suffix in (".docx", ".pdf"):  # the official document (Nghị định 30/2020/NĐ-CP) for the handling units
        settings = entry_settings(args)
        raw = access.raw_text(args.role, settings.web.raw_text_roles)
        with open_warehouse(args) as con:
            doc = case_reports.case_document(con, agency=settings.agency_name, unit=args.unit, week=args.week,
                                             raw_text=raw)
        issuer = Issuer.from_settings(settings, extra_recipients=[args.unit] if args.unit else ())
        body = to_docx(doc, issuer)
        args.out.write_bytes(docx_to_pdf(body) if suffix == ".pdf" else body)
        print(f"case report written to {args.out}")
        return 0
    if args.out and suffix not in ("", ".md", ".txt"):
        raise HotlineError(f"{args.out}: write the case report as .md, .docx or .pdf")
    with open_warehouse(args) as con:
        text = case_reports.markdown_section(con)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"cases section written to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _export(args) -> int:
    raw = access.raw_text(args.role, entry_settings(args).web.raw_text_roles)
    with open_warehouse(args) as con:
        rows = case_reports.weekly(con, args.week, args.unit)
    args.out.write_text(case_reports.weekly_csv(rows, raw_text=raw), encoding="utf-8")
    print(f"{len(rows)} case(s) written to {args.out}")
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("cases", help="cases (phiếu phản ánh): build from loaded calls, list, report, weekly export",
                       description="Cases opened from calls: build them for older warehouses, list, report, export.")
    actions = p.add_subparsers(dest="cases_command", required=True, metavar="ACTION")


    b = actions.add_parser("build", help="open a case for every loaded call without one; propose merges (idempotent)")
    add_warehouse_options(b)
    b.set_defaults(func=_build)

    ls = actions.add_parser("list", help="list cases, urgent and overdue first")
    ls.add_argument("--status", default="open", help="open (default), done, all, or one status (new, forwarded, ...)")
    ls.add_argument("--unit", default=None, help="only this handling unit")
    ls.add_argument("--overdue", action="store_true", help="only overdue cases")
    add_warehouse_options(ls)
    ls.set_defaults(func=_list)

    r = actions.add_parser("report", help="the cases report: Markdown section, or an official document (.docx/.pdf)")
    r.add_argument("--out", type=Path, default=None,
                   help="write here instead of stdout: .md (Markdown), .docx (official document, Nghị định "
                        "30/2020/NĐ-CP, agency and signer from settings) or .pdf (that document through LibreOffice)")
    r.add_argument("--unit", default=None, help="official document: only this handling unit's cases (and it receives it)")
    r.add_argument("--week", type=iso_date, default=None, help="official document: only cases opened in the week of this day")
    add_role_option(r)
    add_warehouse_options(r)
    r.set_defaults(func=_report)

    e = actions.add_parser("export", help="per-unit weekly list as CSV (UTF-8 with BOM, opens in Excel)")
    e.add_argument("--week", type=iso_date, default=None, help="any day of the week (default: every week)")
    e.add_argument("--unit", default=None, help="only this handling unit")
    e.add_argument("--out", type=Path, required=True, help="CSV file to write")
    add_role_option(e)
    add_warehouse_options(e)
    e.set_defaults(func=_export)
