// YAML -> Config. Every value is checked where it is read; problems are
// collected (not thrown) with the line and the dotted path of the field, so
// one run shows every mistake in the file.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <set>

#include "config/config.h"

namespace qtap::config {

namespace {

constexpr size_t kMaxErrors = 20;
constexpr size_t kMaxRules = 1024;
constexpr size_t kMaxFileBytes = 1 << 20;
constexpr uint32_t kMaxPid = 4194304;  // PID_MAX_LIMIT on 64-bit kernels
constexpr uint64_t kMaxBodyLimit = uint64_t{1} << 30;

template <typename T>
struct Named {
  std::string_view name;
  T value;
};

constexpr std::array<Named<CaptureLevel>, 4> kLevels{{{"none", CaptureLevel::kNone},
                                                      {"summary", CaptureLevel::kSummary},
                                                      {"headers", CaptureLevel::kHeaders},
                                                      {"full", CaptureLevel::kFull}}};
constexpr std::array<Named<DirectionFilter>, 4> kDirections{
    {{"all", DirectionFilter::kAll},
     {"egress", DirectionFilter::kEgress},
     {"ingress", DirectionFilter::kIngress},
     {"egress-external", DirectionFilter::kEgressExternal}}};
constexpr std::array<Named<OutputFormat>, 2> kFormats{
    {{"console", OutputFormat::kConsole}, {"json", OutputFormat::kJson}}};
constexpr std::array<Named<int>, 4> kTlsLibraries{
    {{"openssl", 0}, {"go", 1}, {"gnutls", 2}, {"nss", 3}}};
constexpr std::array<Named<int>, 4> kLogLevels{
    {{"debug", 0}, {"info", 1}, {"warn", 2}, {"error", 3}}};
constexpr std::array<Named<Detector>, kDetectorCount> make_detector_table() {
  std::array<Named<Detector>, kDetectorCount> t{};
  for (size_t i = 0; i < kDetectorCount; ++i) t[i] = {kDetectorNames[i], static_cast<Detector>(i)};
  return t;
}
constexpr auto kDetectors = make_detector_table();

template <typename T, size_t N>
std::string alternatives(const std::array<Named<T>, N>& table) {
  std::string out;
  for (const auto& e : table) {
    if (!out.empty()) out += '|';
    out += e.name;
  }
  return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

bool is_plain(const YAML::Node& n) { return n.Tag() == "?"; }

bool looks_numeric(std::string_view s) {
  if (s.starts_with('-') || s.starts_with('+')) s.remove_prefix(1);
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// The "got ..." part of a message.
std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  const std::string& s = n.Scalar();
  if (is_plain(n) && (looks_numeric(s) || s == "true" || s == "false")) return s;
  std::string shown;
  for (char c : s.substr(0, 60)) {
    if (c == '\n') {
      shown += "\\n";
    } else if (c == '"' || c == '\\') {
      shown += '\\';
      shown += c;
    } else {
      shown += c;
    }
  }
  if (s.size() > 60) shown += "...";
  return fmt::format("\"{}\"", shown);
}

// An HTTP field name (RFC 9110 token).
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

Result<void> re2_syntax_check(std::string_view regex) {
  auto re = compile_regex(regex, Pattern::Case::kSensitive);
  if (!re) return re.error();
  return {};
}

// Where a value sits: its path for messages and its line. A missing value
// (`key:` with nothing after it) reports the key's line: yaml-cpp marks an
// empty value on the line after it.
struct At {
  std::string path;
  int line = 0;

  At key(std::string_view k, const YAML::Node& value, int key_line) const {
    return At{path.empty() ? std::string(k) : fmt::format("{}.{}", path, k),
              line_of(value, key_line)};
  }
  At index(size_t i, const YAML::Node& item) const {
    return At{fmt::format("{}[{}]", path, i), line_of(item, line)};
  }
  static int line_of(const YAML::Node& n, int fallback) {
    if (!n.IsDefined() || n.IsNull() || n.Mark().is_null()) return fallback;
    return n.Mark().line + 1;
  }
};

class Parser {
 public:
  Parser(std::string_view source, const ParseOptions& options)
      : source_(source), options_(options) {}

  Result<Config> run(std::string_view text);

 private:
  void error(const At& at, std::string_view msg) {
    ++error_count_;
    if (errors_.size() >= kMaxErrors) return;
    if (at.path.empty()) {
      errors_.push_back(fmt::format("{}:{}: {}", source_, at.line, msg));
    } else {
      errors_.push_back(fmt::format("{}:{}: {}: {}", source_, at.line, at.path, msg));
    }
  }
  void expected(const At& at, std::string_view what, const YAML::Node& got) {
    error(at, fmt::format("expected {}, got {}", what, describe(got)));
  }

  // Calls on_key(key, value, at) for each entry of a mapping; rejects
  // non-mappings, duplicate keys and keys not in `known`.
  void walk_map(
      const YAML::Node& map, const At& at, std::initializer_list<std::string_view> known,
      const std::function<void(const std::string&, const YAML::Node&, const At&)>& on_key);
  void unknown_key(const At& at, std::string_view key,
                   std::initializer_list<std::string_view> known);

  std::optional<std::string> read_string(const YAML::Node& n, const At& at);
  std::optional<bool> read_bool(const YAML::Node& n, const At& at);
  std::optional<uint64_t> read_uint(const YAML::Node& n, const At& at, uint64_t min, uint64_t max);
  template <typename T, size_t N>
  std::optional<T> read_enum(const YAML::Node& n, const At& at,
                             const std::array<Named<T>, N>& table);
  // A single value or a list of them; `item` reads one. Returns false on any
  // error. An empty list is an error unless allow_empty.
  template <typename T, typename F>
  bool read_list(const YAML::Node& n, const At& at, std::vector<T>& out, F&& item,
                 bool allow_empty = false);

  std::optional<Pattern> read_pattern(const YAML::Node& n, const At& at, Pattern::Case c);
  std::optional<PortRange> read_port(const YAML::Node& n, const At& at);
  std::optional<Cidr> read_cidr(const YAML::Node& n, const At& at);
  bool read_patterns(const YAML::Node& n, const At& at, std::vector<Pattern>& out,
                     Pattern::Case c = Pattern::Case::kSensitive, bool allow_empty = false);
  bool read_numbers(const YAML::Node& n, const At& at, std::vector<uint32_t>& out, uint32_t min,
                    uint32_t max);

  void read_top(const YAML::Node& root, Config& cfg);
  void read_rules(const YAML::Node& n, const At& at, CapturePolicy& policy);
  std::optional<FilterRule> read_rule(const YAML::Node& n, const At& at);
  void read_match(const YAML::Node& n, const At& at, RuleMatch& m);
  void read_labels(const YAML::Node& n, const At& at, std::vector<LabelMatch>& out);
  void read_redaction(const YAML::Node& n, const At& at, RedactionSettings& r);
  void read_audit(const YAML::Node& n, const At& at, AuditSettings& a);

  std::string source_;
  const ParseOptions& options_;
  std::vector<std::string> errors_;
  size_t error_count_ = 0;
};

void Parser::walk_map(
    const YAML::Node& map, const At& at, std::initializer_list<std::string_view> known,
    const std::function<void(const std::string&, const YAML::Node&, const At&)>& on_key) {
  if (!map.IsMap()) {
    expected(at, "a mapping", map);
    return;
  }
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    // Copies: the iterator hands out a temporary pair (nodes are handles).
    const YAML::Node k = it->first;
    const YAML::Node value = it->second;
    int key_line = At::line_of(k, at.line);
    if (!k.IsScalar()) {
      error(At{at.path, key_line}, fmt::format("expected a plain key, got {}", describe(k)));
      continue;
    }
    const std::string& key = k.Scalar();
    At child = at.key(key, value, key_line);
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      unknown_key(At{child.path, key_line}, key, known);
      continue;
    }
    if (!seen.insert(key).second) {
      error(At{child.path, key_line}, "duplicate key");
      continue;
    }
    on_key(key, value, child);
  }
}

void Parser::unknown_key(const At& at, std::string_view key,
                         std::initializer_list<std::string_view> known) {
  std::string_view best;
  size_t best_d = SIZE_MAX;
  for (std::string_view k : known) {
    size_t d = edit_distance(key, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  if (best_d <= 2 && best_d < key.size()) {
    error(at, fmt::format("unknown key; did you mean \"{}\"?", best));
    return;
  }
  std::string list;
  for (std::string_view k : known) {
    if (!list.empty()) list += ", ";
    list += k;
  }
  error(at, fmt::format("unknown key; expected one of: {}", list));
}

std::optional<std::string> Parser::read_string(const YAML::Node& n, const At& at) {
  if (!n.IsScalar() || n.Scalar().empty()) {
    expected(at, "a non-empty string", n);
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<bool> Parser::read_bool(const YAML::Node& n, const At& at) {
  // YAML 1.2 booleans only: "yes", "on", "y" are not (the Norway problem).
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  expected(at, "true or false", n);
  return std::nullopt;
}

std::optional<uint64_t> Parser::read_uint(const YAML::Node& n, const At& at, uint64_t min,
                                          uint64_t max) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    bool digits = !s.empty() && s.size() <= 19 &&
                  std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) {
      uint64_t v = std::stoull(s);
      if (v >= min && v <= max) return v;
    }
  }
  expected(at, fmt::format("a number {}-{}", min, max), n);
  return std::nullopt;
}

template <typename T, size_t N>
std::optional<T> Parser::read_enum(const YAML::Node& n, const At& at,
                                   const std::array<Named<T>, N>& table) {
  if (n.IsScalar()) {
    for (const auto& e : table) {
      if (n.Scalar() == e.name) return e.value;
    }
  }
  expected(at, alternatives(table), n);
  return std::nullopt;
}

template <typename T, typename F>
bool Parser::read_list(const YAML::Node& n, const At& at, std::vector<T>& out, F&& item,
                       bool allow_empty) {
  if (n.IsScalar()) {
    std::optional<T> v = item(n, at);
    if (!v) return false;
    out.push_back(std::move(*v));
    return true;
  }
  if (!n.IsSequence()) {
    expected(at, "a value or a list of values", n);
    return false;
  }
  if (n.size() == 0 && !allow_empty) {
    error(at, "expected at least one value, got an empty list");
    return false;
  }
  bool ok = true;
  for (size_t i = 0; i < n.size(); ++i) {
    const YAML::Node& e = n[i];
    At item_at = at.index(i, e);
    if (!e.IsScalar()) {
      expected(item_at, "a single value", e);
      ok = false;
      continue;
    }
    std::optional<T> v = item(e, item_at);
    if (!v) {
      ok = false;
      continue;
    }
    out.push_back(std::move(*v));
  }
  return ok;
}

std::optional<Pattern> Parser::read_pattern(const YAML::Node& n, const At& at, Pattern::Case c) {
  auto s = read_string(n, at);
  if (!s) return std::nullopt;
  auto p = Pattern::parse(*s, c);
  if (!p) {
    error(at, p.error().message);
    return std::nullopt;
  }
  return std::move(*p);
}

std::optional<PortRange> Parser::read_port(const YAML::Node& n, const At& at) {
  if (!n.IsScalar()) {
    expected(at, "a port 1-65535 or a range like \"8000-8100\"", n);
    return std::nullopt;
  }
  auto r = PortRange::parse(n.Scalar());
  if (!r) {
    error(at, r.error().message);
    return std::nullopt;
  }
  return *r;
}

std::optional<Cidr> Parser::read_cidr(const YAML::Node& n, const At& at) {
  auto s = read_string(n, at);
  if (!s) return std::nullopt;
  auto c = Cidr::parse(*s);
  if (!c) {
    error(at, c.error().message);
    return std::nullopt;
  }
  return *c;
}

bool Parser::read_patterns(const YAML::Node& n, const At& at, std::vector<Pattern>& out,
                           Pattern::Case c, bool allow_empty) {
  return read_list(
      n, at, out, [&](const YAML::Node& e, const At& a) { return read_pattern(e, a, c); },
      allow_empty);
}

bool Parser::read_numbers(const YAML::Node& n, const At& at, std::vector<uint32_t>& out,
                          uint32_t min, uint32_t max) {
  return read_list(n, at, out, [&](const YAML::Node& e, const At& a) -> std::optional<uint32_t> {
    auto v = read_uint(e, a, min, max);
    if (!v) return std::nullopt;
    return static_cast<uint32_t>(*v);
  });
}

void Parser::read_top(const YAML::Node& root, Config& cfg) {
  SettingOverrides& s = cfg.settings;
  CapturePolicy& cap = cfg.capture;
  walk_map(root, At{"", 1},
           {"version", "log_level", "format", "output", "verbose", "pids", "ready_file", "max_body",
            "ringbuf_mb", "record", "color", "tls_libraries", "direction", "ignore_loopback", "default_capture",
            "filters", "redaction", "audit"},
           [&](const std::string& key, const YAML::Node& v, const At& at) {
             if (key == "version") {
               // Room for an incompatible format later; today there is one.
               if (!v.IsScalar() || v.Scalar() != "1") expected(at, "1", v);
             } else if (key == "log_level") {
               if (read_enum(v, at, kLogLevels)) s.log_level = v.Scalar();
             } else if (key == "format") {
               s.format = read_enum(v, at, kFormats);
             } else if (key == "output") {
               s.output = read_string(v, at);
             } else if (key == "verbose") {
               s.verbose = read_bool(v, at);
             } else if (key == "pids") {
               std::vector<uint32_t> pids;
               if (read_numbers(v, at, pids, 1, kMaxPid)) s.pids = std::move(pids);
             } else if (key == "ready_file") {
               s.ready_file = read_string(v, at);
             } else if (key == "max_body") {
               s.max_body = read_uint(v, at, 0, kMaxBodyLimit);
             } else if (key == "ringbuf_mb") {
               uint64_t mb = 0;
               bool ok = v.IsScalar() && !v.Scalar().empty() && v.Scalar().size() <= 4 &&
                         std::all_of(v.Scalar().begin(), v.Scalar().end(),
                                     [](char c) { return c >= '0' && c <= '9'; });
               if (ok) mb = std::stoull(v.Scalar());
               if (ok && mb >= 1 && mb <= 1024 && (mb & (mb - 1)) == 0) {
                 s.ringbuf_mb = static_cast<uint32_t>(mb);
               } else {
                 expected(at, "a power of two 1-1024", v);
               }
             } else if (key == "record") {
               s.record = read_string(v, at);
             } else if (key == "color") {
               s.color = read_bool(v, at);
             } else if (key == "tls_libraries") {
               if (!v.IsSequence()) {
                 expected(at, "a list of openssl, go, gnutls, nss", v);
                 return;
               }
               std::vector<std::string> libs;
               for (size_t i = 0; i < v.size(); ++i) {
                 if (read_enum(v[i], at.index(i, v[i]), kTlsLibraries)) libs.push_back(v[i].Scalar());
               }
               s.tls_libraries = std::move(libs);
             } else if (key == "direction") {
               if (auto d = read_enum(v, at, kDirections)) cap.direction = *d;
             } else if (key == "ignore_loopback") {
               if (auto b = read_bool(v, at)) cap.ignore_loopback = *b;
             } else if (key == "default_capture") {
               if (auto l = read_enum(v, at, kLevels)) cap.default_level = *l;
             } else if (key == "filters") {
               read_rules(v, at, cap);
             } else if (key == "redaction") {
               read_redaction(v, at, cfg.redaction);
             } else if (key == "audit") {
               read_audit(v, at, cfg.audit);
             }
           });
}

void Parser::read_rules(const YAML::Node& n, const At& at, CapturePolicy& policy) {
  if (!n.IsSequence()) {
    expected(at, "a list of rules", n);
    return;
  }
  if (n.size() > kMaxRules) {
    error(at, fmt::format("{} rules; at most {} are allowed", n.size(), kMaxRules));
    return;
  }
  std::optional<size_t> catch_all;
  for (size_t i = 0; i < n.size(); ++i) {
    At rule_at = at.index(i, n[i]);
    auto rule = read_rule(n[i], rule_at);
    if (!rule) continue;
    if (catch_all) {
      error(rule_at,
            fmt::format("unreachable: {}[{}] before it matches everything", at.path, *catch_all));
    } else if (rule->match.matches_everything()) {
      catch_all = i;
    }
    policy.rules.push_back(std::move(*rule));
  }
}

std::optional<FilterRule> Parser::read_rule(const YAML::Node& n, const At& at) {
  FilterRule rule;
  rule.line = at.line;
  bool has_level = false, ok = true;
  std::optional<At> max_body_at;
  size_t before = error_count_;
  walk_map(n, at, {"name", "match", "capture", "max_body"},
           [&](const std::string& key, const YAML::Node& v, const At& a) {
             if (key == "name") {
               if (auto s = read_string(v, a)) rule.name = *s;
             } else if (key == "match") {
               read_match(v, a, rule.match);
             } else if (key == "capture") {
               if (auto l = read_enum(v, a, kLevels)) {
                 rule.level = *l;
                 has_level = true;
               } else {
                 ok = false;
               }
             } else if (key == "max_body") {
               rule.max_body = read_uint(v, a, 0, kMaxBodyLimit);
               max_body_at = a;
             }
           });
  if (!n.IsMap()) return std::nullopt;
  if (!has_level && ok) {
    error(at, fmt::format("missing \"capture\" ({})", alternatives(kLevels)));
  }
  if (has_level && rule.max_body && rule.level != CaptureLevel::kFull) {
    error(*max_body_at, fmt::format("only applies with capture: full (this rule has capture: {})",
                                    level_name(rule.level)));
  }
  if (error_count_ != before) return std::nullopt;
  return rule;
}

void Parser::read_match(const YAML::Node& n, const At& at, RuleMatch& m) {
  using C = Pattern::Case;
  walk_map(n, at,
           {"exe", "comm", "user", "uid", "pid", "cgroup", "container_id", "container_name",
            "container_image", "container_labels", "pod_name", "pod_namespace", "port",
            "local_port", "remote_port", "remote_address", "host"},
           [&](const std::string& key, const YAML::Node& v, const At& a) {
             auto port = [&](const YAML::Node& e, const At& ea) { return read_port(e, ea); };
             if (key == "exe") {
               read_patterns(v, a, m.exe);
             } else if (key == "comm") {
               read_patterns(v, a, m.comm);
             } else if (key == "user") {
               read_patterns(v, a, m.user);
             } else if (key == "uid") {
               read_numbers(v, a, m.uid, 0, 4294967294u);
             } else if (key == "pid") {
               read_numbers(v, a, m.pid, 1, kMaxPid);
             } else if (key == "cgroup") {
               read_patterns(v, a, m.cgroup);
             } else if (key == "container_id") {
               read_patterns(v, a, m.container_id);
             } else if (key == "container_name") {
               read_patterns(v, a, m.container_name);
             } else if (key == "container_image") {
               read_patterns(v, a, m.container_image);
             } else if (key == "container_labels") {
               read_labels(v, a, m.container_labels);
             } else if (key == "pod_name") {
               read_patterns(v, a, m.pod_name);
             } else if (key == "pod_namespace") {
               read_patterns(v, a, m.pod_namespace);
             } else if (key == "port") {
               read_list(v, a, m.port, port);
             } else if (key == "local_port") {
               read_list(v, a, m.local_port, port);
             } else if (key == "remote_port") {
               read_list(v, a, m.remote_port, port);
             } else if (key == "remote_address") {
               read_list(v, a, m.remote_address,
                         [&](const YAML::Node& e, const At& ea) { return read_cidr(e, ea); });
             } else if (key == "host") {
               read_patterns(v, a, m.host, C::kInsensitive);
             }
           });
}

void Parser::read_labels(const YAML::Node& n, const At& at, std::vector<LabelMatch>& out) {
  if (!n.IsMap()) {
    expected(at, "a mapping of label: value", n);
    return;
  }
  if (n.size() == 0) {
    error(at, "expected at least one label, got an empty mapping");
    return;
  }
  std::set<std::string> seen;
  for (auto it = n.begin(); it != n.end(); ++it) {
    // Copies: the iterator hands out a temporary pair (nodes are handles).
    const YAML::Node k = it->first;
    const YAML::Node value = it->second;
    int key_line = At::line_of(k, at.line);
    if (!k.IsScalar() || k.Scalar().empty()) {
      error(At{at.path, key_line}, fmt::format("expected a label name, got {}", describe(k)));
      continue;
    }
    At label_at{fmt::format("{}[\"{}\"]", at.path, k.Scalar()), At::line_of(value, key_line)};
    if (!seen.insert(k.Scalar()).second) {
      error(At{label_at.path, key_line}, "duplicate label");
      continue;
    }
    LabelMatch l;
    l.key = k.Scalar();
    if (read_patterns(value, label_at, l.values)) out.push_back(std::move(l));
  }
}

void Parser::read_redaction(const YAML::Node& n, const At& at, RedactionSettings& r) {
  walk_map(n, at, {"enabled", "headers", "header_patterns", "body_patterns"},
           [&](const std::string& key, const YAML::Node& v, const At& a) {
             if (key == "enabled") {
               if (auto b = read_bool(v, a)) r.enabled = *b;
             } else if (key == "headers") {
               std::vector<std::string> names;
               auto header = [&](const YAML::Node& e, const At& ea) -> std::optional<std::string> {
                 if (e.IsScalar() && is_token(e.Scalar())) return e.Scalar();
                 expected(ea, "a header name", e);
                 return std::nullopt;
               };
               if (read_list(v, a, names, header, true)) r.headers = std::move(names);
             } else if (key == "header_patterns") {
               std::vector<std::string> globs;
               auto glob = [&](const YAML::Node& e, const At& ea) -> std::optional<std::string> {
                 auto g = read_string(e, ea);
                 if (!g) return std::nullopt;
                 if (g->starts_with("re:") || g->starts_with("exact:")) {
                   expected(ea, "a glob like \"*token*\" (header_patterns take no re: or exact:)",
                            e);
                   return std::nullopt;
                 }
                 return g;
               };
               if (read_list(v, a, globs, glob, true)) r.header_patterns = std::move(globs);
             } else if (key == "body_patterns") {
               std::vector<std::string> regexes;
               auto body = [&](const YAML::Node& e, const At& ea) -> std::optional<std::string> {
                 if (!e.IsScalar() || !std::string_view(e.Scalar()).starts_with("re:")) {
                   expected(ea, "a regex written \"re:...\"", e);
                   return std::nullopt;
                 }
                 std::string regex = e.Scalar().substr(3);
                 if (regex.empty()) {
                   error(ea, "empty regex after \"re:\"");
                   return std::nullopt;
                 }
                 Result<void> ok = options_.body_regex_check ? options_.body_regex_check(regex)
                                                             : re2_syntax_check(regex);
                 if (!ok) {
                   error(ea, ok.error().message);
                   return std::nullopt;
                 }
                 return regex;
               };
               if (read_list(v, a, regexes, body, true)) r.body_patterns = std::move(regexes);
             }
           });
}

void Parser::read_audit(const YAML::Node& n, const At& at, AuditSettings& audit) {
  walk_map(n, at, {"enabled", "detectors", "alerts"},
           [&](const std::string& key, const YAML::Node& v, const At& a) {
             if (key == "enabled") {
               if (auto b = read_bool(v, a)) audit.enabled = *b;
             } else if (key == "detectors") {
               std::vector<Detector> ds;
               auto one = [&](const YAML::Node& e, const At& ea) {
                 return read_enum(e, ea, kDetectors);
               };
               if (read_list(v, a, ds, one, true)) {
                 audit.detectors.reset();
                 for (Detector d : ds) audit.detectors.set(static_cast<size_t>(d));
               }
             } else if (key == "alerts") {
               walk_map(v, a, {"public_egress", "allowed_domains"},
                        [&](const std::string& k2, const YAML::Node& v2, const At& a2) {
                          if (k2 == "public_egress") {
                            if (auto b = read_bool(v2, a2)) audit.alerts.public_egress = *b;
                          } else if (k2 == "allowed_domains") {
                            std::vector<Pattern> ps;
                            if (read_patterns(v2, a2, ps, Pattern::Case::kInsensitive, true)) {
                              audit.alerts.allowed_domains = std::move(ps);
                            }
                          }
                        });
             }
           });
}

Result<Config> Parser::run(std::string_view text) {
  Config cfg;
  cfg.source = source_;
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    int line = e.mark.is_null() ? 1 : e.mark.line + 1;
    return make_error(fmt::format("{}:{}: invalid YAML: {}", source_, line, e.msg));
  }
  if (docs.size() > 1) {
    return make_error(fmt::format("{}:{}: expected one YAML document, found {}", source_,
                                  At::line_of(docs[1], 1), docs.size()));
  }
  if (docs.empty() || docs[0].IsNull()) return cfg;  // empty file: every default
  read_top(docs[0], cfg);
  if (error_count_ > 0) {
    std::string msg;
    for (const std::string& e : errors_) {
      if (!msg.empty()) msg += '\n';
      msg += e;
    }
    if (error_count_ > errors_.size()) {
      msg += fmt::format("\n{}: {} more errors not shown", source_, error_count_ - errors_.size());
    }
    return make_error(std::move(msg));
  }
  return cfg;
}

}  // namespace

