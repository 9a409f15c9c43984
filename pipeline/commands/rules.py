"""``hotline rules list|test|save|apply``: call categories by rule (docs/rules.md)."""

from __future__ import annotations

import sys

from pipeline.casework import categories
from pipeline.commands import add_warehouse_options, open_warehouse


def _list(args) -> int:
    with open_warehouse(args) as con:
        rules = categories.rules_in_force(con)
    for r in rules:
        flags = ("urgent " if r.urgent else "") + ("" if r.enabled else "disabled ")
        print(f"{r.name}  v{r.version} {flags}{r.title}  {r.condition_json()}")
    print(f"{len(rules)} rule(s)", file=sys.stderr)
    return 0


def _test(args) -> int:
    with open_warehouse(args) as con:
        rule = (categories.draft_rule(args.name, args.condition) if args.condition
                else categories.find_rule(con, args.name))
        trial = categories.try_rule(con, rule, last=args.last)
    examples = ", ".join(f"{cid} ({moment:.0f} s)" for cid, moment in trial.examples) or "none"
    print(f"{trial.rule}: would have matched {trial.n_matched} of the last {trial.n_calls} calls; e.g. {examples}")
    return 0


def _save(args) -> int:
    rule = categories.draft_rule(args.name, args.condition, title=args.title, urgent=args.urgent)
    with open_warehouse(args) as con:
        saved = categories.save_rule(con, rule, args.by)
    print(f"{saved.name}: version {saved.version} saved by {saved.saved_by}")
    return 0


def _apply(args) -> int:
    with open_warehouse(args) as con:
        done = categories.apply_rules(con)
    print(f"rules applied to {done.n_calls} call(s): {done.n_hits} hit(s), {done.n_new_alerts} new alert(s)")
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("rules", help="call categories by rule: list them, try one on past calls, save a version, back-apply",
                       description="Call categories by rule (phân loại theo quy tắc), shipped defaults included.")
    actions = p.add_subparsers(dest="rules_command", required=True, metavar="ACTION")

    ls = actions.add_parser("list", help="one rule a line: name, version, title, condition")
    add_warehouse_options(ls)
    ls.set_defaults(func=_list)

    t = actions.add_parser("test", help="how many of the last calls a rule would have matched, with examples")
    t.add_argument("name", help="the rule's name (`hotline rules list`)")
    t.add_argument("--last", type=int, default=500, help="look at this many of the most recent calls (default 500)")
    t.add_argument("--condition", default=None, help="try this JSON condition instead of the stored rule (nothing is saved)")
    add_warehouse_options(t)
    t.set_defaults(func=_test)

    s = actions.add_parser("save", help="store a new version of a rule (who and when are recorded)")
    s.add_argument("name", help="the rule's name: lower-case ascii letters, digits and '-'")
    s.add_argument("--title", required=True, help="what the category means, in Vietnamese")
    s.add_argument("--condition", required=True, help="the condition as JSON (docs/rules.md)")
    s.add_argument("--urgent", action="store_true", help="hits raise alerts")
    s.add_argument("--by", required=True, help="user name recorded with the version")
    add_warehouse_options(s)
    s.set_defaults(func=_save)

    a = actions.add_parser("apply", help="apply the rules to every stored call: hits and urgent alerts (idempotent)")
    add_warehouse_options(a)
    a.set_defaults(func=_apply)
