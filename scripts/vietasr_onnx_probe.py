"""Probe: decode asr-dev clips with viet-asr's embedded ONNX graph directly and compare with the SDK (docs/asr.md).

Run: PYTHONPATH=. .venv/bin/python scripts/vietasr_onnx_probe.py  (reads /work/shared/eval/asr-dev in place)
"""
import numpy as np, csv, sys
import torch, torchaudio.compliance.kaldi as K
from models.viet_asr import find_embedded_model, library_path, MODEL_BYTES
import vietasr
from vietasr.ffi import native
native.lib.vietasr_set_log_level(3)
p = vietasr.Pipeline.new().add('vietasr').build()
at,_=find_embedded_model(); lib=library_path().read_bytes()
import onnxruntime as ort
so=ort.SessionOptions(); so.intra_op_num_threads=2
s=ort.InferenceSession(lib[at:at+MODEL_BYTES], so, providers=["CPUExecutionProvider"])
i=lib.find(b"<blank> 0\n"); j=lib.find(b"! 4971\n")
vocab={int(n):t for t,n in (l.rsplit(" ",1) for l in lib[i:j+7].decode().splitlines())}
def dec(x, sr, full_only=False, pad=0):
    w=torch.from_numpy(np.asarray(x,np.float32)*32768).unsqueeze(0)
    feats=K.fbank(w, num_mel_bins=80, frame_length=25, frame_shift=10, dither=0.0, energy_floor=0.0, sample_frequency=sr).numpy()
    T=feats.shape[0]; att=np.zeros((1,12,4,40,224),np.float32); cnn=np.zeros((1,12,448,30),np.float32); outs=[]; off=0
    if pad: feats=np.pad(feats,((0,pad),(0,0)))
    T=feats.shape[0]
    for st in range(0, max(1,T-43+40), 40):
        ch=feats[st:st+43]
        if len(ch)<43:
            if full_only: break
            ch=np.pad(ch,((0,43-len(ch)),(0,0)))
        o,att,cnn=s.run(None,{"chunk":ch[None],"offset":np.array([[off]],np.int64),"att_cache":att,"cnn_cache":cnn}); outs.append(o[0]); off+=10
    ids=np.concatenate(outs).argmax(1); prev=-1; toks=[]
    for k in ids:
        if k!=prev and k!=0: toks.append(vocab[int(k)])
        prev=k
    return "".join(toks).replace("▁"," ").strip()
from pipeline.audio import decode_audio, simulate_telephone
from scipy.signal import resample_poly
rows=list(csv.DictReader(open('/work/shared/eval/asr-dev/manifest.tsv'),delimiter='\t'))
import collections; same=collections.Counter(); n=0
for r in rows[::3]:
    a=decode_audio('/work/shared/eval/asr-dev/'+r['file']).mono()
    sdk16=" ".join(p.transcribe((np.clip(a,-1,1)*32767).astype(np.int16), sample_rate=16000).text.split())
    n+=1
    for name,kw in [("pad",{}),("full",{"full_only":True})]:
        o=dec(a,16000,**kw); same[name]+=o==sdk16
        if o!=sdk16: print(name, "SDK:", sdk16, "| ONNX:", o)
print(n, same)
