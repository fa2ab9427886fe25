#!/usr/bin/env bash
# What origin authentication costs the gateway (issue 5's goal: throughput with SigV4 signing
# on an origin >= 0.9x the same gateway without it), everything on loopback, one worker each.
#
# Starts the anchors' origin (nginx on 127.0.0.1:9001, ../shared/bench/anchors/origin-nginx.conf)
# unless ANCHORS_RUNNING=1, then two edgeguard instances doing the same proxy job:
#   plain  (9011): bench/edgeguard-bench.yaml (adds X-Origin-Verify)
#   signed (9012): the same plus `sign: {sigv4: {service: lambda, region: eu-west-1}}` with
#                  static test credentials from a credentials file (the origin does not check)
# and alternates `wrk -t1 -c64 -d$DURATION --latency` over both for ROUNDS rounds, printing the
# median requests/s and p99 of each and the ratio signed/plain.
# Environment: ROUNDS=5 DURATION=5s CONNECTIONS=64 EDGEGUARD_BIN=build/edgeguard ANCHORS_RUNNING=0
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-64}
. bench/pair.sh

start_origin
printf '[bench]\naws_access_key_id = AKIDBENCHEXAMPLE\naws_secret_access_key = bench/secret/EXAMPLEKEY\n' >"$tmp/credentials"
sed 's#127\.0\.0\.1:9010#127.0.0.1:9011#' bench/edgeguard-bench.yaml >"$tmp/plain.yaml"
sed -e 's#127\.0\.0\.1:9010#127.0.0.1:9012#' \
    -e "s#custom_headers: {X-Origin-Verify: s3cr3t}}#custom_headers: {X-Origin-Verify: s3cr3t}, sign: {sigv4: {service: lambda, region: eu-west-1, profile: bench, credentials_file: \"$tmp/credentials\"}}}#" \
    bench/edgeguard-bench.yaml >"$tmp/signed.yaml"
grep -q sigv4 "$tmp/signed.yaml" || { echo "origin_auth.sh: could not derive the signed config" >&2; exit 1; }
for n in plain signed; do start_edgeguard $n; done
declare -A url=([plain]=http://127.0.0.1:9011/ [signed]=http://127.0.0.1:9012/)
for n in plain signed; do wait_for_200 $n "${url[$n]}"; done
echo "== origin authentication cost  $(date -u +%Y-%m-%dT%H:%M:%SZ)  load $(cut -d' ' -f1-3 /proc/loadavg)"
for n in plain signed; do wrk -t1 -c"$CONNECTIONS" -d2s "${url[$n]}" >/dev/null 2>&1; done
declare -A rps p99
for r in $(seq "$ROUNDS"); do
  for n in plain signed; do
    out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "${url[$n]}")
    rps[$n]+="$(echo "$out" | awk '/Requests\/sec/ {print $2}') "
    p99[$n]+="$(echo "$out" | wrk_latency 99 | awk '{print $1 / 1000}') "
  done
  echo "   round $r: plain $(echo ${rps[plain]} | awk '{print $NF}') req/s, signed $(echo ${rps[signed]} | awk '{print $NF}') req/s"
done
mp=$(echo "${rps[plain]}" | median); ms=$(echo "${rps[signed]}" | median)
echo "   plain   median $mp req/s, p99 $(echo "${p99[plain]}" | median) ms"
echo "   signed  median $ms req/s, p99 $(echo "${p99[signed]}" | median) ms"
awk -v a="$ms" -v b="$mp" 'BEGIN { printf "   signed/plain req/s x%.2f (goal >= 0.90)\n", a / b }'
