#include "config/kernel_filter.h"

#include <algorithm>

namespace qtap::config {

namespace {

enum class Field : uint8_t { kPid, kCgroup, kPort, kLocalPort, kRemotePort };

bool all_exact(const std::vector<Pattern>& ps) {
  return std::all_of(ps.begin(), ps.end(),
                     [](const Pattern& p) { return p.kind() == Pattern::Kind::kExact; });
}

// The one kernel-checkable field a rule's match consists of, if that is all
// it uses.
std::optional<Field> sole_kernel_field(const RuleMatch& m) {
  size_t used = !m.exe.empty() + !m.comm.empty() + !m.user.empty() + !m.uid.empty() +
                !m.pid.empty() + !m.cgroup.empty() + !m.container_id.empty() +
                !m.container_name.empty() + !m.container_image.empty() +
                !m.container_labels.empty() + !m.pod_name.empty() + !m.pod_namespace.empty() +
                !m.port.empty() + !m.local_port.empty() + !m.remote_port.empty() +
                !m.remote_address.empty() + !m.host.empty();
  if (used != 1) return std::nullopt;
  if (!m.pid.empty()) return Field::kPid;
  if (!m.cgroup.empty() && all_exact(m.cgroup)) return Field::kCgroup;
  if (!m.port.empty()) return Field::kPort;
  if (!m.local_port.empty()) return Field::kLocalPort;
  if (!m.remote_port.empty()) return Field::kRemotePort;
  return std::nullopt;
}

bool ranges_overlap(const std::vector<PortRange>& a, const std::vector<PortRange>& b) {
  for (const PortRange& x : a) {
    for (const PortRange& y : b) {
      if (x.overlaps(y)) return true;
    }
  }
  return false;
}

// False only when `earlier` provably cannot match anything `rule` (whose
// match is the single field `f`) matches.
bool may_overlap(const RuleMatch& earlier, const RuleMatch& rule, Field f) {
  switch (f) {
    case Field::kPid:
      if (earlier.pid.empty()) return true;
      return std::any_of(rule.pid.begin(), rule.pid.end(), [&](uint32_t p) {
        return std::find(earlier.pid.begin(), earlier.pid.end(), p) != earlier.pid.end();
      });
    case Field::kCgroup:
      if (earlier.cgroup.empty()) return true;
      for (const Pattern& path : rule.cgroup) {
        for (const Pattern& p : earlier.cgroup) {
          if (p.matches(path.literal())) return true;
        }
      }
      return false;
    case Field::kLocalPort:
      return earlier.local_port.empty() || ranges_overlap(earlier.local_port, rule.local_port);
    case Field::kRemotePort:
      return earlier.remote_port.empty() || ranges_overlap(earlier.remote_port, rule.remote_port);
    case Field::kPort:
      // `port` is local OR remote: the earlier rule must rule out both.
      return earlier.local_port.empty() || earlier.remote_port.empty() ||
             ranges_overlap(earlier.local_port, rule.port) ||
             ranges_overlap(earlier.remote_port, rule.port);
  }
  return true;
}

void append_literals(const std::vector<Pattern>& ps, std::vector<std::string>& out) {
  for (const Pattern& p : ps) out.push_back(p.literal());
}

template <typename T>
void sort_unique(std::vector<T>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

void sort_unique(std::vector<PortRange>& v) {
  auto less = [](const PortRange& a, const PortRange& b) {
    return a.first != b.first ? a.first < b.first : a.last < b.last;
  };
  std::sort(v.begin(), v.end(), less);
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

bool KernelFilter::empty() const {
  return exclude_pids.empty() && exclude_cgroups.empty() && exclude_local_ports.empty() &&
         exclude_remote_ports.empty() && only_pids.empty() && only_cgroups.empty() &&
         only_local_ports.empty() && only_remote_ports.empty() && !drop_all && !drop_loopback &&
         !only_direction;
}

void KernelFilter::restrict_to_pids(const std::vector<uint32_t>& pids) {
  if (pids.empty()) return;
  std::vector<uint32_t> wanted = pids;
  sort_unique(wanted);
  if (only_pids.empty()) {
    only_pids = std::move(wanted);
    return;
  }
  std::vector<uint32_t> both;
  std::set_intersection(only_pids.begin(), only_pids.end(), wanted.begin(), wanted.end(),
                        std::back_inserter(both));
  // An empty only_pids would mean "every pid": an empty intersection is "none".
  if (both.empty()) drop_all = true;
  only_pids = std::move(both);
}

KernelFilter kernel_filter(const CapturePolicy& policy) {
  KernelFilter k;
  k.drop_loopback = policy.ignore_loopback;
  if (policy.direction == DirectionFilter::kEgress ||
      policy.direction == DirectionFilter::kEgressExternal) {
    k.only_direction = Direction::kEgress;
  } else if (policy.direction == DirectionFilter::kIngress) {
    k.only_direction = Direction::kIngress;
  }

  // Rules after a catch-all are unreachable (the parser rejects them); the
  // catch-all's level is the effective default.
  size_t reachable = policy.rules.size();
  CaptureLevel effective_default = policy.default_level;
  for (size_t i = 0; i < policy.rules.size(); ++i) {
    if (policy.rules[i].match.matches_everything()) {
      reachable = i;
      effective_default = policy.rules[i].level;
      break;
    }
  }

  // Exclusions.
  for (size_t i = 0; i < reachable; ++i) {
    const FilterRule& r = policy.rules[i];
    if (r.level != CaptureLevel::kNone) continue;
    auto field = sole_kernel_field(r.match);
    if (!field) continue;
    bool shadowed = false;
    for (size_t j = 0; j < i && !shadowed; ++j) {
      const FilterRule& e = policy.rules[j];
      shadowed = e.level != CaptureLevel::kNone && may_overlap(e.match, r.match, *field);
    }
    if (shadowed) continue;
    const RuleMatch& m = r.match;
    switch (*field) {
      case Field::kPid:
        k.exclude_pids.insert(k.exclude_pids.end(), m.pid.begin(), m.pid.end());
        break;
      case Field::kCgroup:
        append_literals(m.cgroup, k.exclude_cgroups);
        break;
      case Field::kPort:
        k.exclude_local_ports.insert(k.exclude_local_ports.end(), m.port.begin(), m.port.end());
        k.exclude_remote_ports.insert(k.exclude_remote_ports.end(), m.port.begin(), m.port.end());
        break;
      case Field::kLocalPort:
        k.exclude_local_ports.insert(k.exclude_local_ports.end(), m.local_port.begin(),
                                     m.local_port.end());
        break;
      case Field::kRemotePort:
        k.exclude_remote_ports.insert(k.exclude_remote_ports.end(), m.remote_port.begin(),
                                      m.remote_port.end());
        break;
    }
    k.pushed_rules.push_back(static_cast<int>(i));
  }

  // Only-include: what can be captured at all is what the rules above none match.
  if (effective_default == CaptureLevel::kNone) {
    std::vector<const RuleMatch*> includes;
    for (size_t i = 0; i < reachable; ++i) {
      if (policy.rules[i].level != CaptureLevel::kNone) includes.push_back(&policy.rules[i].match);
    }
    if (includes.empty()) {
      k.drop_all = true;
    } else {
      auto every = [&](auto pred) { return std::all_of(includes.begin(), includes.end(), pred); };
      if (every([](const RuleMatch* m) { return !m->pid.empty(); })) {
        for (const RuleMatch* m : includes) {
          k.only_pids.insert(k.only_pids.end(), m->pid.begin(), m->pid.end());
        }
      }
      if (every([](const RuleMatch* m) { return !m->cgroup.empty() && all_exact(m->cgroup); })) {
        for (const RuleMatch* m : includes) append_literals(m->cgroup, k.only_cgroups);
      }
      if (every([](const RuleMatch* m) { return !m->local_port.empty(); })) {
        for (const RuleMatch* m : includes) {
          k.only_local_ports.insert(k.only_local_ports.end(), m->local_port.begin(),
                                    m->local_port.end());
        }
      }
      if (every([](const RuleMatch* m) { return !m->remote_port.empty(); })) {
        for (const RuleMatch* m : includes) {
          k.only_remote_ports.insert(k.only_remote_ports.end(), m->remote_port.begin(),
                                     m->remote_port.end());
        }
      }
    }
  }

  sort_unique(k.exclude_pids);
  sort_unique(k.exclude_cgroups);
  sort_unique(k.exclude_local_ports);
  sort_unique(k.exclude_remote_ports);
  sort_unique(k.only_pids);
  sort_unique(k.only_cgroups);
  sort_unique(k.only_local_ports);
  sort_unique(k.only_remote_ports);
  return k;
}

}  // namespace qtap::config
