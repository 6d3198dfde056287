// qtap's configuration file: what it can say (docs/config.md) and how it is
// read. Loading validates everything up front (types, ranges, enums, CIDRs,
// regexes, unknown keys) and compiles every pattern, so a Config that loaded
// is ready to use: decide() (capture_filter.h) and kernel_filter()
// (kernel_filter.h) take it as it is. A Config is immutable after loading and
// safe to share between threads; a reload builds a new one.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/address.h"
#include "config/pattern.h"
#include "config/settings.h"

namespace qtap::config {

// How much of a transaction is kept. Ordered: a higher level keeps more.
//   kNone     nothing: the connection/transaction is not reported
//   kSummary  the record without headers or bodies (method, path, status, sizes)
//   kHeaders  plus headers (and gRPC metadata), no bodies
//   kFull     plus bodies, up to max_body
enum class CaptureLevel : uint8_t { kNone, kSummary, kHeaders, kFull };
const char* level_name(CaptureLevel l);  // "none", ...

// The global `direction` setting, applied before any rule.
enum class DirectionFilter : uint8_t { kAll, kEgress, kIngress, kEgressExternal };
const char* direction_filter_name(DirectionFilter d);  // "all", ..., "egress-external"

// One container label condition: the label `key` exists and its value matches
// any of `values`.
struct LabelMatch {
  std::string key;
  std::vector<Pattern> values;
};

// The `match:` of a rule. An empty list is a field the rule does not use.
// A rule matches when every used field matches; a field matches when any of
// its values matches (container_labels: every label must match).
struct RuleMatch {
  // Process (ProcessInfo).
  std::vector<Pattern> exe;   // absolute path of the executable
  std::vector<Pattern> comm;  // kernel task name (15 chars at most)
  std::vector<Pattern> user;  // user name (or the uid as text when it has none)
  std::vector<uint32_t> uid;
  std::vector<uint32_t> pid;    // the process (thread group) id
  std::vector<Pattern> cgroup;  // cgroup path, e.g. "/system.slice/nginx.service"
  // Container (ContainerInfo); no container: these do not match.
  std::vector<Pattern> container_id;  // full 64-hex id; "0123abcd*" for a short id
  std::vector<Pattern> container_name;
  std::vector<Pattern> container_image;
  std::vector<LabelMatch> container_labels;
  std::vector<Pattern> pod_name;
  std::vector<Pattern> pod_namespace;
  // Connection.
  std::vector<PortRange> port;  // local OR remote port
  std::vector<PortRange> local_port;
  std::vector<PortRange> remote_port;
  std::vector<Cidr> remote_address;
  // Transaction: the HTTP Host / :authority or the TLS SNI (either matching is
  // enough), port removed, ASCII case ignored.
  std::vector<Pattern> host;

  bool matches_everything() const;  // no field used
};

struct FilterRule {
  std::string name;  // optional `name:`, for logs; empty if not given
  int line = 0;      // line of the rule in the file, for logs
  RuleMatch match;
  CaptureLevel level = CaptureLevel::kFull;
  std::optional<uint64_t> max_body;  // only with level kFull; nullopt: the global max_body
};

// Everything decide() needs.
struct CapturePolicy {
  DirectionFilter direction = DirectionFilter::kAll;
  bool ignore_loopback = false;
  CaptureLevel default_level = CaptureLevel::kFull;  // when no rule matches
  std::vector<FilterRule> rules;                     // first match wins
};

// Parsed and validated here, applied by src/audit/redactor.h as it is.
struct RedactionSettings {
  bool enabled = true;
  // Header names whose values are replaced, ASCII case ignored. A list in
  // the file replaces this default.
  std::vector<std::string> headers = {"Authorization", "Proxy-Authorization", "Cookie",
                                      "Set-Cookie"};
  // Globs ('*', '?') on header names, ASCII case ignored.
  std::vector<std::string> header_patterns = {"*token*", "*secret*", "*api-key*", "*password*"};
  // Regexes searched anywhere in bodies (Hyperscan syntax: PCRE without
  // backreferences or lookaround): written "re:..." in the file, held here
  // without the "re:". Checked by ParseOptions::body_regex_check.
  std::vector<std::string> body_patterns;
};

// Detectors of sensitive data. Append-only: the names are the config values
// and must equal audit::kDetectorNames (src/audit/auditor.h), in this order.
enum class Detector : uint8_t {
  kCreditCard,
  kIban,
  kEmail,
  kJwt,
  kPrivateKey,
  kAwsAccessKey,
  kGithubToken,
  kGitlabToken,
  kSlackToken,
  kHighEntropy,
  kCount
};
constexpr size_t kDetectorCount = static_cast<size_t>(Detector::kCount);
inline constexpr std::array<std::string_view, kDetectorCount> kDetectorNames = {
    "credit_card",    "iban",         "email",        "jwt",         "private_key",
    "aws_access_key", "github_token", "gitlab_token", "slack_token", "high_entropy",
};
using DetectorSet = std::bitset<kDetectorCount>;
const char* detector_name(Detector d);  // "credit_card", ...
std::optional<Detector> detector_from_name(std::string_view name);

struct AuditSettings {
  bool enabled = true;
  DetectorSet detectors = DetectorSet().set();  // all
  struct Alerts {
    bool public_egress = true;             // alert when a finding leaves for a public address
    std::vector<Pattern> allowed_domains;  // hosts exempt from alerts (host patterns)

    // The HTTP Host / :authority or SNI (port ignored) is one of
    // allowed_domains. An empty host is never allowed.
    bool domain_allowed(std::string_view host) const;
  } alerts;

  bool has(Detector d) const { return detectors.test(static_cast<size_t>(d)); }
  std::vector<std::string> detector_names() const;  // the enabled ones, in enum order
};

struct Config {
  std::string source;         // the name used in messages: the path, or a label
  SettingOverrides settings;  // what the file sets; resolve_settings() merges the CLI
  CapturePolicy capture;
  RedactionSettings redaction;
  AuditSettings audit;
};

// Checks one body regex with the engine that will run it (the app passes the
// Hyperscan compile of src/audit/); the error is the sentence after "path: ".
using RegexCheck = std::function<Result<void>(std::string_view regex)>;

struct ParseOptions {
  // Unset: RE2's syntax check, which accepts a little less than Hyperscan
  // (no \Z, no (?<name>...)) but catches the usual typos.
  RegexCheck body_regex_check;
};

// Parses YAML text. Errors: one line per problem, at most 20, each
// "<source>:<line>: <path>: <what>", e.g.
//   qtap.yaml:12: filters[2].match.port: expected a port 1-65535 ..., got "http"
// Never throws.
Result<Config> parse_config(std::string_view text, std::string_view source_name,
                            const ParseOptions& options = {}) noexcept;

// Reads and parses a file (a regular file of at most 1 MiB). Messages name the
// file as `path` was given. Never throws.
Result<Config> load_config(const std::string& path, const ParseOptions& options = {}) noexcept;

// The config file to use: the --config value when given, else $QTAP_CONFIG
// when set and not empty, else none (empty string: run without a file).
std::string config_path(std::string_view flag_value, const char* env_value);

}  // namespace qtap::config
