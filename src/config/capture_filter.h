// Which capture level a connection or a transaction gets: the global
// direction / ignore_loopback settings, then the rules in order (first match
// wins), then the default level. Runs per transaction: no allocation, every
// pattern precompiled at load.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "config/address.h"
#include "config/config.h"
#include "context/container_info.h"
#include "context/process_info.h"
#include "output/records.h"

namespace qtap::config {

// What the rules can ask about a container: the one struct the context
// module fills (cgroup path, then the runtime's metadata).
using ContainerInfo = ::qtap::ContainerInfo;

// The connection facts the rules use (from() takes the kernel's addresses
// when the context has them, else parses the textual ones).
struct ConnectionFacts {
  std::optional<IpAddress> local_ip;
  std::optional<IpAddress> remote_ip;
  uint16_t local_port = 0;
  uint16_t remote_port = 0;
  Direction direction = Direction::kUnknown;
  AddressScope remote_scope = AddressScope::kUnknown;

  static ConnectionFacts from(const ConnectionContext& c);
};

// Everything one decision looks at; all borrowed, nothing copied. A null or
// empty input makes the fields that need it not match (a rule with `host:` is
// skipped until a host is known; a rule with `container_name:` never matches a
// process outside containers).
struct Subject {
  const ProcessInfo* process = nullptr;
  const ContainerInfo* container = nullptr;
  const ConnectionFacts* connection = nullptr;
  std::string_view http_host;  // Host or :authority; empty until the request is parsed
  std::string_view tls_sni;    // server name of the TLS handshake, if known
};

struct Decision {
  static constexpr int kDefault = -1;  // no rule matched: default_level
  static constexpr int kGlobal = -2;   // dropped by `direction` or `ignore_loopback`

  CaptureLevel level = CaptureLevel::kFull;
  std::optional<uint64_t> max_body;  // the rule's; nullopt: the global max_body setting
  int rule = kDefault;               // index into CapturePolicy::rules, or kDefault/kGlobal

  bool operator==(const Decision&) const = default;
};

// The decision for one transaction (or a connection that carried no HTTP,
// with empty hosts).
Decision decide(const CapturePolicy& policy, const Subject& subject);

// What is known when a connection opens, before any byte is parsed. Only
// `tls_sni` counts as a host here (http_host is ignored): rules that need a
// host it does not satisfy are "pending" — they may still match a later
// transaction's Host header.
struct ConnectionVerdict {
  // True when no pending rule comes before the deciding one: `decision` holds
  // for every transaction of the connection.
  bool final = false;
  // When final, the decision for every transaction; otherwise the decision a
  // transaction gets if no pending rule matches its host.
  Decision decision;
  // The highest level any transaction of the connection can get. kNone: the
  // connection can be dropped outright (stop tracking, tell the kernel).
  CaptureLevel max_level = CaptureLevel::kFull;
};

ConnectionVerdict decide_connection(const CapturePolicy& policy, const Subject& subject);

}  // namespace qtap::config
