# Fresh machine: `make demo` sets everything up and runs the main job on samples/;
# `make test` runs the test suite. Everything lives in .venv/ at the repo root.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test test-fast bench clean

setup: $(STAMP)

# torch first, pinned to the CPU build on this machine's disk: a bare `torch`
# requirement would pull a multi-GB CUDA build. constraints.txt keeps it there.
$(STAMP): pyproject.toml constraints.txt scripts/install_audio_stack.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	bash scripts/install_audio_stack.sh $(BIN)/python
	touch $(STAMP)

demo: setup
	$(BIN)/hotline run samples --db var/demo.duckdb

# Two test processes (pytest-xdist), each test file kept in one: the suite is mostly single-threaded
# Python, so a 2-core machine runs it in about half the time. TEST_JOBS=0 runs it in one process.
TEST_JOBS ?= 2
test: setup
	$(BIN)/python -m pytest -q $(if $(filter-out 0,$(TEST_JOBS)),-n $(TEST_JOBS) --dist loadfile)

test-fast: setup
	$(BIN)/python -m pytest -q tests/unit

# Whole pipeline on the samples (per-stage seconds, RTF, peak memory, ASR stage vs the bare
# recogniser library), then the transcription stage alone on a 10-minute 8 kHz phone call
# built from real speech when ../shared/eval is there (read in place, never copied).
EVAL ?= ../shared/eval/asr-dev/manifest.tsv
bench: setup
	$(BIN)/hotline bench samples
	$(BIN)/python scripts/bench_asr.py --minutes 10 $(if $(wildcard $(EVAL)),--manifest $(EVAL))

clean:
	rm -rf var .pytest_cache

# Fault and bad-input suite (issue 13): hostile files and call-log rows, SIGKILL at each
# stage, fuzzed names and rows, a hostile SFTP server, purge leftovers (issue 25). The tests count
# what they tried, and tests/support/stores.py counts the test callers' numbers in every store;
# the last line printed is inputs_tried=N faults_survived=N rows_lost=0 rows_duplicated=0
# clear_text_numbers=0 [warehouse=0 logs=0 prefect_db=0 result_cache=0 watermarks=0 staging=0 …].
FAULT_TESTS ?= tests/unit/test_hostile_input.py tests/integration/test_hostile_batch.py tests/integration/test_kill_points.py \
	tests/integration/test_server_reaper.py tests/unit/test_call_log.py tests/integration/test_bad_input_and_busy_db.py \
	tests/unit/test_hostile_web_input.py tests/unit/test_intake_faults.py tests/unit/test_purge_leftovers.py \
	tests/integration/test_sftp_hostile.py tests/integration/test_confidential_stores.py \
	tests/unit/test_unit_fence.py tests/unit/test_export_writer.py tests/unit/test_login_throttle.py \
	tests/unit/test_no_500.py tests/unit/test_role_access.py
.PHONY: faults
faults: setup
	@mkdir -p var/faults && rm -f var/faults/tally.jsonl
	HOTLINE_FAULT_TALLY=$(CURDIR)/var/faults/tally.jsonl $(BIN)/python -m pytest -q $(FAULT_TESTS); \
	  rc=$$?; $(BIN)/python -m tests.support.fault_figures var/faults/tally.jsonl || rc=1; exit $$rc

# A real Dask cluster (issue 32): `dask scheduler` + 2 `dask worker` processes on 127.0.0.1, the samples
# through them into DuckDB, one worker SIGKILLed mid-call (retried elsewhere, nothing lost or duplicated),
# compared with a single-process run. Several minutes on 2 shared cores, so not in `make test`.
# `make bench-cluster`: throughput with 1 and 2 workers and the writer's seconds per call (docs/operations.md).
.PHONY: cluster-test bench-cluster
cluster-test: setup
	HOTLINE_CLUSTER_TEST=1 $(BIN)/python -m pytest -q -s tests/integration/test_dask_cluster.py

bench-cluster: setup
	BIN=$(BIN) bash scripts/bench_cluster.sh samples