bool RuleMatch::matches_everything() const {
  return exe.empty() && comm.empty() && user.empty() && uid.empty() && pid.empty() &&
         cgroup.empty() && container_id.empty() && container_name.empty() &&
         container_image.empty() && container_labels.empty() && pod_name.empty() &&
         pod_namespace.empty() && port.empty() && local_port.empty() && remote_port.empty() &&
         remote_address.empty() && host.empty();
}

bool AuditSettings::Alerts::domain_allowed(std::string_view host) const {
  std::string_view bare = host_without_port(host);
  if (bare.empty()) return false;
  for (const Pattern& p : allowed_domains) {
    if (p.matches(bare)) return true;
  }
  return false;
}

std::vector<std::string> AuditSettings::detector_names() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < kDetectorCount; ++i) {
    if (detectors.test(i)) out.emplace_back(kDetectorNames[i]);
  }
  return out;
}

const char* level_name(CaptureLevel l) {
  for (const auto& e : kLevels) {
    if (e.value == l) return e.name.data();
  }
  return "?";
}

const char* direction_filter_name(DirectionFilter d) {
  for (const auto& e : kDirections) {
    if (e.value == d) return e.name.data();
  }
  return "?";
}

const char* detector_name(Detector d) {
  for (const auto& e : kDetectors) {
    if (e.value == d) return e.name.data();
  }
  return "?";
}

