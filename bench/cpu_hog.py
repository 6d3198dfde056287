#!/usr/bin/env python3
"""Burns `duty` of one CPU (0..1) in 10 ms periods for `seconds`: the
reference the overhead benchmarks compare qtap with (what any process taking
the same CPU as qtap costs the workload).
  bench/cpu_hog.py DUTY SECONDS"""
import sys
import time

duty, seconds = float(sys.argv[1]), float(sys.argv[2])
period = 0.01
end = time.monotonic() + seconds
while time.monotonic() < end:
    start = time.perf_counter()
    while time.perf_counter() - start < duty * period:
        pass
    time.sleep(period * (1 - duty))
