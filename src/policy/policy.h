// The policy stage, between context and sinks: what the config file decides
// for each record. In order, for a transaction:
//   1. capture level (config/capture_filter.h): none drops it; summary and
//      headers strip what they do not keep; a rule's max_body trims bodies;
//   2. sensitive-data audit on the plaintext as captured (audit/auditor.h),
//      findings marked as alerts by the config's alert rules;
//   3. redaction (audit/redactor.h), so no sink ever sees a redacted secret.
// One Policy is built per config (at start, and on each reload); it is used
// by the pipeline's thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>

#include "audit/auditor.h"
#include "audit/redactor.h"
#include "common/result.h"
#include "config/capture_filter.h"
#include "config/config.h"
#include "output/records.h"

namespace qtap {

struct PolicyStats {
  uint64_t dropped_records = 0;  // capture level none
  uint64_t findings = 0;
  uint64_t alerts = 0;
};

class Policy {
 public:
  // `no_redact`: the --no-redact flag, which wins over the file.
  static Result<std::unique_ptr<Policy>> make(config::Config cfg, bool no_redact);

  // False: the record is not to be reported. Otherwise the record is ready for
  // the sinks (trimmed, audited, redacted).
  bool apply(HttpRecord& rec, PolicyStats& stats);
  bool keep(ConnectionRecord& rec, PolicyStats& stats) const;

  const config::Config& config() const { return cfg_; }
  bool redacting() const { return redactor_.has_value(); }
  bool auditing() const { return auditor_.has_value(); }

 private:
  explicit Policy(config::Config cfg) : cfg_(std::move(cfg)) {}
  // Whether findings of an exchange that went to `host` over `conn` alert.
  bool alerting(const config::ConnectionFacts& conn, std::string_view host) const;
  // The process answer with its command line redacted: made once per answer,
  // not per record (the answer itself is shared, see ProcessContext).
  std::shared_ptr<const ProcessInfo> redacted(const std::shared_ptr<const ProcessInfo>& p) const;

  config::Config cfg_;
  std::optional<Auditor> auditor_;
  std::optional<Redactor> redactor_;
  // Answer -> (the answer, held so its address is not reused; its redacted form).
  static constexpr size_t kRedactedCacheSize = 1024;
  mutable std::unordered_map<const ProcessInfo*, std::pair<std::shared_ptr<const ProcessInfo>,
                                                           std::shared_ptr<const ProcessInfo>>>
      redacted_;
};

// Keeps what `level` keeps of an exchange (summary: no headers, trailers or
// bodies; headers: no bodies); bodies beyond `max_body` are cut, marked
// truncated, their full size kept.
void apply_capture_level(HttpExchange& ex, config::CaptureLevel level, std::optional<uint64_t> max_body);

// Secrets on a command line: the value after a sensitive "Name:" or
// "--name=" word (curl -H 'Authorization: ...', --password=...), and the
// password of -u/--user user:password, up to the next option.
void redact_cmdline(std::string& cmdline, const Redactor& r);

// The HTTP Host, or HTTP/2's :authority; empty when the request has neither.
std::string_view request_host(const HttpExchange& ex);

}  // namespace qtap
