# Shared by the benchmarks that compare two edgeguard instances doing the same job
# (origin_auth.sh, waf.sh); sourced, not run. Provides:
#   $tmp             a scratch folder removed on exit, with every started process
#   start_origin     the anchors' origin (nginx on 127.0.0.1:9001) unless ANCHORS_RUNNING=1
#   start_edgeguard NAME     `serve -c $tmp/NAME.yaml --workers 1`, log in $tmp/NAME.log
#   wait_for_200 NAME URL [curl args]   until the instance answers 200 (exit 1 otherwise)
#   median           of the numbers on stdin
#   wrk_latency PCT  that percentile of `wrk --latency` output on stdin, in microseconds
EDGEGUARD_BIN=${EDGEGUARD_BIN:-build/edgeguard}
ANCHORS_RUNNING=${ANCHORS_RUNNING:-0}
anchors_dir=$(pwd)/../shared/bench/anchors
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

start_origin() {
  [ "$ANCHORS_RUNNING" = 1 ] && return
  sed -e "s#__DIR__#$anchors_dir#g" -e "s#__RUN__#$tmp#g" "$anchors_dir/origin-nginx.conf" >"$tmp/origin.conf"
  nginx -c "$tmp/origin.conf" >"$tmp/origin.log" 2>&1 & pids+=($!)
}

start_edgeguard() {
  "$EDGEGUARD_BIN" serve -c "$tmp/$1.yaml" --workers 1 >>"$tmp/$1.log" 2>&1 & pids+=($!)
}

wait_for_200() {
  local name=$1 url=$2; shift 2
  for _ in $(seq 100); do curl -sf -o /dev/null "$@" "$url" && break; sleep 0.1; done
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' "$@" "$url")
  [ "$code" = 200 ] || { echo "$(basename "$0"): $name answers $code"; cat "$tmp/$name.log"; exit 1; }
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

wrk_latency() {
  awk -v pct="$1%" '$1 == pct {v=$2; if (v ~ /us$/) {sub(/us/,"",v)} else if (v ~ /ms$/) {sub(/ms/,"",v); v*=1000} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000000}; print v}'
}
