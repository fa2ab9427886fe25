#!/usr/bin/env bash
# What edge functions cost the gateway (issue 4's goals), in one run:
#   1. no-op CloudFront Function on viewer-request: req/s >= 0.90x the gateway without it
#   2. header-rewrite CloudFront Function: req/s >= 1.00x nginx running the same rewrite in njs
#   3. no-op Lambda@Edge (Node) handler on viewer-request: p50 at concurrency 1 <= 50 us added
#   4. native builtins (ip-allowlist, rewrite directory_index, security-headers): req/s >= 0.95x
#
# Starts the anchors' origin (nginx on 127.0.0.1:9001) unless ANCHORS_RUNNING=1, then, each in
# front of it with one worker, doing bench/edgeguard-bench.yaml's job (X-Origin-Verify) plus:
#   plain   (9031)  nothing more
#   noop    (9032)  viewer-request: bench/functions/noop.js         (CloudFront Functions 2.0)
#   rewrite (9033)  viewer-request: bench/functions/rewrite.js      (two headers, a lower-cased
#                   query value, /v2 prefixed to the uri)
#   njs     (9034)  nginx + njs, bench/functions/nginx-njs.conf: the same rewrite, same origin
#   lambda  (9035)  viewer-request: bench/functions/noop-lambda.js  (Node, exports.handler)
#   native  (9036)  viewer-request: ip-allowlist (127.0.0.0/8 among others), origin-request:
#                   rewrite directory_index, viewer-response: security-headers
# All get GET /products/shoes/?id=42&lang=EN-GB&sort=price. Each round runs
#   throughput: wrk -t1 -c$CONNECTIONS -d$DURATION over plain noop rewrite njs native
#               (the starting target rotates each round)
#   latency:    wrk -t1 -c1 -d$DURATION --latency over plain and lambda (p50)
# and the summary gives medians over the rounds, the four figures, their goals, PASS/MISS.
# Without libnginx-mod-http-js, figure 2 is reported as SKIP. Exits 1 when a wrk run saw
# socket errors or non-2xx answers.
# Environment: ROUNDS=5 DURATION=5s CONNECTIONS=64 EDGEGUARD_BIN=build/edgeguard ANCHORS_RUNNING=0
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-64}
here=$(pwd)/bench/functions
. bench/pair.sh

declare -A port=([plain]=9031 [noop]=9032 [rewrite]=9033 [njs]=9034 [lambda]=9035 [native]=9036)
declare -A fns=(
  [noop]="{viewer-request: {file: $here/noop.js}}"
  [rewrite]="{viewer-request: {file: $here/rewrite.js}}"
  [lambda]="{viewer-request: {file: $here/noop-lambda.js}}"
  [native]="{viewer-request: {builtin: ip-allowlist, cidrs: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 127.0.0.0/8, \"2001:db8::/32\"]}, origin-request: {builtin: rewrite, directory_index: true}, viewer-response: {builtin: security-headers}}"
)
path="/products/shoes/?id=42&lang=EN-GB&sort=price"
ua=(-H "User-Agent: Mozilla/5.0 (X11; Linux x86_64) bench" -H "Accept: text/html")

have_njs=0
[ -f /usr/lib/nginx/modules/ngx_http_js_module.so ] && have_njs=1
edgeguards=(plain noop rewrite lambda native)
throughput=(plain noop rewrite native)
[ $have_njs = 1 ] && throughput=(plain noop rewrite njs native)

start_origin
for n in "${edgeguards[@]}"; do
  sed -e "s#127\.0\.0\.1:9010#127.0.0.1:${port[$n]}#" \
      -e "s#origin_request_policy: AllViewer}#origin_request_policy: AllViewer${fns[$n]:+, functions: ${fns[$n]}}}#" \
      bench/edgeguard-bench.yaml >"$tmp/$n.yaml"
  [ -z "${fns[$n]:-}" ] || grep -q functions: "$tmp/$n.yaml" || { echo "functions.sh: could not derive the $n config" >&2; exit 1; }
  start_edgeguard $n
done
if [ $have_njs = 1 ]; then
  sed -e "s#__DIR__#$here#g" -e "s#__RUN__#$tmp#g" -e "s#__PORT__#${port[njs]}#g" "$here/nginx-njs.conf" >"$tmp/njs.conf"
  nginx -c "$tmp/njs.conf" >"$tmp/njs.log" 2>&1 & pids+=($!)
fi
declare -A url
for n in "${!port[@]}"; do url[$n]="http://127.0.0.1:${port[$n]}$path"; done
for n in "${edgeguards[@]}" $([ $have_njs = 1 ] && echo njs); do wait_for_200 $n "${url[$n]}" "${ua[@]}"; done
curl -s -D - -o /dev/null "${ua[@]}" "${url[native]}" | grep -qi '^strict-transport-security:' ||
  { echo "functions.sh: native answers without the security headers" >&2; exit 1; }

