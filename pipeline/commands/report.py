"""``hotline report --from DATE --to DATE --out report.html``: a self-contained period report (HTML, PDF,
or .docx in the form of an official document, Nghị định 30/2020/NĐ-CP)."""

from __future__ import annotations

from pathlib import Path

from pipeline.commands import add_warehouse_options, check_period, iso_date, open_warehouse
from pipeline.config import entry_settings
from pipeline.report.documents import Issuer
from pipeline.report.reports import check_report_path, write_report


def _report(args) -> int:
    check_period(args.start, args.end)
    check_report_path(args.out, args.lang)  # before the warehouse is opened: nothing written under a wrong name
    settings = entry_settings(args)
    with open_warehouse(args) as con:  # read-write: applies 002/003 to an older warehouse
        out = write_report(con, args.start, args.end, args.out, lang=args.lang, agency=settings.agency_name,
                           issuer=Issuer.from_settings(settings), official=args.official)
    print(f"report for {args.start} to {args.end} written to {out}")
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("report", help="write a self-contained report (charts, tables) for a period")
    p.add_argument("--from", dest="start", type=iso_date, required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=iso_date, required=True, help="last day, YYYY-MM-DD (inclusive)")
    p.add_argument("--out", type=Path, required=True,
                   help="report.html, report.pdf (printed with chromium) or report.docx (official document, "
                        "Nghị định 30/2020/NĐ-CP; agency and signer from settings); other suffixes are refused")
    p.add_argument("--official", action="store_true",
                   help="with --out x.pdf: the official document (as .docx) converted to PDF by LibreOffice, "
                        "instead of the HTML report printed by chromium")
    p.add_argument("--lang", choices=("vi", "en"), default="vi", help="language of the report (default vi)")
    add_warehouse_options(p)
    p.set_defaults(func=_report)
