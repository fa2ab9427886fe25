#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time from its seed corpus.
# Usage: fuzz/run.sh BUILD_DIR SECONDS_PER_TARGET
# New inputs go to a scratch copy, so the committed seed corpus stays small and stable.
# A fuzz/<target>.dict next to the sources is passed as the target's dictionary.
set -euo pipefail
build=${1:?build dir}
seconds=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for bin in "$build"/fuzz/*_fuzz; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  work=$(mktemp -d)
  [ -d "$here/corpus/$name" ] && cp -r "$here/corpus/$name/." "$work/"
  dict=()
  [ -f "$here/$name.dict" ] && dict=(-dict="$here/$name.dict")
  echo "fuzz: $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
        "${dict[@]}" -artifact_prefix="$work/crash-" "$work" >"$work.log" 2>&1; then
    echo "fuzz: $name FAILED; the last lines of its output:" >&2
    tail -40 "$work.log" >&2
    status=1
  else
    grep -E '^#[0-9]+.*DONE|Done [0-9]+ runs' "$work.log" | tail -1 || true
  fi
  rm -rf "$work" "$work.log"
done
exit $status
