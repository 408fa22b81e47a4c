#!/usr/bin/env bash
# test/fuzz/run.sh BUILD SECONDS [JOBS]: run every harness in BUILD/bin (made
# by `make fuzz`) for SECONDS each, JOBS at a time (default: the CPUs), with
# ASan and UBSan, and fail on any crash, leak, timeout or out-of-memory input.
# Each run first replays the seeds and the kept corpus (below), then mutates
# them for the rest of its SECONDS.
#
# Corpus: the seeds in test/fuzz/corpus/<harness>/ are read, never written;
# what libFuzzer adds goes to BUILD/corpus/<harness>/ (kept between runs, so
# coverage grows).  A failing input lands in BUILD/artifacts/; reproduce it
# with BUILD/bin/<harness> BUILD/artifacts/<file>.
#
# Results: one line per harness on stdout and in BUILD/fuzz-stats.txt:
#   harness seconds executions exec/s coverage features corpus status
# Exit status: 0 when every harness ran clean, 1 otherwise.
set -euo pipefail

PROG=fuzz
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
BUILD="${1:-build-fuzz}"
SECONDS_EACH="${2:-16}"
JOBS="${3:-$(nproc 2>/dev/null || echo 2)}"

case "$BUILD" in
/*) ;;
*) BUILD="$ROOT/$BUILD" ;;
esac
[[ "$SECONDS_EACH" =~ ^[0-9]+$ ]] || { echo "$PROG: SECONDS must be a number" >&2; exit 2; }
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || { echo "$PROG: JOBS must be a positive number" >&2; exit 2; }
export GYM_VECTORS_DIR="${GYM_VECTORS_DIR:-$ROOT/test/vectors}"
# libFuzzer handles leaks itself (-detect_leaks=1); these make any report fatal
export ASAN_OPTIONS="${FUZZ_ASAN_OPTIONS:-abort_on_error=0:halt_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

mkdir -p "$BUILD/log" "$BUILD/artifacts" "$BUILD/corpus"
STATS="$BUILD/fuzz-stats.txt"
: >"$STATS.tmp"
failed=0

# final_stat NAME LOG: libFuzzer's final "stat::NAME: N" (0 when absent).
final_stat() {
	local v
	v="$(sed -n "s/^stat::$1: *\([0-9]*\).*/\1/p" "$2" | tail -n 1)"
	printf '%s' "${v:-0}"
}

# last_field NAME LOG: the value after "NAME: " on libFuzzer's last status line.
last_field() {
	local v
	v="$(grep -E '^#[0-9]+' "$2" | tail -n 1 | sed -n "s/.* $1: \([0-9]*\).*/\1/p")"
	printf '%s' "${v:-0}"
}

# run_one BIN: run one harness; its result line goes to log/<t>.stat and, when
# it failed, what to look at to log/<t>.why.  Exit status 1 when it failed.
run_one() {
	local bin="$1" name t seeds work log start rc secs execs rate cov ft corp status a
	local -a args artifacts
	name="${bin##*/}"
	t="${name#fuzz_}"
	seeds="$ROOT/test/fuzz/corpus/$t"
	work="$BUILD/corpus/$t"
	log="$BUILD/log/$t.log"
	mkdir -p "$work"
	rm -f "$BUILD/artifacts/$t-"* "$BUILD/log/$t.stat" "$BUILD/log/$t.why"
	args=(-max_total_time="$SECONDS_EACH" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
		-artifact_prefix="$BUILD/artifacts/$t-" "$work")
	[[ -d "$seeds" ]] && args+=("$seeds")
	start=$(date +%s.%N)
	rc=0
	timeout --kill-after=10 $((SECONDS_EACH + 120)) "$bin" "${args[@]}" >"$log" 2>&1 || rc=$?
	secs="$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')"
	execs="$(final_stat number_of_executed_units "$log")"
	rate="$(final_stat average_exec_per_sec "$log")"
	cov="$(last_field cov "$log")"
	ft="$(last_field ft "$log")"
	corp="$(find "$work" -type f | wc -l)"
	artifacts=("$BUILD/artifacts/$t-"*)
	status=ok
	if ((rc != 0 || ${#artifacts[@]} > 0)); then
		status="FAILED (exit $rc)"
	elif ((execs == 0)); then
		status="FAILED (no executions)"
	fi
	printf '%-14s %7s %12s %9s %8s %9s %7s  %s\n' "$name" "$secs" "$execs" "$rate" "$cov" "$ft" "$corp" "$status" \
		>"$BUILD/log/$t.stat"
	[[ "$status" != ok ]] || return 0
	{
		grep -n -E -A 30 'ERROR: |runtime error:|fuzz property failed|==[0-9]+==' "$log" | head -n 60 ||
			tail -n 40 "$log"
		for a in "${artifacts[@]}"; do
			printf '%s: reproduce with: %s %s\n' "$PROG" "${bin#"$ROOT"/}" "${a#"$ROOT"/}"
		done
	} >"$BUILD/log/$t.why"
	return 1
}

cd "$ROOT"
shopt -s nullglob
harnesses=("$BUILD"/bin/fuzz_*)
if ((${#harnesses[@]} == 0)); then
	echo "$PROG: no harness in $BUILD/bin (run make fuzz)" >&2
	exit 1
fi
# a signal ends the harnesses too (each is bounded by its own timeout anyway)
trap 'kill $(jobs -p) 2>/dev/null; exit 143' TERM
trap 'kill $(jobs -p) 2>/dev/null; exit 130' INT
# JOBS harnesses at a time, each single-threaded; every one still gets its
# SECONDS (a CPU of its own when JOBS is at most the CPUs).
for bin in "${harnesses[@]}"; do
	while (($(jobs -rp | wc -l) >= JOBS)); do
		wait -n || true
	done
	run_one "$bin" &
done
wait || true

printf '%-14s %7s %12s %9s %8s %9s %7s  %s\n' harness seconds executions 'exec/s' coverage features corpus status
for bin in "${harnesses[@]}"; do
	t="${bin##*/fuzz_}"
	if [[ ! -f "$BUILD/log/$t.stat" ]]; then
		printf '%-14s %7s %12s %9s %8s %9s %7s  %s\n' "${bin##*/}" - 0 0 0 0 0 "FAILED (no result)" |
			tee -a "$STATS.tmp"
		failed=1
		continue
	fi
	tee -a "$STATS.tmp" <"$BUILD/log/$t.stat"
	if [[ -f "$BUILD/log/$t.why" ]]; then
		failed=1
		cat "$BUILD/log/$t.why" >&2
	fi
done
mv -f "$STATS.tmp" "$STATS"
if ((failed)); then
	echo "$PROG: a harness failed (logs: ${BUILD#"$ROOT"/}/log/)" >&2
	exit 1
fi
echo "$PROG: every harness ran clean for ${SECONDS_EACH}s, $JOBS at a time (stats: ${STATS#"$ROOT"/})"
