"""Training the case and punctuation model of :mod:`models.readable_text`.

Input: runs of syllable ids with a case class and a following-punctuation class per
syllable (made from written text by :mod:`pipeline.eval.readable`). Output: the array file
:func:`models.readable_text.load_readable_model` reads.

Two kinds: the shipped **linear** model (:func:`train_linear`: logistic regression by SGD,
scikit-learn, over the hashed n-gram features of :func:`models.readable_text.hashed_features`;
weights int8 with one scale per class), and the earlier dilated CNN (:func:`train`, torch,
CPU; embedding int8, the rest float16), which a 2-core shared machine could train for less
than one epoch and which measured worse (docs/asr.md, "Readable text").
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.readable_text import CASES, N_SHAPES, PUNCTS, hashed_features

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainOptions:
    """Sizes and schedule; the defaults are what the shipped model was trained with."""

    emb_dim: int = 64  # syllable embedding width
    shape_dim: int = 8  # width of the syllable-shape embedding
    channels: int = 64  # convolution width
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16)  # one residual conv layer (3 taps) per entry: ±31 syllables
    epochs: int = 1
    batch_tokens: int = 8192  # syllables per optimiser step
    lr: float = 2e-3  # AdamW peak learning rate (linear warm-up, cosine decay)
    weight_decay: float = 0.01
    dropout: float = 0.1
    threads: int = 1
    seed: int = 0
    max_steps: int = 0  # stop after this many steps (0: the epochs)


@dataclass(frozen=True)
class Run:
    """One training example: a run of sentences as syllable ids and labels."""

    ids: np.ndarray  # int32 (n,) vocabulary ids
    shapes: np.ndarray  # int8 (n,) models.readable_text.shape
    cases: np.ndarray  # int8 (n,) index into CASES
    puncts: np.ndarray  # int8 (n,) index into PUNCTS


@dataclass
class Trained:
    arrays: dict = field(default_factory=dict)  # what save_model writes
    net: object = None  # the torch module (eval mode), for checking the export
    steps: int = 0
    seconds: float = 0.0
    final_loss: float = 0.0


def torch_logits(net, ids: np.ndarray, shapes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The torch module's (case, punctuation) logits for one run: what the exported arrays must reproduce."""
    import torch

    with torch.no_grad():
        i = torch.from_numpy(ids.astype(np.int64))[None]
        s = torch.from_numpy(shapes.astype(np.int64))[None]
        case, punct = net(i, s, torch.ones_like(i, dtype=torch.float32))
    return case[0].numpy(), punct[0].numpy()


def _net(vocab_size: int, opt: TrainOptions):
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab_size, opt.emb_dim, padding_idx=0)
            self.shape_emb = nn.Embedding(N_SHAPES, opt.shape_dim)
            self.proj = nn.Linear(opt.emb_dim + opt.shape_dim, opt.channels)
            self.convs = nn.ModuleList(nn.Conv1d(opt.channels, opt.channels, 3, dilation=d, padding=d)
                                       for d in opt.dilations)
            self.norms = nn.ModuleList(nn.LayerNorm(opt.channels) for _ in opt.dilations)
            self.drop = nn.Dropout(opt.dropout)
            self.case = nn.Linear(opt.channels, len(CASES))
            self.punct = nn.Linear(opt.channels, len(PUNCTS))

        def forward(self, ids, shapes, mask):
            x = self.proj(torch.cat([self.emb(ids), self.shape_emb(shapes)], dim=-1))  # (B, T, C)
            m = mask.unsqueeze(-1)
            for conv, norm in zip(self.convs, self.norms):
                y = torch.relu(conv((x * m).transpose(1, 2))).transpose(1, 2)
                x = norm(x + self.drop(y))
            return self.case(x), self.punct(x)

    return Net()


def _batches(runs: Sequence[Run], batch_tokens: int, rng: np.random.Generator):
    """Batches of runs of similar length, about ``batch_tokens`` syllables each, in random order."""
    order = np.argsort([len(r.ids) + rng.random() * 8 for r in runs])
    batches, current, longest = [], [], 0
    for k in order:
        n = len(runs[k].ids)
        if current and max(longest, n) * (len(current) + 1) > batch_tokens:
            batches.append(current)
            current, longest = [], 0
        current.append(k)
        longest = max(longest, n)
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


