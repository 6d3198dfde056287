// What the sensitive-data audit (src/audit/auditor.h) reports: which detector
// fired where, and how often. Never the matched text, nor any part of it.
#pragma once

#include <cstdint>
#include <string>

namespace qtap {

struct Finding {
  std::string detector;  // "credit_card", "email", ... (docs/audit.md)
  // "request.url", "request.header:Authorization", "request.body",
  // "response.header:set-cookie", "response.trailer:x-token", "response.body",
  // "grpc.request", "grpc.response"; header names as sent.
  std::string location;
  uint32_t count = 0;  // matches at that location
  bool alert = false;  // the detector is one the operator asked to be alerted on

  bool operator==(const Finding&) const = default;
};

}  // namespace qtap
