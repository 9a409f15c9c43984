#!/bin/bash
# The asr-dev measurements of docs/asr.md: five `hotline eval asr` runs, rows under var/eval/.
# Usage: scripts/eval_asr_all.sh [MANIFEST]   (default /work/shared/eval/asr-dev/manifest.tsv)
set -e
cd "$(dirname "$0")/.."
M=${1:-/work/shared/eval/asr-dev/manifest.tsv}
mkdir -p var/eval
run() { name=$1; shift; echo "== $name"; nice -n 10 env PYTHONPATH=$PWD .venv/bin/python -m pipeline.cli eval asr "$M" -q --out var/eval/$name.tsv "$@"; }
run vietasr-wb --asr-model viet-asr
run vietasr-tel8k --asr-model viet-asr --telephone
run vietasr-tel16k --asr-model viet-asr-16k --telephone
run base-wb --asr-model base
run base-tel --asr-model base --telephone