def _tensors(runs: Sequence[Run], batch: list[int]):
    import torch

    longest = max(len(runs[k].ids) for k in batch)
    ids = np.zeros((len(batch), longest), dtype=np.int64)
    shapes = np.zeros_like(ids)
    cases = np.full_like(ids, -100)
    puncts = np.full_like(ids, -100)
    for row, k in enumerate(batch):
        r = runs[k]
        n = len(r.ids)
        ids[row, :n], shapes[row, :n], cases[row, :n], puncts[row, :n] = r.ids, r.shapes, r.cases, r.puncts
    mask = ids != 0
    return (torch.from_numpy(ids), torch.from_numpy(shapes), torch.from_numpy(mask).float(),
            torch.from_numpy(cases), torch.from_numpy(puncts))


def train(runs: Sequence[Run], vocab: Sequence[str], opt: TrainOptions = TrainOptions(), *,
          progress=None) -> Trained:
    """Train on ``runs``; ``vocab[i]`` is the syllable of id ``i`` (0..2 reserved: pad, unk, number)."""
    import torch
    from torch import nn

    torch.manual_seed(opt.seed)
    torch.set_num_threads(opt.threads)
    rng = np.random.default_rng(opt.seed)
    net = _net(len(vocab), opt)
    optim = torch.optim.AdamW(net.parameters(), lr=opt.lr, weight_decay=opt.weight_decay)
    per_epoch = len(_batches(runs, opt.batch_tokens, np.random.default_rng(0)))
    total = per_epoch * opt.epochs if not opt.max_steps else min(opt.max_steps, per_epoch * opt.epochs)
    warm = max(1, total // 50)
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / total))))
    loss_fn = nn.CrossEntropyLoss(ignore_index=-100)
    step, t0, smooth = 0, time.perf_counter(), None
    net.train()
    for epoch in range(opt.epochs):
        for batch in _batches(runs, opt.batch_tokens, rng):
            ids, shapes, mask, cases, puncts = _tensors(runs, batch)
            case_logits, punct_logits = net(ids, shapes, mask)
            loss = loss_fn(case_logits.reshape(-1, len(CASES)), cases.reshape(-1)) + \
                loss_fn(punct_logits.reshape(-1, len(PUNCTS)), puncts.reshape(-1))
            optim.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optim.step()
            sched.step()
            step += 1
            value = float(loss.detach())
            smooth = value if smooth is None else 0.98 * smooth + 0.02 * value
            if progress and step % 50 == 0:
                progress(epoch, step, total, smooth, time.perf_counter() - t0)
            if step >= total:
                break
        if step >= total:
            break
    net.eval()
    return Trained(arrays=_export(net, vocab, opt), net=net, steps=step, seconds=time.perf_counter() - t0, final_loss=smooth or 0.0)


def _export(net, vocab: Sequence[str], opt: TrainOptions) -> dict[str, np.ndarray]:
    emb = net.emb.weight.detach().numpy().astype(np.float64)
    scale = np.maximum(np.abs(emb).max(axis=1), 1e-8) / 127.0
    arrays = {
        "vocab": np.array(list(vocab)),
        "emb_q": np.round(emb / scale[:, None]).astype(np.int8),
        "emb_scale": scale.astype(np.float32),
        "shape_emb": net.shape_emb.weight.detach().numpy().astype(np.float16),
        "proj_w": net.proj.weight.detach().numpy().T.astype(np.float16),
        "proj_b": net.proj.bias.detach().numpy().astype(np.float16),
        "dilations": np.array(opt.dilations, dtype=np.int16),
        "case_w": net.case.weight.detach().numpy().T.astype(np.float16),
        "case_b": net.case.bias.detach().numpy().astype(np.float16),
        "punct_w": net.punct.weight.detach().numpy().T.astype(np.float16),
        "punct_b": net.punct.bias.detach().numpy().astype(np.float16),
    }
    for k, (conv, norm) in enumerate(zip(net.convs, net.norms)):
        arrays[f"conv{k}_w"] = conv.weight.detach().numpy().transpose(2, 1, 0).astype(np.float16)  # (taps, in, out)
        arrays[f"conv{k}_b"] = conv.bias.detach().numpy().astype(np.float16)
        arrays[f"norm{k}_g"] = norm.weight.detach().numpy().astype(np.float16)
        arrays[f"norm{k}_b"] = norm.bias.detach().numpy().astype(np.float16)
    return arrays


