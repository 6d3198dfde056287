// Sensitive-data audit: looks for card numbers, IBANs, e-mail addresses,
// JWTs, private keys, cloud and chat tokens and random-looking secrets in the
// plaintext of an exchange, before redaction, and says where and how often.
// A Finding never holds the matched text, nor any part of it. Heuristics and
// costs: docs/audit.md.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "output/finding.h"
#include "protocols/http_model.h"

namespace qtap::audit {

// Detector names, in the order findings for one location are reported: the
// config's list (the names are config values).
inline constexpr const auto& kDetectorNames = config::kDetectorNames;

}  // namespace qtap::audit

namespace qtap {

struct AuditSettings {
  bool enabled = true;
  std::vector<std::string> detectors;  // names from audit::kDetectorNames; empty: all
};

// Not thread-safe: scan() reuses one Hyperscan scratch space and buffers
// allocated once. Use one Auditor per thread.
class Auditor {
 public:
  // Fails on an unknown detector name, or when Hyperscan cannot run here.
  static Result<Auditor> make(const AuditSettings& settings);

  Auditor(Auditor&&) noexcept;
  Auditor& operator=(Auditor&&) noexcept;
  ~Auditor();

  // Scanned: the request target ("request.url"); request and response header
  // values ("request.header:<name as sent>", "response.header:<name>"),
  // trailers ("response.trailer:<name>"); bodies that are UTF-8 text
  // ("request.body", "response.body"); decoded gRPC messages ("grpc.request",
  // "grpc.response"). One Finding per (detector, location), in that location
  // order, then detector order; empty when nothing was found or disabled.
  // `alert` is left false: whether a finding is alarming depends on where the
  // exchange went, which the caller knows.
  std::vector<Finding> scan(const HttpExchange& ex) const;

 private:
  struct Impl;
  explicit Auditor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace qtap
