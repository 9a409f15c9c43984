"""Review-threshold table from `hotline eval asr --out` rows: python scripts/calibrate_review.py ROWS.tsv [ROWS.tsv…]"""
import csv, sys
import numpy as np
rows = [r for p in sys.argv[1:] for r in csv.DictReader(open(p), delimiter="\t")]
c = np.array([float(r["confidence"]) for r in rows]); w = np.array([float(r["wer"]) for r in rows])
from scipy.stats import spearmanr
print(f"n={len(rows)} spearman={spearmanr(c, w).correlation:.2f} median_conf={np.median(c):.2f}")
bad = w >= 0.5
for th in (0.3, 0.5, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99, 1.0):
    f = c < th
    print(f"| {th:.2f} | {f.sum()}/{len(c)} | {(f & bad).sum()}/{bad.sum()} | {(f & ~bad).sum()}/{(~bad).sum()} | "
          f"{w[f].mean() if f.any() else float('nan'):.2f} / {w[~f].mean():.2f} |")
