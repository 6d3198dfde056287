# Shared by the overhead benchmarks (sourced). The caller defines `load`
# (runs the workload once, prints requests/s), `qtap`, `tmp`, `duration` and
# `server_pid` (the traced server).

# Commands that place the agent (qtap, and the busy loop standing in for it)
# on CPUs; empty unless the caller pins (nginx_wrk.sh --spare-core).
[[ -v pin_agent ]] || pin_agent=()

# CPU seconds (user + system) a process has used so far.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}

# Runs `load`; prints "req/s us": us is the CPU the traced programs (the
# server and the load generator) used per request, in microseconds. Unlike
# throughput it does not count time spent waiting for a CPU, so it shows what
# tracing adds inside the traced programs themselves, as on a host with
# spare cores (the agent's own CPU is measured apart).
measured_load() {
  local before after rps user sys
  before=$(cpu_seconds "$server_pid")
  TIMEFORMAT='%3U %3S'
  { time load > "$tmp/rps.out" 2> "$tmp/load.err"; } 2> "$tmp/time.out"
  after=$(cpu_seconds "$server_pid")
  rps=$(cat "$tmp/rps.out")
  read -r user sys < "$tmp/time.out"
  echo "$rps $(echo "($after - $before + $user + $sys) * 1000000 / ($rps * $duration)" | bc -l)"
}

# Runs `load` under qtap with extra flags; prints "req/s qtap_cpu_seconds
# traced_us_per_request".
with_qtap() {
  rm -f "$tmp/ready"
  "${pin_agent[@]}" "$qtap" --format json --output /dev/null --ready-file "$tmp/ready" "$@" 2> "$tmp/qtap.err" &
  local q=$!
  until [ -e "$tmp/ready" ]; do sleep 0.05; done
  local before after rps us
  before=$(cpu_seconds $q)
  read -r rps us < <(measured_load)
  after=$(cpu_seconds $q)
  kill -INT $q
  wait $q
  echo "$rps $(echo "$after - $before" | bc -l) $us"
}

# One round: six runs back to back (without qtap; probes doing nothing; the
# kernel side capturing with the agent dropping every event; full capture;
# recording only, decoded later; a busy loop taking the CPU full capture
# took, with no qtap). Prints one line: "base floor kern full hog floor_cpu
# kern_cpu full_cpu rec rec_cpu", then the traced programs' CPU per request
# of "base floor kern full rec".
one_round() {
  local base floor floor_cpu kern kern_cpu full full_cpu rec rec_cpu duty hog h
  local base_us floor_us kern_us full_us rec_us
  read -r base base_us < <(measured_load)
  read -r floor floor_cpu floor_us < <(with_qtap --noop-probes)
  read -r kern kern_cpu kern_us < <(with_qtap --discard-events)
  read -r full full_cpu full_us < <(with_qtap)
  cp "$tmp/qtap.err" "$tmp/full.err"  # its stats close the table
  read -r rec rec_cpu rec_us < <(with_qtap --record-only "$tmp/rec.qrec")
  rm -f "$tmp/rec.qrec"
  duty=$(echo "d = $full_cpu / $duration; if (d > 1) d = 1; d" | bc -l)
  "${pin_agent[@]}" python3 "$here/cpu_hog.py" "$duty" "$((duration + 2))" &
  h=$!
  sleep 0.5
  hog=$(load)
  wait $h
  echo "$base $floor $kern $full $hog $floor_cpu $kern_cpu $full_cpu $rec $rec_cpu" \
    "$base_us $floor_us $kern_us $full_us $rec_us"
}

