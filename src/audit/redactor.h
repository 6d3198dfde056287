// Redaction: secrets in an exchange are replaced by "[REDACTED]" before any
// sink sees it. On by default. What is replaced (docs/audit.md):
//  - values of headers (and trailers) whose name is in `headers` or matches
//    one of `header_patterns` (case-insensitive globs; HTTP/2's lowercase
//    names match the same way);
//  - values of query parameters with such names in the request target, in
//    Referer, Location and Content-Location values, and in request bodies sent
//    as application/x-www-form-urlencoded; the password of a URL's userinfo;
//  - whatever the `body_patterns` regexes match in bodies and in decoded
//    gRPC messages (which are otherwise left alone).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/hyperscan_db.h"
#include "audit/text_util.h"
#include "common/result.h"
#include "config/config.h"
#include "protocols/http_model.h"

namespace qtap {

inline constexpr std::string_view kRedacted = "[REDACTED]";

// What to redact: the config's settings as they are (src/config/config.h).
using RedactionSettings = config::RedactionSettings;

// apply() is const but reuses a scratch space: one Redactor per thread.
class Redactor {
 public:
  // Fails on an empty pattern or a body pattern Hyperscan cannot compile.
  static Result<Redactor> make(const RedactionSettings& settings);
  // Whether make() would accept `regex` as a body pattern; the error is
  // Hyperscan's sentence ("Missing close parenthesis for group started at
  // index 0."), for the config parser to place.
  static Result<void> check_body_pattern(std::string_view regex);

  // Allocates nothing when there is nothing to redact.
  void apply(HttpExchange& ex) const;

  // A header or parameter name whose value is a secret.
  bool sensitive_name(std::string_view name) const;

 private:
  using Span = std::pair<size_t, size_t>;
  Redactor() = default;

  void redact_headers(std::vector<Header>& headers) const;
  // sensitive_name() for a header name, remembered: a host's programs use a
  // few hundred names over and over, and the globs' scan was 4% of the
  // agent's CPU under load.
  bool sensitive_header(std::string_view name) const;
  // Query parameter values (and a userinfo password) in a URL or target.
  void redact_url(std::string& url) const;
  // Values of name=value pairs separated by '&' in s[begin, end).
  void redact_params(std::string& s, size_t begin, size_t end) const;
  bool sensitive_param(std::string_view encoded_name) const;
  // Body patterns. `json`: `text` is one JSON value that must stay valid.
  void redact_text(std::string& text, bool json) const;

  bool enabled_ = true;
  audit::NameMatcher sensitive_;  // `headers` and `header_patterns`
  std::optional<audit::HyperscanDb> body_db_;
  mutable std::vector<Span> spans_;  // match spans of the text being redacted
  struct NameVerdict {
    char name[30];
    uint8_t len = 0;  // 0: empty slot (an empty name is never remembered)
    bool sensitive = false;
  };
  static constexpr size_t kVerdicts = 256;  // direct-mapped by a hash of the name
  mutable std::array<NameVerdict, kVerdicts> verdicts_{};
};

}  // namespace qtap
