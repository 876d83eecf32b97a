#!/usr/bin/env bash
# `make fuzz`: every target of fuzz/ under libFuzzer (cargo fuzz, on a nightly toolchain)
# for FUZZ_RUNS inputs each, then a table of how many ran. Not part of `make test`, which
# runs a bounded pass of the same targets on stable (fuzz/src/tests.rs).
#   FUZZ_RUNS (1000000); FUZZ_TARGETS (all): the targets to run, space-separated.
# Corpus, crashes and logs go to .local/fuzz/; seeds are read from fuzz/seeds/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${FUZZ_RUNS:-1000000}"
out=.local/fuzz

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
targets="${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}"

# The release profile is tuned for Lambda (fat LTO, small, stripped); a fuzz build wants
# a quick build, speed and symbols.
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_STRIP=false
# Rust is memory-safe; panics are what is looked for, so no sanitizer slows the runs.
fuzz=(cargo +nightly fuzz run --features libfuzzer --sanitizer none --release --debug-assertions --codegen-units 16)

mkdir -p "$out"
summary="$out/summary.txt"
: >"$summary"
for target in $targets; do
  mkdir -p "$out/corpus/$target" "$out/artifacts/$target"
  echo "fuzzing $target for $runs inputs…" >&2
  started=$SECONDS
  "${fuzz[@]}" "$target" "$out/corpus/$target" "fuzz/seeds/$target" -- \
    -runs="$runs" -max_len=8192 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$target/" >"$out/$target.log" 2>&1 || {
    tail -n 40 "$out/$target.log" >&2
    echo "fuzz: $target failed; the input is in $out/artifacts/$target/" >&2
    exit 1
  }
  executed="$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$target.log")"
  printf '%-14s %10s inputs in %5ss, corpus %s\n' "$target" "$executed" "$((SECONDS - started))" \
    "$(find "$out/corpus/$target" -type f | wc -l)" | tee -a "$summary"
done
