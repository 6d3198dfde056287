#!/usr/bin/env bash
# Installs every Debian package qtap needs to build, test and benchmark.
# Idempotent: packages already installed are not touched, and apt is not
# called at all when nothing is missing (so `make run` is quick the second time).
set -euo pipefail

# Build toolchain and libraries.
BUILD_PKGS=(
  build-essential cmake pkg-config clang llvm
  libbpf-dev bpftool libelf-dev zlib1g-dev libbrotli-dev
  libfmt-dev libspdlog-dev libcli11-dev libzydis-dev libnghttp2-dev libhyperscan-dev
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
  libyaml-cpp-dev libre2-dev
)
# Real peers for the end-to-end tests and benchmarks.
TEST_PKGS=(
  python3 python3-pytest curl nginx wrk iproute2 procps openssl
  nghttp2-client nghttp2-server python3-grpcio
  golang-1.19-go gnutls-bin libcurl3-gnutls libcurl3-nss libcurl4-openssl-dev
)

want=("${BUILD_PKGS[@]}")
if [[ "${1:-}" == "--with-test-peers" ]]; then
  want+=("${TEST_PKGS[@]}")
fi

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root or install them" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when they are absent or older than a day.
if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]]; then
  apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