echo "== edge functions cost  $(date -u +%Y-%m-%dT%H:%M:%SZ)  load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   $EDGEGUARD_BIN, ${ROUNDS} rounds of ${DURATION}, wrk -t1 -c$CONNECTIONS (req/s) and -c1 (p50)"
for n in "${throughput[@]}"; do wrk -t1 -c"$CONNECTIONS" -d2s "${ua[@]}" "${url[$n]}" >/dev/null 2>&1; done
for n in plain lambda; do wrk -t1 -c1 -d2s "${ua[@]}" "${url[$n]}" >/dev/null 2>&1; done

errors=0
# wrk's socket errors and non-2xx/3xx answers, summed
wrk_errors() { awk '/Socket errors/ {gsub(/[^0-9 ]/," "); for (i=1;i<=NF;i++) s+=$i} /Non-2xx/ {s+=$NF} END {print s+0}'; }
declare -A rps p50
nt=${#throughput[@]}
for r in $(seq "$ROUNDS"); do
  line="   round $r:"
  for i in $(seq 0 $((nt - 1))); do
    n=${throughput[$(( (i + r - 1) % nt ))]}
    out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "${ua[@]}" "${url[$n]}")
    e=$(echo "$out" | wrk_errors); errors=$((errors + e))
    [ "$e" = 0 ] || echo "   $n: $e errors"
    rps[$n]+="$(echo "$out" | awk '/Requests\/sec/ {print $2}') "
    line+=" $n $(echo ${rps[$n]} | awk '{printf "%.0f", $NF}')"
  done
  line+=" req/s; p50 at c1:"
  order=(plain lambda); [ $((r % 2)) = 0 ] && order=(lambda plain)
  for n in "${order[@]}"; do
    out=$(wrk -t1 -c1 -d"$DURATION" --latency "${ua[@]}" "${url[$n]}")
    e=$(echo "$out" | wrk_errors); errors=$((errors + e))
    [ "$e" = 0 ] || echo "   $n (c1): $e errors"
    p50[$n]+="$(echo "$out" | wrk_latency 50) "
    line+=" $n $(echo ${p50[$n]} | awk '{print $NF}') us"
  done
  echo "$line"
done

declare -A med
for n in "${throughput[@]}"; do
  med[$n]=$(echo "${rps[$n]}" | median)
  printf '   %-8s median %8.0f req/s   min..max %s\n' $n "${med[$n]}" \
    "$(echo ${rps[$n]} | tr ' ' '\n' | sort -g | awk 'NR==1 {lo=$1} {hi=$1} END {printf "%.0f..%.0f", lo, hi}')"
done
for n in plain lambda; do
  med[p50_$n]=$(echo "${p50[$n]}" | median)
  printf '   %-8s median p50 at c1 %s us   min..max %s\n' $n "${med[p50_$n]}" \
    "$(echo ${p50[$n]} | tr ' ' '\n' | sort -g | awk 'NR==1 {lo=$1} {hi=$1} END {print lo ".." hi}')"
done

# ratio A B GOAL LABEL: A/B against a lower bound
ratio() { awk -v a="$1" -v b="$2" -v g="$3" -v l="$4" 'BEGIN { x = a / b; printf "   %-48s x%.3f    goal >= %.2f   %s\n", l, x, g, (x >= g ? "PASS" : "MISS") }'; }
echo "== summary"
ratio "${med[noop]}" "${med[plain]}" 0.90 "1. no-op CloudFront Function, req/s vs none"
if [ $have_njs = 1 ]; then
  ratio "${med[rewrite]}" "${med[njs]}" 1.00 "2. header-rewrite function, req/s vs nginx+njs"
else
  printf '   %-48s %-9s goal >= 1.00   SKIP (libnginx-mod-http-js not installed)\n' "2. header-rewrite function, req/s vs nginx+njs" -
fi
awk -v a="${med[p50_lambda]}" -v b="${med[p50_plain]}" -v l="3. no-op Lambda@Edge (Node), added p50 at c1" \
  'BEGIN { d = a - b; printf "   %-48s %+.1f us  goal <= 50 us  %s\n", l, d, (d <= 50 ? "PASS" : "MISS") }'
ratio "${med[native]}" "${med[plain]}" 0.95 "4. native builtins, req/s vs none"
if [ "$errors" != 0 ]; then echo "   $errors requests failed (socket errors or non-2xx): the figures are not comparable"; exit 1; fi
