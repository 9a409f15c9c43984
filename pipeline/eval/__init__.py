"""Evaluations: each stage measured on reference data, one module per stage.

- :mod:`pipeline.eval.manifest`: the one reader of evaluation manifests (TSV, paths
  relative to it, bad rows named by file and line), used by every evaluation here;
- :mod:`pipeline.eval.asr`: WER, CER and real-time factor of transcription (``hotline eval asr``);
- :mod:`pipeline.eval.diarization` (+ :mod:`~pipeline.eval.diarization_errors`): DER of the
  diarizer and the role decision (``hotline eval diarization``);
- :mod:`pipeline.eval.topics`: precision/recall/F1 of the topic classifier (``hotline eval topics``,
  ``hotline eval two-issue``);
- :mod:`pipeline.eval.search`: precision and recall of call search (``hotline eval search``);
- :mod:`pipeline.eval.redaction`: span precision and recall of PII redaction (``hotline eval redaction``);
- :mod:`pipeline.eval.places`: precision and recall of place extraction (``hotline eval places``).

The commands in :mod:`pipeline.commands` parse arguments, call one of these and print;
SQL an evaluation needs is in :mod:`pipeline.warehouse.eval_data`.
"""
