#!/usr/bin/env bash
# Overhead of qtap on a traced server: nginx (one worker, keep-alive, 1 KiB
# responses) under wrk on loopback. Four runs: without qtap; with qtap's
# probes attached but every BPF program returning at once (--noop-probes: the
# floor, what the probes cost by themselves); with the kernel side capturing
# and the agent dropping every event (--discard-events); with qtap capturing
# everything (JSON to /dev/null). Prints requests/s, ratios and qtap's CPU
# seconds. Needs root.
#   [REPS=N] bench/nginx_wrk.sh [--tls] [--duration 10] [--connections 10] [--qtap build/qtap]
#                               [--bpf-stats] [--spare-core]
# --spare-core: nginx and wrk share CPU 0 and qtap has CPU 1 to itself, as on
# a host where the agent does not compete with the traced programs for CPU.
# REPS=N runs N rounds and gives the median and range of each cell (bench/lib.sh).
set -euo pipefail
bpf_stats=0
pin_traced=()
pin_agent=()
here=$(cd "$(dirname "$0")" && pwd)
qtap=$here/../build/qtap
duration=10
conns=10
tls=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --tls) tls=1; shift ;;
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --qtap) qtap=$2; shift 2 ;;
    --bpf-stats) bpf_stats=1; shift ;;
    --spare-core) pin_traced=(taskset -c 0); pin_agent=(taskset -c 1); shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

tmp=$(mktemp -d)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/www"
head -c 1024 /dev/urandom > "$tmp/www/1k.bin"
scheme=http
listen="127.0.0.1:$port"
ssl_conf=""
if [[ $tls == 1 ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 2 \
    -subj /CN=localhost >/dev/null 2>&1
  scheme=https
  listen="$listen ssl"
  ssl_conf="ssl_certificate $tmp/cert.pem; ssl_certificate_key $tmp/key.pem;"
fi
cat > "$tmp/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
error_log $tmp/error.log warn;
pid $tmp/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    sendfile off;
    client_body_temp_path $tmp/body;
    server { listen $listen; $ssl_conf root $tmp/www; }
}
CONF
"${pin_traced[@]}" nginx -c "$tmp/nginx.conf" &
ngx=$!
server_pid=$ngx
trap 'kill $ngx 2>/dev/null; rm -rf "$tmp"' EXIT
url="$scheme://127.0.0.1:$port/1k.bin"
until curl -skf -o /dev/null "$url"; do sleep 0.05; done

load() {
  "${pin_traced[@]}" wrk -t1 -c"$conns" -d"${duration}s" "$url" | awk '/Requests\/sec/ {print $2}'
}

. "$here/lib.sh"
if [[ $bpf_stats == 1 ]]; then
  bpf_costs
  bpf_costs --noop-probes
else
  compare_runs "nginx $scheme, 1 KiB responses, keep-alive, wrk -t1 -c$conns, ${duration}s per run${pin_agent[*]:+, nginx and wrk on CPU 0, qtap on CPU 1}"
fi
