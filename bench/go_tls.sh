#!/usr/bin/env bash
# Overhead of qtap on Go programs: a Go HTTPS server (crypto/tls, HTTP/1.1
# keep-alive, echoing 1 KiB bodies) under load from a Go client on loopback,
# both built here from tests/e2e/peers/go/tlspeer.go with Debian's Go 1.19.
# Four runs: without qtap; qtap with every BPF program returning at once
# (--noop-probes: what the probes cost by themselves); the kernel side
# capturing with the agent dropping every event (--discard-events); qtap
# capturing everything (JSON to /dev/null). Both sides are traced, as on a real host.
# Prints requests/s, ratios and qtap's CPU seconds. Needs root.
#   [REPS=N] bench/go_tls.sh [--duration 10] [--connections 8] [--body 1024] [--qtap build/qtap] [--bpf-stats]
set -euo pipefail
bpf_stats=0
here=$(cd "$(dirname "$0")" && pwd)
qtap=$here/../build/qtap
go=/usr/lib/go-1.19/bin/go
duration=10
conns=8
body=1024
while [[ $# -gt 0 ]]; do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --body) body=$2; shift 2 ;;
    --qtap) qtap=$2; shift 2 ;;
    --bpf-stats) bpf_stats=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

tmp=$(mktemp -d)
peer=$tmp/tlspeer
HOME=$tmp GOCACHE=$tmp/cache GOPATH=$tmp/gopath GO111MODULE=auto GOFLAGS= \
  "$go" build -o "$peer" "$here/../tests/e2e/peers/go/tlspeer.go"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 2 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost >/dev/null 2>&1
coproc SRV { exec "$peer" serve "$tmp/cert.pem" "$tmp/key.pem"; }
srv=$SRV_PID
server_pid=$srv
trap 'kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT
read -r _ port <&"${SRV[0]}"
url="https://localhost:$port/echo"

load() { "$peer" load "$url" "$tmp/cert.pem" "$conns" "$duration" "$body" | awk '/^rps/ {print $2}'; }

# The server ran before qtap: it is probed at start-up, and so is its client
# (the same binary).
. "$here/lib.sh"
if [[ $bpf_stats == 1 ]]; then
  bpf_costs
  bpf_costs --noop-probes
  exit 0
fi
compare_runs "Go crypto/tls server and client, HTTP/1.1 keep-alive, $body B each way, $conns connections, ${duration}s per run"
grep -E "TLS: probing $peer" "$tmp/qtap.err" | sed 's/: Go .*(probes/ (probes/'