std::optional<Detector> detector_from_name(std::string_view name) {
  for (const auto& e : kDetectors) {
    if (e.name == name) return e.value;
  }
  return std::nullopt;
}

Result<Config> parse_config(std::string_view text, std::string_view source_name,
                            const ParseOptions& options) noexcept {
  try {
    return Parser(source_name, options).run(text);
  } catch (const std::exception& e) {
    return make_error(fmt::format("{}: cannot parse: {}", source_name, e.what()));
  } catch (...) {
    return make_error(fmt::format("{}: cannot parse", source_name));
  }
}

Result<Config> load_config(const std::string& path, const ParseOptions& options) noexcept {
  try {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return make_error(fmt::format("cannot read config {}: {}", path, std::strerror(errno)));
    }
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      return make_error(fmt::format("cannot read config {}: {}", path, std::strerror(errno)));
    }
    if (!S_ISREG(st.st_mode)) {
      return make_error(fmt::format("cannot read config {}: not a regular file", path));
    }
    if (static_cast<uint64_t>(st.st_size) > kMaxFileBytes) {
      return make_error(
          fmt::format("cannot read config {}: larger than {} bytes", path, kMaxFileBytes));
    }
    std::string text;
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        return make_error(fmt::format("cannot read config {}: {}", path, std::strerror(errno)));
      }
      if (n == 0) break;
      text.append(buf, static_cast<size_t>(n));
      if (text.size() > kMaxFileBytes) {
        return make_error(
            fmt::format("cannot read config {}: larger than {} bytes", path, kMaxFileBytes));
      }
    }
    return parse_config(text, path, options);
  } catch (const std::exception& e) {
    return make_error(fmt::format("cannot read config {}: {}", path, e.what()));
  }
}

std::string config_path(std::string_view flag_value, const char* env_value) {
  if (!flag_value.empty()) return std::string(flag_value);
  if (env_value && *env_value) return env_value;
  return {};
}

}  // namespace qtap::config
