#!/usr/bin/env bash
# edgeguard vs nginx vs HAProxy as a reverse proxy doing the same job (proxy to the origin on
# 127.0.0.1:9001, add X-Origin-Verify), everything on loopback, one worker each.
#
#  1. throughput: starts ../shared/bench/anchors/anchors.sh (origin 9001, nginx 9002,
#     HAProxy 9003) and edgeguard (9010, bench/edgeguard-bench.yaml, --workers 1), checks that
#     every target answers 200 with the origin's body, warms each, then alternates
#     `wrk -t1 -c64 -d5s --latency` over the three for ROUNDS rounds and prints the median
#     requests/s and median p99 latency of each, and the ratios edgeguard/nginx, edgeguard/haproxy.
#  2. memory: resident memory of each server holding IDLE_CONNS idle keep-alive connections
#     (bench/idle_conns.py), against extra nginx/HAProxy copies that allow 20000 connections.
#
# Environment (all optional):
#   ROUNDS=5 DURATION=5s THREADS=1 CONNECTIONS=64 WARMUP=2s   wrk settings
#   IDLE_CONNS=10000     connections held open for the memory measure; MEMORY=0 skips it
#   EDGEGUARD_BIN=build/edgeguard
#   EDGEGUARD_URL=http://127.0.0.1:PORT/   measure an already-running server in the edgeguard
#                        slot instead of starting EDGEGUARD_BIN (e.g. point it at nginx's 9002
#                        to test this script); its memory is measured only if EDGEGUARD_PID is set
#   EDGEGUARD_PORT=9010  run edgeguard on another loopback port (from a temp copy of the config)
#   ANCHORS_RUNNING=1    use anchors already listening on 9001-9003 (started by someone else with
#                        anchors.sh) instead of starting them; they are left running
#   ANCHORS=../shared/bench/anchors/anchors.sh   PYTHON=/usr/bin/python3   KEEP_TMP=1
# Exit status: 0 if every target answered correctly and the measures ran, 1 otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
THREADS=${THREADS:-1}
CONNECTIONS=${CONNECTIONS:-64}
WARMUP=${WARMUP:-2s}
IDLE_CONNS=${IDLE_CONNS:-10000}
MEMORY=${MEMORY:-1}
EDGEGUARD_BIN=${EDGEGUARD_BIN:-build/edgeguard}
EDGEGUARD_URL=${EDGEGUARD_URL:-}
EDGEGUARD_PID=${EDGEGUARD_PID:-}
EDGEGUARD_PORT=${EDGEGUARD_PORT:-9010}
ANCHORS_RUNNING=${ANCHORS_RUNNING:-0}
ANCHORS=${ANCHORS:-$root/../shared/bench/anchors/anchors.sh}
PYTHON=${PYTHON:-/usr/bin/python3}
CONFIG=bench/edgeguard-bench.yaml
ORIGIN=http://127.0.0.1:9001/
MEM_NGINX_PORT=9022
MEM_HAPROXY_PORT=9023

for tool in wrk nginx haproxy curl; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (scripts/install-deps.sh --bench)" >&2; exit 1; }
done
[ -x "$ANCHORS" ] || [ -f "$ANCHORS" ] || { echo "run.sh: anchors script not found: $ANCHORS" >&2; exit 1; }
if [ -z "$EDGEGUARD_URL" ] && [ ! -x "$EDGEGUARD_BIN" ]; then
  echo "run.sh: $EDGEGUARD_BIN not found; run 'make build' (or set EDGEGUARD_BIN, or EDGEGUARD_URL)" >&2
  exit 1
fi

# 10,000 idle connections need more than the usual 1024 descriptors, in the servers (which
# inherit this limit) and in the client.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -gt 65536 ]; then hard=65536; fi
ulimit -n "$hard"
if [ "$MEMORY" = 1 ] && [ "$hard" -lt $((IDLE_CONNS + 200)) ]; then
  echo "run.sh: open-file limit $hard is too low for IDLE_CONNS=$IDLE_CONNS; lower IDLE_CONNS or raise ulimit -Hn" >&2
  exit 1
fi

