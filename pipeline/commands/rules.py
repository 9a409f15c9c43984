"""``hotline rules list|test|apply``: call categories by rule (docs/rules.md)."""

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
        trial = categories.try_rule(con, categories.find_rule(con, args.name), last=args.last)
    examples = ", ".join(f"{cid} ({moment:.0f} s)" for cid, moment in trial.examples) or "none"
    print(f"{trial.rule}: would have matched {trial.n_matched} of the last {trial.n_calls} calls; e.g. {examples}")
    return 0


def _apply(args) -> int:
    with open_warehouse(args) as con:
        done = categories.apply_rules(con)
    print(f"rules applied to {done.n_calls} call(s): {done.n_hits} hit(s), {done.n_new_alerts} new alert(s)")
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("rules", help="call categories by rule: list them, try one on past calls, back-apply",
                       description="Call categories by rule (phân loại theo quy tắc), shipped defaults included.")
    actions = p.add_subparsers(dest="rules_command", required=True, metavar="ACTION")

    ls = actions.add_parser("list", help="one rule a line: name, version, title, condition")
    add_warehouse_options(ls)
    ls.set_defaults(func=_list)

    t = actions.add_parser("test", help="how many of the last calls a rule would have matched, with examples")
    t.add_argument("name", help="the rule's name (`hotline rules list`)")
    t.add_argument("--last", type=int, default=500, help="look at this many of the most recent calls (default 500)")
    add_warehouse_options(t)
    t.set_defaults(func=_test)

    a = actions.add_parser("apply", help="apply the rules to every stored call: hits and urgent alerts (idempotent)")
    add_warehouse_options(a)
    a.set_defaults(func=_apply)
