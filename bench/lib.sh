# Shared by the overhead benchmarks (sourced). The caller defines `load`
# (runs the workload once, prints requests/s), `qtap` and `tmp`.

# Runs `load` under qtap with extra flags; prints "req/s qtap_cpu_seconds".
with_qtap() {
  rm -f "$tmp/ready"
  "$qtap" --format json --output /dev/null --ready-file "$tmp/ready" "$@" 2> "$tmp/qtap.err" &
  local q=$!
  until [ -e "$tmp/ready" ]; do sleep 0.05; done
  local before after rps
  before=$(awk '{print $14 + $15}' "/proc/$q/stat")
  rps=$(load)
  after=$(awk '{print $14 + $15}' "/proc/$q/stat")
  kill -INT $q
  wait $q
  echo "$rps $(echo "($after - $before) / $(getconf CLK_TCK)" | bc -l)"
}

# The four runs (without qtap; probes doing nothing; the kernel side capturing
# with the agent dropping every event; full capture) and the table; $1 is the
# title line. The third row splits the overhead: floor -> kernel capture is
# the BPF programs and the ring buffer, kernel capture -> full is the agent.
# A last row runs a busy loop taking as much CPU as qtap did, without qtap:
# what that much CPU costs this workload whoever takes it. The caller also
# defines `duration` (seconds per run) and `here` (the bench folder).
compare_runs() {
  local base floor floor_cpu kern kern_cpu full full_cpu
  base=$(load)
  read -r floor floor_cpu < <(with_qtap --noop-probes)
  read -r kern kern_cpu < <(with_qtap --discard-events)
  read -r full full_cpu < <(with_qtap)
  pct() { echo "$1 * 100 / $2" | bc -l; }
  echo "$1"
  printf 'without qtap              %9.0f req/s\n' "$base"
  printf 'qtap probes, no work      %9.0f req/s  %5.1f%% of without   qtap CPU %.2f s\n' \
    "$floor" "$(pct "$floor" "$base")" "$floor_cpu"
  printf 'kernel capture, dropped  %9.0f req/s  %5.1f%% of without   %5.1f%% of the floor   qtap CPU %.2f s\n' \
    "$kern" "$(pct "$kern" "$base")" "$(pct "$kern" "$floor")" "$kern_cpu"
  printf 'qtap full capture         %9.0f req/s  %5.1f%% of without   %5.1f%% of the floor   qtap CPU %.2f s\n' \
    "$full" "$(pct "$full" "$base")" "$(pct "$full" "$floor")" "$full_cpu"
  # The reference: a busy loop taking the CPU qtap took, with no qtap.
  local duty hog
  duty=$(echo "d = $full_cpu / $duration; if (d > 1) d = 1; d" | bc -l)
  python3 "$here/cpu_hog.py" "$duty" "$((duration + 2))" &
  local h=$!
  sleep 0.5
  hog=$(load)
  wait $h
  printf 'no qtap, a busy loop using qtap'"'"'s CPU %9.0f req/s  %5.1f%% of without\n' "$hog" "$(pct "$hog" "$base")"
  grep -E "^qtap (stats|drops)" "$tmp/qtap.err"
}
