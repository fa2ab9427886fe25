#!/usr/bin/env bash
# Installs every Debian package edgeguard needs to build, test and benchmark.
# This is the one list; DESIGN.md's dependency table explains each choice.
# Idempotent and quiet when everything is already installed.
set -euo pipefail

build=(build-essential cmake ninja-build pkg-config clang clang-format
       libboost1.81-dev libssl-dev libfmt-dev libjemalloc-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev
       libre2-dev libmaxminddb-dev libcrypt-dev
       libmozjs-102-dev
       libgtest-dev libgmock-dev libbenchmark-dev)
# libmozjs-102-dev: SpiderMonkey 102 (ESR), the in-process engine for CloudFront Functions.
# botocore/boto3/awscli: real AWS clients that sign and verify against our SigV4; nftables: origin allowlists.
# libmaxmind-db-writer-perl: MaxMind's own writer builds the small .mmdb files the geo tests read.
# chromium/chromium-driver/python3-selenium: the Challenge interstitial is proven by a real headless browser.
# nodejs: Lambda@Edge handlers run in a pool of node processes (src/functions/node); the gateway
# needs it at run time too (the runner needs node >= 18; tested with 20).
test=(nodejs python3 python3-pytest python3-requests curl openssl libclang-rt-14-dev
      python3-botocore python3-boto3 awscli nftables iproute2 libmaxmind-db-writer-perl
      chromium chromium-driver python3-selenium)
bench=(wrk nginx-light haproxy libnginx-mod-http-js)

want=("${build[@]}" "${test[@]}")
[ "${1:-}" = "--bench" ] && want+=("${bench[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
