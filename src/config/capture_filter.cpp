#include "config/capture_filter.h"

#include <algorithm>

namespace qtap::config {

namespace {

enum class Match : uint8_t { kNo, kYes, kPending };

// An empty value is an unknown one (exe unreadable, container without a
// name): it matches nothing, not even "*".
bool any_pattern(const std::vector<Pattern>& patterns, std::string_view value) {
  if (value.empty()) return false;
  for (const Pattern& p : patterns) {
    if (p.matches(value)) return true;
  }
  return false;
}

bool any_port(const std::vector<PortRange>& ranges, uint16_t port) {
  for (const PortRange& r : ranges) {
    if (r.contains(port)) return true;
  }
  return false;
}

bool any_of(const std::vector<uint32_t>& values, uint32_t v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

bool connection_matches(const RuleMatch& m, const ConnectionFacts* c) {
  bool uses = !m.port.empty() || !m.local_port.empty() || !m.remote_port.empty() ||
              !m.remote_address.empty();
  if (!uses) return true;
  if (!c) return false;
  // Port 0 is an unknown port.
  if (!m.port.empty() && !((c->local_port && any_port(m.port, c->local_port)) ||
                           (c->remote_port && any_port(m.port, c->remote_port)))) {
    return false;
  }
  if (!m.local_port.empty() && !(c->local_port && any_port(m.local_port, c->local_port))) {
    return false;
  }
  if (!m.remote_port.empty() && !(c->remote_port && any_port(m.remote_port, c->remote_port))) {
    return false;
  }
  if (!m.remote_address.empty()) {
    if (!c->remote_ip) return false;
    bool hit = false;
    for (const Cidr& cidr : m.remote_address) hit = hit || cidr.contains(*c->remote_ip);
    if (!hit) return false;
  }
  return true;
}

bool process_matches(const RuleMatch& m, const ProcessInfo* p) {
  bool uses = !m.pid.empty() || !m.uid.empty() || !m.exe.empty() || !m.comm.empty() ||
              !m.user.empty() || !m.cgroup.empty();
  if (!uses) return true;
  if (!p) return false;
  if (!m.pid.empty() && !any_of(m.pid, p->pid)) return false;
  if (!m.uid.empty() && !any_of(m.uid, p->uid)) return false;
  if (!m.comm.empty() && !any_pattern(m.comm, p->comm)) return false;
  if (!m.exe.empty() && !any_pattern(m.exe, p->exe)) return false;
  if (!m.user.empty() && !any_pattern(m.user, p->user)) return false;
  if (!m.cgroup.empty() && !any_pattern(m.cgroup, p->cgroup)) return false;
  return true;
}

bool container_matches(const RuleMatch& m, const ContainerInfo* c) {
  bool uses = !m.container_id.empty() || !m.container_name.empty() || !m.container_image.empty() ||
              !m.container_labels.empty() || !m.pod_name.empty() || !m.pod_namespace.empty();
  if (!uses) return true;
  if (!c) return false;
  if (!m.container_id.empty() && !any_pattern(m.container_id, c->id)) return false;
  if (!m.container_name.empty() && !any_pattern(m.container_name, c->name)) return false;
  if (!m.container_image.empty() && !any_pattern(m.container_image, c->image)) return false;
  if (!m.pod_name.empty() && !any_pattern(m.pod_name, c->pod_name)) return false;
  if (!m.pod_namespace.empty() && !any_pattern(m.pod_namespace, c->pod_namespace)) return false;
  for (const LabelMatch& l : m.container_labels) {
    const std::string* v = c->label(l.key);
    // A label that is present with an empty value is still present: "*" matches it.
    if (!v) return false;
    bool hit = false;
    for (const Pattern& p : l.values) hit = hit || p.matches(*v);
    if (!hit) return false;
  }
  return true;
}

// kPending: the rule needs a host, none matched, and the HTTP host is not
// known yet (connection time).
Match host_matches(const RuleMatch& m, const Subject& s, bool at_connection) {
  if (m.host.empty()) return Match::kYes;
  if (any_pattern(m.host, host_without_port(s.tls_sni))) return Match::kYes;
  if (at_connection) return Match::kPending;
  return any_pattern(m.host, host_without_port(s.http_host)) ? Match::kYes : Match::kNo;
}

Match rule_matches(const RuleMatch& m, const Subject& s, bool at_connection) {
  // Cheap numeric fields first, patterns after, the host last.
  if (!connection_matches(m, s.connection)) return Match::kNo;
  if (!process_matches(m, s.process)) return Match::kNo;
  if (!container_matches(m, s.container)) return Match::kNo;
  return host_matches(m, s, at_connection);
}

bool dropped_globally(const CapturePolicy& policy, const Subject& s) {
  const ConnectionFacts* c = s.connection;
  Direction dir = c ? c->direction : Direction::kUnknown;
  AddressScope scope = c ? c->remote_scope : AddressScope::kUnknown;
  if (policy.ignore_loopback && scope == AddressScope::kLoopback) return true;
  switch (policy.direction) {
    case DirectionFilter::kAll:
      return false;
    case DirectionFilter::kEgress:
      return dir != Direction::kEgress;
    case DirectionFilter::kIngress:
      return dir != Direction::kIngress;
    case DirectionFilter::kEgressExternal:
      return dir != Direction::kEgress || scope != AddressScope::kPublic;
  }
  return false;
}

}  // namespace

ConnectionFacts ConnectionFacts::from(const ConnectionContext& c) {
  ConnectionFacts f;
  auto address = [](const Endpoint& e) {
    return e.raw ? std::optional<IpAddress>(IpAddress::from_mapped(*e.raw)) : IpAddress::parse(e.ip);
  };
  f.local_ip = address(c.local);
  f.remote_ip = address(c.remote);
  f.local_port = c.local.port;
  f.remote_port = c.remote.port;
  f.direction = c.direction;
  f.remote_scope = f.remote_ip ? scope_of(*f.remote_ip) : AddressScope::kUnknown;
  return f;
}

Decision decide(const CapturePolicy& policy, const Subject& subject) {
  if (dropped_globally(policy, subject)) {
    return Decision{CaptureLevel::kNone, std::nullopt, Decision::kGlobal};
  }
  for (size_t i = 0; i < policy.rules.size(); ++i) {
    const FilterRule& r = policy.rules[i];
    if (rule_matches(r.match, subject, false) == Match::kYes) {
      return Decision{r.level, r.max_body, static_cast<int>(i)};
    }
  }
  return Decision{policy.default_level, std::nullopt, Decision::kDefault};
}

ConnectionVerdict decide_connection(const CapturePolicy& policy, const Subject& subject) {
  ConnectionVerdict v;
  if (dropped_globally(policy, subject)) {
    v.final = true;
    v.decision = Decision{CaptureLevel::kNone, std::nullopt, Decision::kGlobal};
    v.max_level = CaptureLevel::kNone;
    return v;
  }
  bool pending = false;
  CaptureLevel max_level = CaptureLevel::kNone;
  for (size_t i = 0; i < policy.rules.size(); ++i) {
    const FilterRule& r = policy.rules[i];
    Match m = rule_matches(r.match, subject, true);
    if (m == Match::kNo) continue;
    max_level = std::max(max_level, r.level);
    if (m == Match::kPending) {
      pending = true;
      continue;
    }
    v.final = !pending;
    v.decision = Decision{r.level, r.max_body, static_cast<int>(i)};
    v.max_level = max_level;
    return v;
  }
  v.final = !pending;
  v.decision = Decision{policy.default_level, std::nullopt, Decision::kDefault};
  v.max_level = std::max(max_level, policy.default_level);
  return v;
}

}  // namespace qtap::config
