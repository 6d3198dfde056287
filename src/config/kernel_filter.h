// The part of the capture policy the kernel can apply before copying any
// byte: decisions that depend only on the pid, the cgroup or the ports, and
// whose answer is "capture nothing". Purely an optimisation: decide() still
// enforces every rule in userspace, so the app may push down any subset of
// this (or none) and the output stays the same.
//
// Pushed down (docs/config.md, "What runs in the kernel"):
//   exclude   a rule with `capture: none` whose match uses exactly ONE of pid,
//             cgroup (exact paths only), port, local_port, remote_port, and
//             nothing else — provided no earlier rule with another level can
//             match the same traffic (checked on the same fields; any other
//             earlier non-none rule blocks the push-down).
//   only      when the effective default is none (default_capture: none, or a
//             catch-all `capture: none` rule): for each of pid, cgroup (exact),
//             local_port, remote_port that EVERY rule with a level above none
//             uses, the union of their values. No such rule at all: drop_all.
//   direction, ignore_loopback: as given (egress-external pushes "egress"; the
//             public-address test stays in userspace).
// Everything else (exe, comm, user, uid, containers, pods, addresses, hosts,
// multi-field exclusions) stays in userspace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/address.h"
#include "config/config.h"
#include "output/records.h"

namespace qtap::config {

struct KernelFilter {
  // Each list drops on its own: a pid in exclude_pids, OR a cgroup in
  // exclude_cgroups, OR ... is dropped.
  std::vector<uint32_t> exclude_pids;
  std::vector<std::string> exclude_cgroups;  // cgroup v2 paths; the app resolves them to ids
  std::vector<PortRange> exclude_local_ports;
  std::vector<PortRange> exclude_remote_ports;

  // Each non-empty list must hold (AND); an empty list restricts nothing.
  std::vector<uint32_t> only_pids;
  std::vector<std::string> only_cgroups;
  std::vector<PortRange> only_local_ports;
  std::vector<PortRange> only_remote_ports;

  bool drop_all = false;                    // no rule or default can capture anything
  bool drop_loopback = false;               // remote 127.0.0.0/8, ::1, 0.0.0.0, ::
  std::optional<Direction> only_direction;  // kEgress or kIngress; nullopt: both

  // Rules the kernel enforces entirely (indexes into CapturePolicy::rules),
  // for the startup log.
  std::vector<int> pushed_rules;

  bool empty() const;  // nothing to push down
  // Adds the `pids` setting / --pid (a list of processes to capture): the
  // intersection with only_pids when that is set, else the list itself.
  void restrict_to_pids(const std::vector<uint32_t>& pids);
};

KernelFilter kernel_filter(const CapturePolicy& policy);
inline KernelFilter kernel_filter(const Config& config) { return kernel_filter(config.capture); }

}  // namespace qtap::config
