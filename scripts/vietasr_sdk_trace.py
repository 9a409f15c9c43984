"""Trace what viet-asr's SDK feeds its graph and its beam search (the evidence behind models/vietasr_ctc.py).

Run under gdb (the SDK's C++ symbols are exported, so breakpoints take their names):

    gdb -q -batch -x scripts/vietasr_sdk_trace.py --args .venv/bin/python -c \
        "import numpy as np, soundfile as sf, vietasr; x, sr = sf.read('tests/data/short_vi.wav', dtype='int16'); \
         print(vietasr.Pipeline.new().add('vietasr').build().transcribe(x, sample_rate=float(sr)).text)"

Writes under var/sdk-trace/: ``options.txt`` (FbankOptions, CtcEndpointConfig and
CtcBeamSearchConfig as the SDK builds them), ``frames.f32`` (each chunk of log-mel frames
the SDK pops for the encoder, 80 floats per frame; gdb may stop twice per call, so chunks
can appear twice) and ``logp.f32`` (each frame of log-probabilities handed to
``CtcBeamSearch::Step``, 4,968 floats per frame, also possibly twice). Compare with
``models.vietasr_ctc.features`` / ``VietAsrCtc.posteriors`` on the same int16 input.
Layouts read from viet-asr 0.1.0.dev11: ``FeaturePipeline`` keeps its frames in a
``std::vector<float>`` at +0x78/+0x80 and its dimension at +4.
"""
import os
import struct

import gdb  # noqa: F401 - only inside gdb

OUT = os.path.join(os.getcwd(), "var", "sdk-trace")
os.makedirs(OUT, exist_ok=True)
frames = open(os.path.join(OUT, "frames.f32"), "wb")
logp = open(os.path.join(OUT, "logp.f32"), "wb")
options = open(os.path.join(OUT, "options.txt"), "w")


def _regs():
    f = gdb.selected_frame()
    return {r: int(f.read_register(r)) for r in ("rdi", "rsi", "rdx")}


def _mem(addr, n):
    return bytes(gdb.selected_inferior().read_memory(addr, n))


class Options(gdb.Breakpoint):
    def __init__(self, spec, fmt):
        super().__init__(spec)
        self.fmt = fmt

    def stop(self):
        r = _regs()
        ptr = r["rsi"] if "Step" not in self.location else r["rdi"]
        options.write(f"{self.location}: {struct.unpack_from(self.fmt, _mem(ptr, 64))}\n")
        return False


class PopFrames(gdb.Breakpoint):
    def stop(self):
        r = _regs()
        this, n = r["rsi"], r["rdx"]
        begin, end = struct.unpack("QQ", _mem(this + 0x78, 16))
        dim = struct.unpack("i", _mem(this + 4, 4))[0]
        k = min(n, (end - begin) // 4 // dim)
        if k:
            frames.write(_mem(begin, 4 * k * dim))
        return False


class Step(gdb.Breakpoint):
    def stop(self):
        r = _regs()
        logp.write(_mem(r["rsi"], 4 * (r["rdx"] & 0xFFFFFFFF)))
        return False


gdb.execute("set breakpoint pending on")
Options("vietasr::FeaturePipeline::FeaturePipeline", "iiiifff")  # rate, bins, frame ms, shift ms, preemph, low, high
Options("vietasr::CtcEndpoint::CtcEndpoint", "iiif")
PopFrames("vietasr::FeaturePipeline::PopFrames")
Step("vietasr::CtcBeamSearch::Step")
gdb.execute("run")
for fh in (frames, logp, options):
    fh.close()
