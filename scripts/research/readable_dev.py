"""The readable text's figures on the DEVELOPMENT part of corpus files (never the test part), with its case errors.

Used to choose changes to the readable text (issue 27, item 4) without looking at the
held-out test part: the same runs and scorer as ``hotline eval readable`` (pipeline/eval/readable.py),
``part="dev"`` (line blocks 10, 30, 50… of 200). Prints the figures per file and the most
frequent case errors (reference form → ours, with "start" for a sentence's first syllable).

Run: nice -n 10 .venv/bin/python scripts/research/readable_dev.py --files legal.txt.gz,viwiki.txt.gz --sentences 1500
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("/work/shared/lm-corpus"))
    ap.add_argument("--files", default="legal.txt.gz,viwiki.txt.gz")
    ap.add_argument("--sentences", type=int, default=1500)
    ap.add_argument("--errors", type=int, default=25, help="most frequent case errors to print")
    ap.add_argument("--names", action="store_true", help="print each gazetteer name cased wrong, in context")
    args = ap.parse_args()

    from models.readable_text import load_readable_model
    from pipeline.analysis.readable import gazetteer_names, written_tokens
    from pipeline.eval.readable import Counts, _forms_of, case_class, corpus_files, score_run, test_runs

    model = load_readable_model()
    total, errs = Counts(), Counter()
    for path in corpus_files(args.corpus, args.files.split(",")):
        runs = test_runs(path, "dev", max_sentences=args.sentences)
        c = Counts()
        for run in runs:
            c.add(score_run(run, model))
            words = list(run.syllables)
            pred = [""] * len(words)
            for t in written_tokens(words, {}, model):
                if not t.number:
                    for k, f in zip(range(t.start, t.end), _forms_of(t.text, t.end - t.start)):
                        pred[k] = f
            if args.names:
                one = score_run(run, model)
                if one.names[0] < one.names[1]:
                    for i, w in enumerate(words):
                        for name in gazetteer_names().get(w, ()):
                            n = len(name.syllables)
                            if tuple(words[i : i + n]) == name.syllables:
                                print(f"  name: {' '.join(run.forms[max(0, i - 3) : i + n + 1])!r} -> "
                                      f"{' '.join(pred[max(0, i - 3) : i + n + 1])!r}")
                                break
            for k, ref in enumerate(run.forms):
                if pred[k] and any(ch.isalpha() for ch in ref) and case_class(ref) != case_class(pred[k]):
                    start = k == 0 or run.puncts[k - 1] in (2, 3)
                    errs[(f"{'start ' if start else ''}{ref}", pred[k])] += 1
        total.add(c)
        f = c.figures()
        print(f"{path.name}: runs {len(runs)} case {f['case_accuracy']:.4f} comma {f['comma_f1']:.4f} "
              f"end {f['sentence_end_f1']:.4f} names {f['gazetteer_names_right']} ({f['gazetteer_names']})")
    f = total.figures()
    print(f"all: case {f['case_accuracy']:.4f} ({total.case_right}/{total.syllables}) comma {f['comma_f1']:.4f} "
          f"end {f['sentence_end_f1']:.4f} names {f['gazetteer_names_right']} ({f['gazetteer_names']})")
    print(f"case errors: {sum(errs.values())}; at sentence starts: "
          f"{sum(v for (r, _), v in errs.items() if r.startswith('start '))}")
    for (ref, got), n in errs.most_common(args.errors):
        print(f"  {n:4d}  {ref} -> {got}")


if __name__ == "__main__":
    main()
