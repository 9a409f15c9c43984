"""The readable transcript's model: ``hotline text show TEXT``, ``hotline text train --corpus DIR``,
``hotline eval readable --corpus DIR`` (docs/asr.md, "Readable text")."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from models.readable_text import load_readable_model
from models.readable_training import LinearOptions, TrainOptions
from pipeline.analysis.readable import make_readable
from pipeline.eval import readable

NUMBER_FILES = (Path("tests/data/readable/numbers_dev.tsv"), Path("tests/data/readable/numbers_test.tsv"),
                Path("tests/data/readable/numbers_blind.tsv"))


def _show(args) -> int:
    print(make_readable(args.text, load_readable_model(args.model)).text)
    return 0


def _train(args) -> int:
    files = readable.CLEAR_FILES + (readable.OTHER_FILES if args.with_news else ())
    if args.arch == "cnn":
        options = TrainOptions(epochs=args.epochs or 1, threads=args.threads, seed=args.seed, max_steps=args.max_steps)
    else:
        options = LinearOptions(bits=args.bits, alpha=args.alpha, epochs=args.epochs or LinearOptions.epochs,
                                seed=args.seed)

    def progress(epoch, step, total, loss, seconds):
        logging.getLogger("hotline").info("epoch %d step %d/%d loss %.4f %.0f s", epoch, step, total, loss, seconds)

    limits = {name: args.news_limit for name in readable.OTHER_FILES} if args.with_news and args.news_limit else None
    done = readable.train_readable(args.corpus, args.out, files=files, options=options, progress=progress,
                                   limit_per_file=args.limit, limits=limits)
    load_readable_model.cache_clear()
    model = load_readable_model(done.path)
    dev = [run for name in files for run in readable.test_runs(args.corpus / name, "dev", max_sentences=2000)]
    bias = readable.tune_bias(model, dev)
    readable.set_bias(done.path, bias)
    print(f"trained out={done.path} size={done.size_bytes} sentences={done.sentences} syllables={done.syllables} "
          f"steps={done.steps} seconds={done.seconds:.0f} punct_bias={','.join(f'{b:g}' for b in bias)}")
    return 0


def _eval(args) -> int:
    files = tuple(args.files.split(",")) if args.files else readable.CLEAR_FILES + readable.OTHER_FILES
    numbers = [p for p in (args.numbers or NUMBER_FILES) if Path(p).is_file()]
    report = readable.evaluate_readable(args.corpus, args.model, files=files, max_sentences=args.sentences,
                                        numbers=numbers)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1, default=str))
        return 0
    print(f"model {report['model']} ({report['fingerprint']}), trained on {report['trained_on']}")
    print(f"{'held-out file':<22}{'sent.':>7}{'case acc':>9}{'lower':>7}{'comma F1':>9}{'end F1':>8}{'? F1':>6}"
          f"{'names':>7}{'(n)':>5}{'digits≥10':>10}")
    for name, f in report["files"].items():
        names = "-" if f["gazetteer_names_right"] is None else f"{f['gazetteer_names_right']:.3f}"
        print(f"{name:<22}{f['sentences']:>7}{f['case_accuracy']:>9.3f}{f['lower_case_baseline']:>7.3f}"
              f"{f['comma_f1']:>9.3f}{f['sentence_end_f1']:>8.3f}{f['question_f1']:>6.2f}{names:>7}"
              f"{f['gazetteer_names']:>5}{f['digits']['written_same_10_plus']:>10.3f}")
    a = report["all"]
    names = "-" if a["gazetteer_names_right"] is None else f"{a['gazetteer_names_right']:.3f}"
    print(f"{'all':<22}{a['sentences']:>7}{a['case_accuracy']:>9.3f}{a['lower_case_baseline']:>7.3f}"
          f"{a['comma_f1']:>9.3f}{a['sentence_end_f1']:>8.3f}{a['question_f1']:>6.2f}{names:>7}{a['gazetteer_names']:>5}")
    for path, n in report["numbers"].items():
        print(f"numbers {path}: exact {n['exact']:.3f} of {n['cases']}")
        for spoken, got, want in n["misses"]:
            print(f"  {spoken!r}: got {got!r}, want {want!r}")
    numbers = [n for n in report["numbers"].values()]
    exact = sum(n["exact"] * n["cases"] for n in numbers) / max(1, sum(n["cases"] for n in numbers))
    print(f"readable case_acc={a['case_accuracy']:.3f} names={names} comma_f1={a['comma_f1']:.3f} "
          f"end_f1={a['sentence_end_f1']:.3f} numbers_exact={exact:.3f} sentences={a['sentences']}")
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("text", help="the readable transcript (capitals, punctuation, digits): show, train")
    text_sub = p.add_subparsers(dest="text_command", required=True, metavar="ACTION")
    s = text_sub.add_parser("show", help="the readable form of a recognised text")
    s.add_argument("text", help="text as the recogniser writes it (lower case, numbers in words)")
    s.add_argument("--model", type=Path, default=None, help="model file (default: models/artifacts/readable)")
    s.set_defaults(func=_show)

    t = text_sub.add_parser("train", help="train the case and punctuation model on written text")
    t.add_argument("--corpus", type=Path, required=True,
                   help="folder of gzip text files, one sentence a line (../shared/lm-corpus); read in place")
    t.add_argument("--out", type=Path, required=True, help="model file to write (.npz)")
    t.add_argument("--with-news", action="store_true",
                   help="add the news files (licence unclear: for measuring what they add, not for shipping)")
    t.add_argument("--news-limit", type=int, default=60000, help="training sentences per news file (0: all)")
    t.add_argument("--arch", choices=("linear", "cnn"), default="linear",
                   help="linear: hashed n-gram features, logistic regression (shipped); cnn: the earlier dilated CNN")
    t.add_argument("--epochs", type=int, default=0,
                   help="passes over the training sentences (0: 4 for linear, 1 for cnn)")
    t.add_argument("--bits", type=int, default=LinearOptions.bits, help="linear: 2**BITS hashed features")
    t.add_argument("--alpha", type=float, default=LinearOptions.alpha, help="linear: L2 regularisation")
    t.add_argument("--max-steps", type=int, default=0, help="cnn: stop after this many optimiser steps (0: the epochs)")
    t.add_argument("--limit", type=int, default=None, help="training sentences per file (default: all)")
    t.add_argument("--threads", type=int, default=1, help="cnn: CPU threads for training")
    t.add_argument("--seed", type=int, default=0, help="random seed (same seed, same model)")
    t.set_defaults(func=_train)

    e = eval_sub.add_parser("readable", help="capitals, punctuation, gazetteer names and digits of the readable text")
    e.add_argument("--corpus", type=Path, required=True, help="folder of the corpus files (their held-out part is read)")
    e.add_argument("--model", type=Path, default=None, help="model file (default: the shipped one)")
    e.add_argument("--files", default="", help="comma-separated corpus files (default: all four)")
    e.add_argument("--sentences", type=int, default=3000, help="held-out sentences per file")
    e.add_argument("--numbers", type=Path, action="append", help="number test file(s) (default: tests/data/readable)")
    e.add_argument("--json", action="store_true", help="print every figure as JSON")
    e.set_defaults(func=_eval)