listening() { [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; }
busy=()
ports=()
[ "$ANCHORS_RUNNING" = 1 ] || ports+=(9001 9002 9003 9004 9005)
[ -z "$EDGEGUARD_URL" ] && ports+=("$EDGEGUARD_PORT")
[ "$MEMORY" = 1 ] && ports+=("$MEM_NGINX_PORT" "$MEM_HAPROXY_PORT")
for p in "${ports[@]}"; do listening "$p" && busy+=("$p"); done
if [ ${#busy[@]} -gt 0 ]; then
  echo "run.sh: port(s) ${busy[*]} already in use on 127.0.0.1 (another benchmark or anchors.sh" \
       "instance running?); not measuring someone else's server" >&2
  exit 1
fi

tmp=$(mktemp -d /tmp/edgeguard-bench.XXXXXX)
export ANCHORS_RUN=$tmp/anchors
started=()   # pids of processes this script started (besides the anchors)
anchors_up=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for p in "${started[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ "$anchors_up" = 1 ]; then bash "$ANCHORS" stop >/dev/null 2>&1 || true; fi
  for _ in $(seq 50); do   # let the ports go, so a following run finds them free
    local up=0
    for p in "${started[@]}"; do kill -0 "$p" 2>/dev/null && up=1; done
    if [ "$anchors_up" = 1 ]; then for p in 9001 9002 9003; do listening "$p" && up=1; done; fi
    [ "$up" = 0 ] && break
    sleep 0.1
  done
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "run.sh: kept $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo; echo "run.sh: interrupted" >&2; exit 130' INT TERM

# wait_ready URL PID SECONDS: until URL answers anything, or PID dies.
wait_ready() {
  local url=$1 pid=$2 n=$(( $3 * 10 ))
  for _ in $(seq "$n"); do
    curl -s -o /dev/null --max-time 1 "$url" && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.1
  done
  return 1
}

start_edgeguard() {
  "$EDGEGUARD_BIN" serve -c "$eg_config" --workers 1 >>"$tmp/edgeguard.log" 2>&1 &
  eg_pid=$!
  started+=("$eg_pid")
  if ! wait_ready "http://127.0.0.1:$EDGEGUARD_PORT/" "$eg_pid" 15; then
    echo "run.sh: edgeguard did not come up on 127.0.0.1:$EDGEGUARD_PORT; its log:" >&2
    tail -n 30 "$tmp/edgeguard.log" >&2
    exit 1
  fi
}

stop_pid() {  # stop_pid PID: TERM, wait up to 5 s, then KILL
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

# --- start the servers -------------------------------------------------------------------------
echo "== edgeguard benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) CPUs, $(uname -r)"
echo "   $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(haproxy -v | head -1 | cut -d' ' -f1-3), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "   load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on these cores skews the numbers)"
if [ "$ANCHORS_RUNNING" = 1 ]; then
  echo "   anchors: using the ones already running on 9001-9003 (ANCHORS_RUNNING=1)"
  : >"$tmp/anchors-start.log"
else
  anchors_up=1
  bash "$ANCHORS" start >"$tmp/anchors-start.log" 2>&1 || { cat "$tmp/anchors-start.log" >&2; exit 1; }
fi
for u in $ORIGIN http://127.0.0.1:9002/ http://127.0.0.1:9003/; do
  wait_ready "$u" "" 10 || { echo "run.sh: anchor $u is not answering" >&2; cat "$tmp/anchors-start.log" >&2; exit 1; }
done

eg_pid=""
if [ -n "$EDGEGUARD_URL" ]; then
  eg_url=$EDGEGUARD_URL
  echo "   edgeguard slot: EXTERNAL server at $eg_url (EDGEGUARD_URL), not $EDGEGUARD_BIN"
else
  eg_config=$CONFIG
  if [ "$EDGEGUARD_PORT" != 9010 ]; then
    eg_config=$tmp/edgeguard-bench.yaml
    sed "s#127\.0\.0\.1:9010#127.0.0.1:$EDGEGUARD_PORT#" "$CONFIG" >"$eg_config"
  fi
  eg_url=http://127.0.0.1:$EDGEGUARD_PORT/
  start_edgeguard
  echo "   edgeguard: $EDGEGUARD_BIN serve -c $eg_config --workers 1 (pid $eg_pid)"
fi

names=(edgeguard nginx haproxy)
declare -A url=([edgeguard]=$eg_url [nginx]=http://127.0.0.1:9002/ [haproxy]=http://127.0.0.1:9003/)
declare -A ok

# --- correctness: every target must answer like the origin does ---------------------------------
# check_target NAME URL: 200 and the origin's body, else report and return 1.
check_target() {
  local name=$1 u=$2 code
  code=$(curl -s -o "$tmp/body.$name" -D "$tmp/head.$name" -w '%{http_code}' --max-time 5 "$u" || true)
  if [ "$code" != 200 ]; then
    echo "   ERROR $name ($u): HTTP status '${code:-none}' instead of 200; not measured"
    echo "         body: $(head -c 160 "$tmp/body.$name" 2>/dev/null | tr -s '\r\n' '  ')"
    return 1
  fi
  if ! cmp -s "$tmp/body.$name" "$tmp/body.origin"; then
    echo "   ERROR $name ($u): body differs from the origin's ($(head -c 60 "$tmp/body.$name" | tr -d '\n')); not measured"
    return 1
  fi
}
curl -s -o "$tmp/body.origin" --max-time 5 $ORIGIN
bad=0
for n in "${names[@]}"; do
  if check_target "$n" "${url[$n]}"; then ok[$n]=1; else ok[$n]=0; bad=1; fi
done
echo "   check: origin body $(wc -c <"$tmp/body.origin") bytes; $(for n in "${names[@]}"; do
  [ "${ok[$n]}" = 1 ] && printf '%s ok  ' "$n" || printf '%s FAILED  ' "$n"; done)"

# --- throughput -----------------------------------------------------------------------------------
# parse_wrk FILE -> "rps p99_ms errors" (errors: socket errors + non-2xx/3xx responses)
parse_wrk() {
  awk '
    function ms(v,   n, u) {
      n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
      if (u == "us") return n / 1000; if (u == "ms") return n; if (u == "s") return n * 1000
      if (u == "m") return n * 60000; if (u == "h") return n * 3600000; return -1
    }
    /^Requests\/sec:/ { rps = $2 }
    $1 == "99%" { p99 = ms($2) }
    /Socket errors:/ { for (i = 3; i <= NF; i++) { v = $i; gsub(/,/, "", v); if (v ~ /^[0-9]+$/) err += v } }
    /Non-2xx or 3xx responses:/ { err += $NF }
    END { if (rps == "" || p99 == "" || rps + 0 == 0) print "NA NA", err + 0; else printf "%.2f %.3f %d\n", rps, p99, err }
  ' "$1"
}
median() { tr ' ' '\n' | awk NF | sort -g | awk '{ v[NR] = $1 } END {
  if (NR == 0) print "NA"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
fmt_ms() { awk -v v="$1" 'BEGIN { if (v == "NA") print "n/a"; else if (v < 1) printf "%.0fus\n", v * 1000; else printf "%.2fms\n", v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b == 0) print "n/a"; else printf "%.2f\n", a / b }'; }

measured=()
for n in "${names[@]}"; do [ "${ok[$n]}" = 1 ] && measured+=("$n"); done
echo
echo "== throughput: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS rounds, targets alternated (start rotates each round)"
for n in "${measured[@]}"; do wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "${url[$n]}" >/dev/null 2>&1 || true; done
declare -A rps_list p99_list err_sum
for r in $(seq "$ROUNDS"); do
  line="   round $r:"
  cnt=${#measured[@]}
  for i in $(seq 0 $((cnt - 1))); do
    n=${measured[$(( (i + r - 1) % cnt ))]}
    out=$tmp/wrk.$n.$r
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${url[$n]}" >"$out" 2>&1 || true
    read -r rps p99 err < <(parse_wrk "$out")
    rps_list[$n]="${rps_list[$n]:-} $([ "$rps" = NA ] || echo "$rps")"
    p99_list[$n]="${p99_list[$n]:-} $([ "$p99" = NA ] || echo "$p99")"
    err_sum[$n]=$(( ${err_sum[$n]:-0} + err ))
    if [ "$rps" = NA ]; then
      line+="  $n FAILED ($(tail -n 1 "$out"))"
      bad=1
    else
      line+="  $(printf '%s %.0f/s p99 %s' "$n" "$rps" "$(fmt_ms "$p99")")"
      if [ "$err" -gt 0 ]; then line+=" ($err errors)"; fi
    fi
  done
  echo "$line"
done

echo
printf '   %-10s %14s %22s %12s %10s\n' target "median req/s" "min..max req/s" "median p99" errors
declare -A med_rps med_p99
for n in "${names[@]}"; do
  if [ "${ok[$n]}" != 1 ]; then printf '   %-10s %14s\n' "$n" "NOT MEASURED (failed the check)"; med_rps[$n]=NA; med_p99[$n]=NA; continue; fi
  med_rps[$n]=$(echo "${rps_list[$n]}" | median)
  med_p99[$n]=$(echo "${p99_list[$n]}" | median)
  range=$(echo "${rps_list[$n]}" | tr ' ' '\n' | awk NF | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%.0f..%.0f", lo, hi; else print "n/a" }')
  printf '   %-10s %14s %22s %12s %10s\n' "$n" "$(awk -v v="${med_rps[$n]}" 'BEGIN { if (v == "NA") print "n/a"; else printf "%.0f", v }')" \
    "$range" "$(fmt_ms "${med_p99[$n]}")" "${err_sum[$n]:-0}"
  if [ "${err_sum[$n]:-0}" -gt 0 ]; then bad=1; fi
done
echo
for other in nginx haproxy; do
  printf '   edgeguard/%-8s req/s x%s   p99 x%s (p99: lower is better)\n' "$other" \
    "$(ratio "${med_rps[edgeguard]}" "${med_rps[$other]}")" "$(ratio "${med_p99[edgeguard]}" "${med_p99[$other]}")"
done
if [ -n "$EDGEGUARD_URL" ]; then echo "   (edgeguard slot was $EDGEGUARD_URL, set by EDGEGUARD_URL)"; fi

# --- memory with idle keep-alive connections -----------------------------------------------------
if [ "$MEMORY" = 1 ]; then
  echo
  echo "== memory: RSS holding $IDLE_CONNS idle keep-alive connections (one GET answered on each)"
  echo "   nginx and HAProxy: separate copies on $MEM_NGINX_PORT/$MEM_HAPROXY_PORT started for this measure (the"
  echo "   anchors allow only ~4000 connections): same proxy job, worker_connections 20000 /"
  echo "   maxconn 20000, idle timeouts 300s.$([ -z "$EDGEGUARD_URL" ] && [ "${ok[edgeguard]}" = 1 ] && echo " edgeguard: restarted fresh.") Each gets a ${WARMUP} wrk warm-up first."
  # The anchor configs, with the connection limits and idle timeouts raised.
  sed -e "s#__RUN__#$tmp#g" -e "s#/nginx\.\(pid\|err\)#/nginx-mem.\1#" \
      -e "s#127\.0\.0\.1:9002#127.0.0.1:$MEM_NGINX_PORT#" \
      -e "s#worker_connections 4096;#worker_connections 20000;#" \
      -e "s#^events#worker_rlimit_nofile 20000;\nevents#" \
      -e "s#keepalive_requests 1000000;#keepalive_requests 1000000;\n    keepalive_timeout 300s;#" \
      "$(dirname "$ANCHORS")/proxy-nginx.conf" >"$tmp/nginx-mem.conf"
  # HAProxy 2.6 refuses maxconn 20000 when it cannot raise the fd limit to 2*maxconn; without
  # strict-limits it warns and runs with the limit it has, which is enough for 10,000 clients.
  sed -e "s#maxconn 4000#maxconn 20000\n  no strict-limits#" \
      -e "s#127\.0\.0\.1:9003#127.0.0.1:$MEM_HAPROXY_PORT#" \
      -e "s#timeout client 30s#timeout client 300s\n  timeout http-keep-alive 300s#" \
      "$(dirname "$ANCHORS")/proxy-haproxy.cfg" >"$tmp/haproxy-mem.cfg"
  nginx -c "$tmp/nginx-mem.conf" >"$tmp/nginx-mem.log" 2>&1 &
  ngm_pid=$!; started+=("$ngm_pid")
  haproxy -f "$tmp/haproxy-mem.cfg" >"$tmp/haproxy-mem.log" 2>&1 &
  hpm_pid=$!; started+=("$hpm_pid")
  declare -A mem_url mem_pid
  mem_url[nginx]=http://127.0.0.1:$MEM_NGINX_PORT/; mem_pid[nginx]=$ngm_pid
  mem_url[haproxy]=http://127.0.0.1:$MEM_HAPROXY_PORT/; mem_pid[haproxy]=$hpm_pid
  wait_ready "${mem_url[nginx]}" "$ngm_pid" 10 || { echo "   ERROR nginx copy did not start:"; cat "$tmp/nginx-mem.log" "$tmp/nginx-mem.err" 2>/dev/null; bad=1; }
  wait_ready "${mem_url[haproxy]}" "$hpm_pid" 10 || { echo "   ERROR haproxy copy did not start:"; cat "$tmp/haproxy-mem.log"; bad=1; }
  if [ -n "$EDGEGUARD_URL" ]; then
    mem_url[edgeguard]=$EDGEGUARD_URL; mem_pid[edgeguard]=$EDGEGUARD_PID
  elif [ "${ok[edgeguard]}" = 1 ]; then
    stop_pid "$eg_pid"
    start_edgeguard
    mem_url[edgeguard]=$eg_url; mem_pid[edgeguard]=$eg_pid
  fi
  declare -A rss0 rss1 held
  for n in "${names[@]}"; do
    u=${mem_url[$n]:-}; pid=${mem_pid[$n]:-}
    if [ -z "$u" ] || [ -z "$pid" ]; then echo "   $n: skipped (no process to measure; EDGEGUARD_PID unset or check failed)"; continue; fi
    if ! check_target "$n" "$u"; then bad=1; continue; fi
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$u" >/dev/null 2>&1 || true
    hostport=${u#http://}; hostport=${hostport%%/*}
    res=$("$PYTHON" bench/idle_conns.py --host "${hostport%:*}" --port "${hostport##*:}" --pid "$pid" \
          --conns "$IDLE_CONNS" 2>"$tmp/idle.$n.err") || true
    sed "s/^ */   $n: /" "$tmp/idle.$n.err"
    res=$(echo "$res" | grep '^RESULT' || true)
    [ -z "$res" ] && { echo "   $n: idle_conns.py failed"; bad=1; continue; }
    m_rss_before_kb=0 m_rss_with_kb=0 m_held=0 m_failed=0 m_pids=""
    for kv in ${res#RESULT }; do
      case $kv in
        rss_before_kb=*) m_rss_before_kb=${kv#*=} ;;
        rss_with_kb=*) m_rss_with_kb=${kv#*=} ;;
        held=*) m_held=${kv#*=} ;;
        failed=*) m_failed=${kv#*=} ;;
        pids=*) m_pids=${kv#*=} ;;
      esac
    done
    rss0[$n]=$m_rss_before_kb; rss1[$n]=$m_rss_with_kb; held[$n]=$m_held
    echo "   $n: pids $m_pids (incl. children), held $m_held/$IDLE_CONNS, $m_failed failed"
    if [ "$m_held" -lt "$IDLE_CONNS" ]; then echo "   WARNING $n held only $m_held of $IDLE_CONNS connections"; bad=1; fi
  done
  sleep 0.5
  echo
  printf '   %-10s %14s %18s %12s %14s\n' server "RSS before" "RSS with conns" "delta" "per conn"
  for n in "${names[@]}"; do
    [ -n "${rss1[$n]:-}" ] || { printf '   %-10s %14s\n' "$n" "n/a"; continue; }
    awk -v n="$n" -v a="${rss0[$n]}" -v b="${rss1[$n]}" -v h="${held[$n]}" 'BEGIN {
      printf "   %-10s %11.1f MB %15.1f MB %9.1f MB %11.2f KB\n", n, a / 1024, b / 1024, (b - a) / 1024, h ? (b - a) / h : 0 }'
  done
  echo
  for other in nginx haproxy; do
    if [ -n "${rss1[edgeguard]:-}" ] && [ -n "${rss1[$other]:-}" ]; then
      printf '   edgeguard/%-8s RSS with conns x%s   per-connection x%s\n' "$other" \
        "$(ratio "${rss1[edgeguard]}" "${rss1[$other]}")" \
        "$(ratio "$(( rss1[edgeguard] - rss0[edgeguard] ))" "$(( rss1[$other] - rss0[$other] ))")"
    fi
  done
  echo "   (RSS = VmRSS of the server processes; kernel socket buffers are not included)"
fi

[ "$bad" = 0 ] || { echo; echo "run.sh: some targets failed a check or reported errors (see above)" >&2; exit 1; }