# The table over `reps` rounds ($REPS, default 1); $1 is the title line. The
# third row splits the overhead: floor -> kernel capture is the BPF programs
# and the ring buffer, kernel capture -> full is the agent. The recording row
# captures as much as full capture, written raw for `qtap replay` (the file
# is deleted). The last row is the reference: what full capture's CPU costs
# this workload whoever takes it.
# On a VM with steal time throughput drifts between minutes, so every ratio
# is taken inside its round and the table gives the median and the range of
# the rounds. The caller also defines `duration` (seconds per run) and `here`
# (the bench folder).
compare_runs() {
  local reps=${REPS:-1} rounds=()
  for ((r = 0; r < reps; r++)); do
    rounds+=("$(one_round)")
    [[ $reps -gt 1 ]] && echo "round $((r + 1))/$reps: ${rounds[-1]}" >&2
  done
  echo "$1"
  [[ $reps -gt 1 ]] && echo "$reps rounds; each cell: median [min-max] over the rounds"
  printf '%s\n' "${rounds[@]}" | python3 -c '
import statistics, sys
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
def cell(xs, fmt):
    if len(xs) == 1:
        return fmt.format(xs[0])
    return (fmt + " [" + fmt + "-" + fmt + "]").format(statistics.median(xs), min(xs), max(xs))
col = lambda i: [r[i] for r in rows]
pct = lambda i, j: [100 * r[i] / r[j] for r in rows]
us = lambda i: "  traced programs\x27 CPU {} us/request".format(cell(col(i), "{:.1f}"))
print("without qtap               {} req/s".format(cell(col(0), "{:.0f}")) + us(10))
print("qtap probes, no work       {} req/s  {}% of without  qtap CPU {} s".format(
    cell(col(1), "{:.0f}"), cell(pct(1, 0), "{:.1f}"), cell(col(5), "{:.2f}")) + us(11))
print("kernel capture, dropped    {} req/s  {}% of without  {}% of the floor  qtap CPU {} s".format(
    cell(col(2), "{:.0f}"), cell(pct(2, 0), "{:.1f}"), cell(pct(2, 1), "{:.1f}"), cell(col(6), "{:.2f}")) + us(12))
print("qtap full capture          {} req/s  {}% of without  {}% of the floor  qtap CPU {} s".format(
    cell(col(3), "{:.0f}"), cell(pct(3, 0), "{:.1f}"), cell(pct(3, 1), "{:.1f}"), cell(col(7), "{:.2f}")) + us(13))
print("qtap --record-only          {} req/s  {}% of without  {}% of the floor  qtap CPU {} s".format(
    cell(col(8), "{:.0f}"), cell(pct(8, 0), "{:.1f}"), cell(pct(8, 1), "{:.1f}"), cell(col(9), "{:.2f}")) + us(14))
print("no qtap, a busy loop using qtap\x27s CPU  {} req/s  {}% of without".format(
    cell(col(4), "{:.0f}"), cell(pct(4, 0), "{:.1f}")))
'
  grep -E "^qtap (stats|drops)" "$tmp/full.err"
}

# What each of qtap's BPF programs costs the traced programs: runs per request
# and nanoseconds per run (kernel.bpf_stats_enabled), during one run with the
# given qtap flags (none: full capture). bpf_stats itself adds some 45 ns to
# every run: the row with --noop-probes shows it, programs returning at once.
# Requests are taken as req/s x duration.
bpf_costs() {
  rm -f "$tmp/ready"
  "${pin_agent[@]}" "$qtap" --format json --output /dev/null --ready-file "$tmp/ready" "$@" 2> "$tmp/qtap.err" &
  local q=$! was rps
  until [ -e "$tmp/ready" ]; do sleep 0.05; done
  was=$(sysctl -n kernel.bpf_stats_enabled)
  sysctl -qw kernel.bpf_stats_enabled=1
  bpftool prog show -j > "$tmp/progs_before.json"
  rps=$(load)
  bpftool prog show -j > "$tmp/progs_after.json"
  sysctl -qw kernel.bpf_stats_enabled="$was"
  kill -INT $q
  wait $q
  echo "qtap $* ($rps req/s):"
  python3 - "$tmp/progs_before.json" "$tmp/progs_after.json" "$rps" "$duration" <<'PY'
import json, sys
before = {p["id"]: p for p in json.load(open(sys.argv[1]))}
requests = float(sys.argv[3]) * float(sys.argv[4])
for p in json.load(open(sys.argv[2])):
    name = p.get("name", "")
    if not name.startswith("qtap_") or "run_cnt" not in p:
        continue
    b = before.get(p["id"], {})
    runs = p["run_cnt"] - b.get("run_cnt", 0)
    ns = p["run_time_ns"] - b.get("run_time_ns", 0)
    if runs:
        print(f"  {name:24} {runs / requests:8.2f} runs/request {ns / runs:7.0f} ns/run")
PY
}
