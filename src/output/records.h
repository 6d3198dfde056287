// The records the pipeline hands to sinks. Field names mirror the JSON schema
// in docs/schema.md.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "context/process_info.h"
#include "output/finding.h"
#include "protocols/http_model.h"

namespace qtap {

enum class Direction { kEgress, kIngress, kUnknown };

struct Endpoint {
  std::string ip;  // textual IPv4 or IPv6
  uint16_t port = 0;
  // The address as the kernel gave it (IPv4 as ::ffff:a.b.c.d), when it came
  // from the kernel: rules and scopes use it without parsing `ip` again.
  std::optional<std::array<uint8_t, 16>> raw;
};

struct ConnectionContext {
  uint64_t id = 0;
  Endpoint local;
  Endpoint remote;
  // Where the remote address is: "loopback", "private" (RFC 1918, ULA,
  // link-local, ...) or "public"; empty: not classified.
  std::string remote_scope;
  Direction direction = Direction::kUnknown;
  bool tls = false;
  std::optional<std::string> tls_library;
  std::optional<std::string> tls_sni;  // server name of the TLS ClientHello, if seen
  std::string protocol;  // "http1", "unknown", ...
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
};

// The process behind a record: the process cache's answer, shared by every
// record of the process (no copy per record; the JSON sink keys its cache of
// the serialised members on it). Never null.
struct ProcessContext {
  // One empty answer shared by all records made without a process.
  static const std::shared_ptr<const ProcessInfo>& none() {
    static const auto empty = std::make_shared<const ProcessInfo>();
    return empty;
  }
  std::shared_ptr<const ProcessInfo> info = none();
  uint32_t tid = 0;

  const ProcessInfo& operator*() const { return *info; }
  const ProcessInfo* operator->() const { return info.get(); }
  // A private copy to change (tests; redaction goes through Policy's cache).
  ProcessInfo& edit() {
    auto copy = std::make_shared<ProcessInfo>(*info);
    ProcessInfo& ref = *copy;
    info = std::move(copy);
    return ref;
  }
};

// One HTTP request/response as a sink sees it.
struct HttpRecord {
  int64_t time_unix_ns = 0;  // request start, wall clock
  double duration_ms = 0;    // request start to response end
  ProcessContext process;
  std::string hostname;
  ConnectionContext connection;
  HttpExchange http;  // after redaction
  std::vector<Finding> findings;  // what the audit found, before redaction
};

// A connection that closed without carrying a recognised protocol.
struct ConnectionRecord {
  int64_t time_unix_ns = 0;  // connection first seen, wall clock
  double duration_ms = 0;
  ProcessContext process;
  std::string hostname;
  ConnectionContext connection;
};

// One audit finding, reported on its own line after its transaction's
// HttpRecord (the pipeline emits one per entry of HttpRecord::findings).
struct FindingRecord {
  int64_t time_unix_ns = 0;  // the transaction's time
  ProcessContext process;
  std::string hostname;
  ConnectionContext connection;
  Finding finding;
  // The transaction, as its HttpRecord shows it (after redaction).
  std::optional<std::string> method;  // nullopt: the request was not seen
  std::optional<std::string> url;     // nullopt: the request was not seen
  std::optional<int> status;          // nullopt: no response
};

// The FindingRecord of `finding`, one of rec.findings.
FindingRecord make_finding_record(const HttpRecord& rec, const Finding& finding);

}  // namespace qtap