@dataclass(frozen=True)
class LinearOptions:
    """The linear model's settings; the defaults are what the shipped model was trained with."""

    bits: int = 20  # 2**bits hashed features
    alpha: float = 5e-7  # L2 regularisation of SGDClassifier
    epochs: int = 4  # passes of SGD over the training syllables
    seed: int = 0


def _quantise(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 weights and one float32 scale per column."""
    scale = np.maximum(np.abs(w).max(axis=0), 1e-8) / 127.0
    return np.round(w / scale).astype(np.int8), scale.astype(np.float32)


def train_linear(runs: Sequence[Run], vocab_size: int, opt: LinearOptions = LinearOptions(), *,
                 progress=None) -> Trained:
    """Logistic regression (one against the rest per class) of case and of punctuation on the hashed
    features of ``runs`` (taken in a random order of ``opt.seed``); the arrays :func:`save_model` writes."""
    import scipy.sparse as sp
    from sklearn.linear_model import SGDClassifier

    t0 = time.perf_counter()
    order = np.random.default_rng(opt.seed).permutation(len(runs))
    feats = np.concatenate([hashed_features(runs[k].ids.astype(np.int64), runs[k].shapes.astype(np.int64),
                                            vocab_size, opt.bits) for k in order])
    labels = {"case": np.concatenate([runs[k].cases for k in order]).astype(np.int64),
              "punct": np.concatenate([runs[k].puncts for k in order]).astype(np.int64)}
    width = feats.shape[1]
    x = sp.csr_matrix((np.ones(feats.size), feats.ravel(), np.arange(0, feats.size + 1, width)),
                      shape=(len(feats), 1 << opt.bits))
    del feats
    arrays = {"lin_bits": np.array(opt.bits, dtype=np.int16)}
    for task, n_classes in (("case", len(CASES)), ("punct", len(PUNCTS))):
        clf = SGDClassifier(loss="log_loss", alpha=opt.alpha, max_iter=opt.epochs, tol=None, random_state=opt.seed)
        clf.fit(x, labels[task])
        w = np.zeros((1 << opt.bits, n_classes), dtype=np.float64)
        b = np.full(n_classes, -30.0)  # a class never seen in training is never chosen
        classes = clf.classes_.astype(np.int64)
        w[:, classes] = clf.coef_.T if len(classes) > 2 else np.stack([-clf.coef_[0], clf.coef_[0]], axis=1) / 2
        b[classes] = clf.intercept_ if len(classes) > 2 else np.array([-clf.intercept_[0], clf.intercept_[0]]) / 2
        arrays[f"lin_{task}_q"], arrays[f"lin_{task}_scale"] = _quantise(w)
        arrays[f"lin_{task}_b"] = b.astype(np.float32)
        if progress:
            progress(task, time.perf_counter() - t0)
    return Trained(arrays=arrays, steps=opt.epochs, seconds=time.perf_counter() - t0)


def save_model(arrays: dict[str, np.ndarray], path: Path, *, mixed: dict[str, str], meta: dict[str, str],
               punct_bias: Sequence[float] = (0.0, 0.0, 0.0, 0.0)) -> Path:
    """Write the array file (compressed): weights, the mixed-case lexicon, the punctuation bias, metadata."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = sorted(mixed)
    out = dict(arrays) | {
        "mixed_keys": np.array(keys if keys else [""]),
        "mixed_values": np.array([mixed[k] for k in keys] if keys else [""]),
        "punct_bias": np.array(punct_bias, dtype=np.float32),
    } | {f"meta_{k}": np.array(str(v)) for k, v in meta.items()}
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **out)
    tmp.replace(path)
    return path
