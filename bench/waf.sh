#!/usr/bin/env bash
# What a typical web ACL costs the gateway (issue 3's goals: throughput with a 20-rule ACL
# >= 0.8x the same gateway without one; added latency at p50 <= 20 us), in one run.
#
# The ACL (bench/waf/typical-acl.json): IPv4/IPv6 allow and deny sets of 2,500 prefixes each,
# a rate-based rule, byte and regex matches on path, query and headers, SQLi and XSS on query
# arguments and body. Every request passes every rule (the default action answers), the
# worst case for evaluation cost.
#
# Starts the anchors' origin (nginx on 127.0.0.1:9001) unless ANCHORS_RUNNING=1, two edgeguard
# instances, one worker each: plain (9021) and with the ACL (9022); then alternates
#   throughput: wrk -t1 -c64 -d$DURATION   (median req/s, ratio acl/plain)
#   latency:    wrk -t1 -c1  -d$DURATION   (median p50; the difference is the ACL's added time)
# Environment: ROUNDS=5 DURATION=5s EDGEGUARD_BIN=build/edgeguard ANCHORS_RUNNING=0
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
here=$(pwd)/bench/waf
. bench/pair.sh

start_origin
sed 's#127\.0\.0\.1:9010#127.0.0.1:9021#' bench/edgeguard-bench.yaml >"$tmp/plain.yaml"
{ sed 's#127\.0\.0\.1:9010#127.0.0.1:9022#' bench/edgeguard-bench.yaml
  echo "web_acl:"
  echo "  file: $here/typical-acl.json"
  echo "  ip_sets: [$here/allow-v4.json, $here/allow-v6.json, $here/deny-v4.json, $here/deny-v6.json]"
} >"$tmp/acl.yaml"
for n in plain acl; do start_edgeguard $n; done
declare -A url=([plain]="http://127.0.0.1:9021/api/v1/items?id=42&sort=name" [acl]="http://127.0.0.1:9022/api/v1/items?id=42&sort=name")
for n in plain acl; do wait_for_200 $n "${url[$n]}" -A bench; done
ua=(-H "User-Agent: Mozilla/5.0 (X11; Linux x86_64) bench" -H "Accept: text/html")
echo "== web ACL cost  $(date -u +%Y-%m-%dT%H:%M:%SZ)  load $(cut -d' ' -f1-3 /proc/loadavg)"
for n in plain acl; do wrk -t1 -c64 -d2s "${ua[@]}" "${url[$n]}" >/dev/null 2>&1; done
declare -A rps p50
for r in $(seq "$ROUNDS"); do
  for n in plain acl; do
    out=$(wrk -t1 -c64 -d"$DURATION" "${ua[@]}" "${url[$n]}")
    rps[$n]+="$(echo "$out" | awk '/Requests\/sec/ {print $2}') "
    out=$(wrk -t1 -c1 -d"$DURATION" --latency "${ua[@]}" "${url[$n]}")
    p50[$n]+="$(echo "$out" | wrk_latency 50) "
  done
  echo "   round $r: plain $(echo ${rps[plain]} | awk '{print $NF}') req/s, acl $(echo ${rps[acl]} | awk '{print $NF}') req/s; p50 at c1: plain $(echo ${p50[plain]} | awk '{print $NF}') us, acl $(echo ${p50[acl]} | awk '{print $NF}') us"
done
mp=$(echo "${rps[plain]}" | median); ma=$(echo "${rps[acl]}" | median)
lp=$(echo "${p50[plain]}" | median); la=$(echo "${p50[acl]}" | median)
echo "   plain  median $mp req/s, p50 (c1) $lp us"
echo "   acl    median $ma req/s, p50 (c1) $la us"
awk -v a="$ma" -v b="$mp" 'BEGIN { printf "   acl/plain req/s x%.2f (goal >= 0.80)\n", a / b }'
awk -v a="$la" -v b="$lp" 'BEGIN { printf "   added p50 latency %.1f us (goal <= 20 us)\n", a - b }'
