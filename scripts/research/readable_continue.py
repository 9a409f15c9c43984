"""Continue training the shipped case and punctuation model from its own weights (how the shipped
readable.npz got its last 120 steps; docs/asr.md, "Readable text").

    PYTHONPATH=$PWD .venv/bin/python scripts/research/readable_continue.py STEPS OUT.npz PREP.pkl START.npz

PREP.pkl: a pickled ``pipeline.eval.readable.prepare_training`` result of the licence-clear files
(train part); START.npz: the model to continue (``hotline text train --max-steps 300`` made it).
The punctuation bias is chosen again on the development part afterwards.
"""
import math
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from models.readable_training import TrainOptions, _net, _batches, _tensors, _export, save_model
from models.readable_text import CASES, PUNCTS, load_readable_model
from pipeline.eval import readable as r
steps = int(sys.argv[1]); out = Path(sys.argv[2])
prep = pickle.loads(Path(sys.argv[3]).read_bytes())
opt = TrainOptions(threads=2)
torch.manual_seed(1); torch.set_num_threads(2)
net = _net(len(prep.vocab), opt)
with np.load(sys.argv[4]) as a:
    A = {k: a[k] for k in a.files}
with torch.no_grad():
    net.emb.weight.copy_(torch.from_numpy(A["emb_q"].astype(np.float32) * A["emb_scale"][:, None]))
    net.shape_emb.weight.copy_(torch.from_numpy(A["shape_emb"].astype(np.float32)))
    net.proj.weight.copy_(torch.from_numpy(A["proj_w"].astype(np.float32).T)); net.proj.bias.copy_(torch.from_numpy(A["proj_b"].astype(np.float32)))
    for k, (conv, norm) in enumerate(zip(net.convs, net.norms)):
        conv.weight.copy_(torch.from_numpy(A[f"conv{k}_w"].astype(np.float32).transpose(2, 1, 0))); conv.bias.copy_(torch.from_numpy(A[f"conv{k}_b"].astype(np.float32)))
        norm.weight.copy_(torch.from_numpy(A[f"norm{k}_g"].astype(np.float32))); norm.bias.copy_(torch.from_numpy(A[f"norm{k}_b"].astype(np.float32)))
    net.case.weight.copy_(torch.from_numpy(A["case_w"].astype(np.float32).T)); net.case.bias.copy_(torch.from_numpy(A["case_b"].astype(np.float32)))
    net.punct.weight.copy_(torch.from_numpy(A["punct_w"].astype(np.float32).T)); net.punct.bias.copy_(torch.from_numpy(A["punct_b"].astype(np.float32)))
optim = torch.optim.AdamW(net.parameters(), lr=1.2e-3, weight_decay=0.01)
sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda s: 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))))
loss_fn = nn.CrossEntropyLoss(ignore_index=-100)
rng = np.random.default_rng(7); net.train(); t0 = time.time(); step = 0; smooth = None
for batch in _batches(prep.runs, opt.batch_tokens, rng):
    ids, shapes, mask, cases, puncts = _tensors(prep.runs, batch)
    c, p = net(ids, shapes, mask)
    loss = loss_fn(c.reshape(-1, len(CASES)), cases.reshape(-1)) + loss_fn(p.reshape(-1, len(PUNCTS)), puncts.reshape(-1))
    optim.zero_grad(); loss.backward(); nn.utils.clip_grad_norm_(net.parameters(), 1.0); optim.step(); sched.step()
    step += 1; v = float(loss.detach()); smooth = v if smooth is None else 0.95 * smooth + 0.05 * v
    if step % 10 == 0: print(f"step {step}/{steps} loss {smooth:.4f} {time.time()-t0:.0f}s", flush=True)
    if step >= steps: break
net.eval()
meta = {k[5:]: str(A[k]) for k in A if k.startswith("meta_")}
meta["steps"] = str(300 + step); meta["options"] = meta.get("options", "") + f"; continued {step} steps at lr 1.2e-3 cosine, seed 7"
mixed = dict(zip(A["mixed_keys"].tolist(), A["mixed_values"].tolist()))
path = save_model(_export(net, prep.vocab, opt), out, mixed=mixed, meta=meta)
model = load_readable_model(path)
dev = [run for name in r.CLEAR_FILES for run in r.test_runs(Path("../shared/lm-corpus") / name, "dev", max_sentences=2000)]
bias = r.tune_bias(model, dev); r.set_bias(path, bias)
print("done", path, bias, time.time() - t0, flush=True)
