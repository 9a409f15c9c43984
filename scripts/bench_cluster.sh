#!/usr/bin/env bash
# Throughput against Dask worker count (issue 32, docs/operations.md "Scale-out"): for each N in $WORKERS,
# a fresh `dask scheduler` and N `dask worker` processes on 127.0.0.1, then `hotline run SRC --dask-address`
# into a fresh DuckDB file (the one writer), run twice: cold (the workers load their models) and warm
# (a second fresh file, the models already loaded). Prints wall seconds, calls/min, the writer's seconds
# per call (stage 'load') and `uptime` before and after each run.
# Usage: PYTHONPATH=$PWD nice -n 10 bash scripts/bench_cluster.sh [SRC=samples]   (WORKERS="1 2", PASSES="cold warm")
set -euo pipefail
SRC=${1:-samples}
OUT=${OUT:-var/bench-cluster}
BIN=${BIN:-.venv/bin}
export PYTHONPATH=${PYTHONPATH:-$PWD} HOTLINE_CPU_THREADS=${HOTLINE_CPU_THREADS:-1} PYANNOTE_METRICS_ENABLED=0 \
  HF_HUB_OFFLINE=1 DASK_DISTRIBUTED__WORKER__MEMORY__SPILL=False DASK_DISTRIBUTED__WORKER__MEMORY__TARGET=False \
  PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=${PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS:-600}
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT  # the scheduler and workers end with the script, even on an error
for N in ${WORKERS:-1 2}; do
  dir=$OUT/$N; rm -rf "$dir"; mkdir -p "$dir"
  "$BIN/dask" scheduler --host 127.0.0.1 --port 0 --dashboard-address 127.0.0.1:0 \
    --scheduler-file "$dir/scheduler.json" >"$dir/scheduler.log" 2>&1 & pids=($!)
  while [ ! -s "$dir/scheduler.json" ]; do sleep 0.2; done
  for i in $(seq "$N"); do
    "$BIN/dask" worker --scheduler-file "$dir/scheduler.json" --host 127.0.0.1 --nthreads 1 --no-nanny \
      --no-dashboard --local-directory "$dir/w$i" >"$dir/worker-$i.log" 2>&1 & pids+=($!)
  done
  addr=$("$BIN/python" -c "import json,sys; print(json.load(open(sys.argv[1]))['address'])" "$dir/scheduler.json")
  "$BIN/python" -c "from distributed import Client; import sys; Client(sys.argv[1]).wait_for_workers(int(sys.argv[2]), timeout=300)" "$addr" "$N"
  for pass in ${PASSES:-cold warm}; do
    echo "workers=$N pass=$pass before: $(uptime)"
    "$BIN/python" -m pipeline.cli run "$SRC" --dask-address "$addr" --db "$dir/$pass.duckdb" | tail -1
    echo "workers=$N pass=$pass after: $(uptime)"
    "$BIN/python" -c "import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=True); print('writer (load) s per call: mean %.3f max %.3f over %d calls' % c.execute(\"SELECT avg(seconds), max(seconds), count(*) FROM stage_timings WHERE stage='load'\").fetchone())" "$dir/$pass.duckdb"
  done
  kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
done
