#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "config/config.h"

namespace qtap::config {
namespace {

Config parse_ok(std::string_view yaml) {
  auto r = parse_config(yaml, "qtap.yaml");
  EXPECT_TRUE(r) << r.error().message;
  return r ? std::move(*r) : Config{};
}

std::string parse_err(std::string_view yaml) {
  auto r = parse_config(yaml, "qtap.yaml");
  EXPECT_FALSE(r) << "parsed: " << yaml;
  return r ? std::string() : r.error().message;
}

std::vector<std::string> texts(const std::vector<Pattern>& ps) {
  std::vector<std::string> out;
  for (const Pattern& p : ps) out.push_back(p.text());
  return out;
}

using Strings = std::vector<std::string>;

constexpr std::string_view kFull = R"(version: 1
log_level: debug
format: json
output: /var/log/qtap.jsonl
verbose: true
pids: [100, 200]
ready_file: /run/qtap.ready
max_body: 4096
ringbuf_mb: 64
record: /tmp/rec.qtap
color: false
direction: egress-external
ignore_loopback: true
default_capture: summary
filters:
  - name: drop-curl
    match:
      comm: curl
    capture: none
  - name: everything
    match:
      exe: ["/usr/bin/python3*", "re:.*/node"]
      comm: [python3]
      user: ["svc-*"]
      uid: [1000, 0]
      pid: 4242
      cgroup: /system.slice/app.service
      container_id: "0123456789ab*"
      container_name: web-1
      container_image: ["docker.io/library/nginx:*"]
      container_labels:
        app: web
        tier: [front, "edge*"]
      pod_name: "checkout-*"
      pod_namespace: prod
      port: 443
      local_port: ["8000-8100", 9000]
      remote_port: [80, 443]
      remote_address: ["10.0.0.0/8", "2001:db8::/32", 192.0.2.1]
      host: ["*.Example.com", api.internal]
    capture: full
    max_body: 65536
  - match: {}
    capture: headers
redaction:
  enabled: false
  headers: [X-Api-Key, Authorization]
  header_patterns: ["*session*"]
  body_patterns: ["re:\"password\":\"[^\"]*\"", "re:(?i)secret=\\w+"]
audit:
  enabled: false
  detectors: [jwt, credit_card]
  alerts:
    public_egress: false
    allowed_domains: ["*.corp.example", "partner.example"]
)";

TEST(ParseConfig, EveryKey) {
  Config c = parse_ok(kFull);
  EXPECT_EQ(c.source, "qtap.yaml");

  const SettingOverrides& s = c.settings;
  EXPECT_EQ(s.log_level, "debug");
  EXPECT_EQ(s.format, OutputFormat::kJson);
  EXPECT_EQ(s.output, "/var/log/qtap.jsonl");
  EXPECT_EQ(s.verbose, true);
  EXPECT_EQ(s.pids, (std::vector<uint32_t>{100, 200}));
  EXPECT_EQ(s.ready_file, "/run/qtap.ready");
  EXPECT_EQ(s.max_body, 4096u);
  EXPECT_EQ(s.ringbuf_mb, 64u);
  EXPECT_EQ(s.record, "/tmp/rec.qtap");
  EXPECT_EQ(s.color, false);

  const CapturePolicy& p = c.capture;
  EXPECT_EQ(p.direction, DirectionFilter::kEgressExternal);
  EXPECT_TRUE(p.ignore_loopback);
  EXPECT_EQ(p.default_level, CaptureLevel::kSummary);
  ASSERT_EQ(p.rules.size(), 3u);

  EXPECT_EQ(p.rules[0].name, "drop-curl");
  EXPECT_EQ(p.rules[0].line, 16);
  EXPECT_EQ(p.rules[0].level, CaptureLevel::kNone);
  EXPECT_EQ(texts(p.rules[0].match.comm), Strings{"curl"});
  EXPECT_FALSE(p.rules[0].max_body);

  const FilterRule& r = p.rules[1];
  EXPECT_EQ(r.name, "everything");
  EXPECT_EQ(r.line, 20);
  EXPECT_EQ(r.level, CaptureLevel::kFull);
  EXPECT_EQ(r.max_body, 65536u);
  const RuleMatch& m = r.match;
  EXPECT_EQ(texts(m.exe), (Strings{"/usr/bin/python3*", "re:.*/node"}));
  EXPECT_EQ(m.exe[1].kind(), Pattern::Kind::kRegex);
  EXPECT_EQ(texts(m.comm), Strings{"python3"});
  EXPECT_EQ(texts(m.user), Strings{"svc-*"});
  EXPECT_EQ(m.uid, (std::vector<uint32_t>{1000, 0}));
  EXPECT_EQ(m.pid, (std::vector<uint32_t>{4242}));
  EXPECT_EQ(texts(m.cgroup), Strings{"/system.slice/app.service"});
  EXPECT_EQ(texts(m.container_id), Strings{"0123456789ab*"});
  EXPECT_EQ(texts(m.container_name), Strings{"web-1"});
  EXPECT_EQ(texts(m.container_image), Strings{"docker.io/library/nginx:*"});
  ASSERT_EQ(m.container_labels.size(), 2u);
  EXPECT_EQ(m.container_labels[0].key, "app");
  EXPECT_EQ(texts(m.container_labels[0].values), Strings{"web"});
  EXPECT_EQ(m.container_labels[1].key, "tier");
  EXPECT_EQ(texts(m.container_labels[1].values), (Strings{"front", "edge*"}));
  EXPECT_EQ(texts(m.pod_name), Strings{"checkout-*"});
  EXPECT_EQ(texts(m.pod_namespace), Strings{"prod"});
  EXPECT_EQ(m.port, (std::vector<PortRange>{{443, 443}}));
  EXPECT_EQ(m.local_port, (std::vector<PortRange>{{8000, 8100}, {9000, 9000}}));
  EXPECT_EQ(m.remote_port, (std::vector<PortRange>{{80, 80}, {443, 443}}));
  ASSERT_EQ(m.remote_address.size(), 3u);
  EXPECT_EQ(m.remote_address[0].to_string(), "10.0.0.0/8");
  EXPECT_EQ(m.remote_address[1].to_string(), "2001:db8::/32");
  EXPECT_EQ(m.remote_address[2].to_string(), "192.0.2.1/32");
  EXPECT_EQ(texts(m.host), (Strings{"*.Example.com", "api.internal"}));
  EXPECT_TRUE(m.host[0].case_insensitive());
  EXPECT_FALSE(m.exe[0].case_insensitive());
  EXPECT_FALSE(m.matches_everything());

  EXPECT_TRUE(p.rules[2].match.matches_everything());
  EXPECT_EQ(p.rules[2].level, CaptureLevel::kHeaders);

  EXPECT_FALSE(c.redaction.enabled);
  EXPECT_EQ(c.redaction.headers, (Strings{"X-Api-Key", "Authorization"}));
  EXPECT_EQ(c.redaction.header_patterns, Strings{"*session*"});
  EXPECT_EQ(c.redaction.body_patterns, (Strings{"\"password\":\"[^\"]*\"", "(?i)secret=\\w+"}));

  EXPECT_FALSE(c.audit.enabled);
  EXPECT_EQ(c.audit.detectors.count(), 2u);
  EXPECT_TRUE(c.audit.has(Detector::kJwt));
  EXPECT_TRUE(c.audit.has(Detector::kCreditCard));
  EXPECT_FALSE(c.audit.has(Detector::kEmail));
  EXPECT_FALSE(c.audit.alerts.public_egress);
  EXPECT_EQ(texts(c.audit.alerts.allowed_domains), (Strings{"*.corp.example", "partner.example"}));
  EXPECT_TRUE(c.audit.alerts.domain_allowed("git.CORP.example:443"));
  EXPECT_TRUE(c.audit.alerts.domain_allowed("partner.example"));
  EXPECT_FALSE(c.audit.alerts.domain_allowed("corp.example"));
  EXPECT_FALSE(c.audit.alerts.domain_allowed(""));
  EXPECT_EQ(c.audit.detector_names(), (Strings{"credit_card", "jwt"}));
}

TEST(ParseConfig, EmptyFileIsEveryDefault) {
  for (std::string_view text : {"", "# only a comment\n", "---\n", "~\n"}) {
    Config c = parse_ok(text);
    EXPECT_EQ(c.settings, SettingOverrides{});
    EXPECT_EQ(c.capture.direction, DirectionFilter::kAll);
    EXPECT_FALSE(c.capture.ignore_loopback);
    EXPECT_EQ(c.capture.default_level, CaptureLevel::kFull);
    EXPECT_TRUE(c.capture.rules.empty());
    EXPECT_TRUE(c.redaction.enabled);
    EXPECT_EQ(c.redaction.headers,
              (Strings{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"}));
    EXPECT_EQ(c.redaction.header_patterns,
              (Strings{"*token*", "*secret*", "*api-key*", "*password*"}));
    EXPECT_TRUE(c.redaction.body_patterns.empty());
    EXPECT_TRUE(c.audit.enabled);
    EXPECT_EQ(c.audit.detectors.count(), kDetectorCount);
    EXPECT_EQ(c.audit.detector_names().size(), kDetectorCount);
    EXPECT_TRUE(c.audit.alerts.public_egress);
    EXPECT_TRUE(c.audit.alerts.allowed_domains.empty());
  }
}

TEST(ParseConfig, ScalarWhereAListIsAllowedAndQuotedNumbers) {
  Config c = parse_ok(
      "pids: 7\nmax_body: \"0\"\nfilters:\n  - match: {remote_port: \"8443\"}\n"
      "    capture: summary\n");
  EXPECT_EQ(c.settings.pids, (std::vector<uint32_t>{7}));
  EXPECT_EQ(c.settings.max_body, 0u);
  EXPECT_EQ(c.capture.rules[0].match.remote_port, (std::vector<PortRange>{{8443, 8443}}));
}

TEST(ParseConfig, RuleWithoutMatchIsCatchAll) {
  Config c = parse_ok("filters:\n  - match: {comm: a}\n    capture: full\n  - capture: none\n");
  ASSERT_EQ(c.capture.rules.size(), 2u);
  EXPECT_FALSE(c.capture.rules[0].match.matches_everything());
  EXPECT_TRUE(c.capture.rules[1].match.matches_everything());
  EXPECT_EQ(c.capture.rules[1].level, CaptureLevel::kNone);
  EXPECT_EQ(c.capture.rules[1].line, 4);
}

TEST(ParseConfig, EmptyListsAllowedWhereTheyMeanNothing) {
  Config c = parse_ok(
      "redaction: {headers: [], header_patterns: [], body_patterns: []}\n"
      "audit: {detectors: [], alerts: {allowed_domains: []}}\nfilters: []\n");
  EXPECT_TRUE(c.redaction.headers.empty());
  EXPECT_TRUE(c.redaction.header_patterns.empty());
  EXPECT_TRUE(c.audit.detectors.none());
  EXPECT_TRUE(c.capture.rules.empty());
}

// The parser's key list and the settings list are written separately: every
// setting must be a key the parser knows (a mapping is valid for none).
TEST(ParseConfig, EverySettingHasAKey) {
#define QTAP_X(type, name, def)                                                         \
  EXPECT_EQ(parse_err(#name ": {}\n").find("unknown key"), std::string::npos) << #name; \
  EXPECT_TRUE(parse_err(#name ": {}\n").starts_with("qtap.yaml:1: " #name ": expected")) << #name;
  QTAP_CONFIG_SETTINGS(QTAP_X)
#undef QTAP_X
}

TEST(ParseConfig, TlsLibraries) {
  auto c = parse_config("tls_libraries: [go, nss]\n", "qtap.yaml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->settings.tls_libraries, (std::vector<std::string>{"go", "nss"}));
  EXPECT_EQ(resolve_settings({}, {}).tls_libraries,
            (std::vector<std::string>{"openssl", "go", "gnutls", "nss"}));
}

TEST(ParseConfig, BodyRegexCheckIsTheCallers) {
  ParseOptions opts;
  std::vector<std::string> seen;
  opts.body_regex_check = [&](std::string_view re) -> Result<void> {
    seen.emplace_back(re);
    if (re == "(?<n>x)\\Z") return {};  // fine for Hyperscan, not for RE2
    return make_error("engine says no");
  };
  auto ok = parse_config("redaction:\n  body_patterns: [\"re:(?<n>x)\\\\Z\"]\n", "q.yaml", opts);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->redaction.body_patterns, Strings{"(?<n>x)\\Z"});
  auto bad = parse_config("redaction:\n  body_patterns:\n    - \"re:a\"\n", "q.yaml", opts);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "q.yaml:3: redaction.body_patterns[0]: engine says no");
  EXPECT_EQ(seen, (Strings{"(?<n>x)\\Z", "a"}));

  // Without a check, RE2's syntax is the judge.
  EXPECT_EQ(parse_err("redaction:\n  body_patterns: [\"re:(?<n>x)\"]\n"),
            "qtap.yaml:2: redaction.body_patterns[0]: invalid regex \"(?<n>x)\": invalid perl "
            "operator: (?<");
}

TEST(ParseConfig, Names) {
  EXPECT_STREQ(level_name(CaptureLevel::kNone), "none");
  EXPECT_STREQ(level_name(CaptureLevel::kHeaders), "headers");
  EXPECT_STREQ(direction_filter_name(DirectionFilter::kEgressExternal), "egress-external");
  EXPECT_STREQ(detector_name(Detector::kAwsAccessKey), "aws_access_key");
  EXPECT_STREQ(detector_name(Detector::kHighEntropy), "high_entropy");
  EXPECT_EQ(detector_from_name("gitlab_token"), Detector::kGitlabToken);
  EXPECT_EQ(detector_from_name("nope"), std::nullopt);
  for (size_t i = 0; i < kDetectorCount; ++i) {
    auto d = static_cast<Detector>(i);
    EXPECT_EQ(detector_from_name(detector_name(d)), d);
    EXPECT_EQ(detector_name(d), kDetectorNames[i]);
  }
}

// ---- errors: exact text, with the line ------------------------------------

struct ErrorCase {
  const char* yaml;
  const char* error;
};

TEST(ParseConfigErrors, SettingsTypesRangesEnums) {
  const ErrorCase cases[] = {
      {"version: 2\n", "qtap.yaml:1: version: expected 1, got 2"},
      {"log_level: verbose\n",
       "qtap.yaml:1: log_level: expected debug|info|warn|error, got \"verbose\""},
      {"format: xml\n", "qtap.yaml:1: format: expected console|json, got \"xml\""},
      {"output: \"\"\n", "qtap.yaml:1: output: expected a non-empty string, got \"\""},
      {"output:\n", "qtap.yaml:1: output: expected a non-empty string, got nothing"},
      {"output: [a]\n", "qtap.yaml:1: output: expected a non-empty string, got a list"},
      {"verbose: yes\n", "qtap.yaml:1: verbose: expected true or false, got \"yes\""},
      {"verbose: 1\n", "qtap.yaml:1: verbose: expected true or false, got 1"},
      {"color: {a: 1}\n", "qtap.yaml:1: color: expected true or false, got a mapping"},
      {"pids: [1, x]\n", "qtap.yaml:1: pids[1]: expected a number 1-4194304, got \"x\""},
      {"pids: 0\n", "qtap.yaml:1: pids: expected a number 1-4194304, got 0"},
      {"pids: []\n", "qtap.yaml:1: pids: expected at least one value, got an empty list"},
      {"pids: [[1]]\n", "qtap.yaml:1: pids[0]: expected a single value, got a list"},
      {"pids: {a: 1}\n", "qtap.yaml:1: pids: expected a value or a list of values, got a mapping"},
      {"ready_file: \"\"\n", "qtap.yaml:1: ready_file: expected a non-empty string, got \"\""},
      {"max_body: -1\n", "qtap.yaml:1: max_body: expected a number 0-1073741824, got -1"},
      {"max_body: 1073741825\n",
       "qtap.yaml:1: max_body: expected a number 0-1073741824, got 1073741825"},
      {"max_body: 1MiB\n", "qtap.yaml:1: max_body: expected a number 0-1073741824, got \"1MiB\""},
      {"max_body: 99999999999999999999999\n",
       "qtap.yaml:1: max_body: expected a number 0-1073741824, got 99999999999999999999999"},
      {"ringbuf_mb: 3\n", "qtap.yaml:1: ringbuf_mb: expected a power of two 1-1024, got 3"},
      {"ringbuf_mb: 2048\n", "qtap.yaml:1: ringbuf_mb: expected a power of two 1-1024, got 2048"},
      {"ringbuf_mb: 0\n", "qtap.yaml:1: ringbuf_mb: expected a power of two 1-1024, got 0"},
      {"tls_libraries: openssl\n",
       "qtap.yaml:1: tls_libraries: expected a list of openssl, go, gnutls, nss, got \"openssl\""},
      {"tls_libraries: [go, boringssl]\n",
       "qtap.yaml:1: tls_libraries[1]: expected openssl|go|gnutls|nss, got \"boringssl\""},
      {"record: ~\n", "qtap.yaml:1: record: expected a non-empty string, got nothing"},
      {"direction: out\n",
       "qtap.yaml:1: direction: expected all|egress|ingress|egress-external, got \"out\""},
      {"ignore_loopback: on\n", "qtap.yaml:1: ignore_loopback: expected true or false, got \"on\""},
      {"default_capture: all\n",
       "qtap.yaml:1: default_capture: expected none|summary|headers|full, got \"all\""},
      {"filters: {a: 1}\n", "qtap.yaml:1: filters: expected a list of rules, got a mapping"},
      {"redaction: true\n", "qtap.yaml:1: redaction: expected a mapping, got true"},
      {"audit: [1]\n", "qtap.yaml:1: audit: expected a mapping, got a list"},
  };
  for (const ErrorCase& c : cases) EXPECT_EQ(parse_err(c.yaml), c.error) << c.yaml;
}

TEST(ParseConfigErrors, LineNumbersPointAtTheValue) {
  EXPECT_EQ(parse_err("# comment\n\nlog_level: info\nformat:\n  - json\n"),
            "qtap.yaml:5: format: expected console|json, got a list");
  // An empty value reports the key's line (yaml-cpp marks it on the next one).
  EXPECT_EQ(parse_err("log_level:\nformat: json\n"),
            "qtap.yaml:1: log_level: expected debug|info|warn|error, got nothing");
}

// The error from the issue, verbatim shape.
TEST(ParseConfigErrors, PortInAFilter) {
  std::string yaml =
      "log_level: info\n"       // 1
      "filters:\n"              // 2
      "  - match: {comm: a}\n"  // 3
      "    capture: none\n"     // 4
      "  - match:\n"            // 5
      "      comm: b\n"         // 6
      "    capture: none\n"     // 7
      "  - name: web\n"         // 8
      "    match:\n"            // 9
      "      comm: c\n"         // 10
      "      exe: /bin/c\n"     // 11
      "      port: http\n"      // 12
      "    capture: full\n";    // 13
  EXPECT_EQ(parse_err(yaml),
            "qtap.yaml:12: filters[2].match.port: expected a port 1-65535 or a range like "
            "\"8000-8100\", got \"http\"");
}

TEST(ParseConfigErrors, MatchFields) {
  auto in_match = [](const std::string& field) {
    return "filters:\n  - capture: none\n    match:\n      " + field + "\n";
  };
  const std::pair<std::string, std::string> cases[] = {
      {"port: 0",
       "qtap.yaml:4: filters[0].match.port: expected a port 1-65535 or a range like "
       "\"8000-8100\", got \"0\""},
      {"local_port: [80, 70000]",
       "qtap.yaml:4: filters[0].match.local_port[1]: expected a port 1-65535 or a range like "
       "\"8000-8100\", got \"70000\""},
      {"remote_port: \"9-1\"",
       "qtap.yaml:4: filters[0].match.remote_port: port range \"9-1\" ends before it starts"},
      {"remote_port: {a: 1}",
       "qtap.yaml:4: filters[0].match.remote_port: expected a value or a list of values, got a "
       "mapping"},
      {"remote_address: 10.0.0.0/33",
       "qtap.yaml:4: filters[0].match.remote_address: prefix length /33 is longer than 32 bits in "
       "\"10.0.0.0/33\""},
      {"remote_address: [10.0.0.0/8, 10.1.0.0/8]",
       "qtap.yaml:4: filters[0].match.remote_address[1]: \"10.1.0.0/8\" has host bits set; did you "
       "mean \"10.0.0.0/8\"?"},
      {"remote_address: example.com",
       "qtap.yaml:4: filters[0].match.remote_address: expected an IP address or CIDR, got "
       "\"example.com\""},
      {"exe: \"re:(\"", "qtap.yaml:4: filters[0].match.exe: invalid regex \"(\": missing ): ("},
      {"comm: [ok, \"re:a{2,1}\"]",
       "qtap.yaml:4: filters[0].match.comm[1]: invalid regex \"a{2,1}\": invalid repetition "
       "size: {2,1}"},
      {"user: \"\"", "qtap.yaml:4: filters[0].match.user: expected a non-empty string, got \"\""},
      {"user: []",
       "qtap.yaml:4: filters[0].match.user: expected at least one value, got an empty list"},
      {"uid: -1", "qtap.yaml:4: filters[0].match.uid: expected a number 0-4294967294, got -1"},
      {"uid: root",
       "qtap.yaml:4: filters[0].match.uid: expected a number 0-4294967294, got \"root\""},
      {"pid: [1, 0]", "qtap.yaml:4: filters[0].match.pid[1]: expected a number 1-4194304, got 0"},
      {"cgroup: \"exact:\"",
       "qtap.yaml:4: filters[0].match.cgroup: expected a value after \"exact:\""},
      {"container_id: \"re:\"",
       "qtap.yaml:4: filters[0].match.container_id: empty regex after \"re:\""},
      {"container_name: ~",
       "qtap.yaml:4: filters[0].match.container_name: expected a value or a list of values, got "
       "nothing"},
      {"container_image: [[a]]",
       "qtap.yaml:4: filters[0].match.container_image[0]: expected a single value, got a list"},
      {"container_labels: [app=web]",
       "qtap.yaml:4: filters[0].match.container_labels: expected a mapping of label: value, got "
       "a list"},
      {"container_labels: {}",
       "qtap.yaml:4: filters[0].match.container_labels: expected at least one label, got an "
       "empty mapping"},
      {"container_labels: {app: \"re:[\"}",
       "qtap.yaml:4: filters[0].match.container_labels[\"app\"]: invalid regex \"[\": missing ]: "
       "["},
      {"container_labels: {app: a, app: b}",
       "qtap.yaml:4: filters[0].match.container_labels[\"app\"]: duplicate label"},
      {"pod_name: {a: b}",
       "qtap.yaml:4: filters[0].match.pod_name: expected a value or a list of values, got a "
       "mapping"},
      {"pod_namespace: \"\"",
       "qtap.yaml:4: filters[0].match.pod_namespace: expected a non-empty string, got \"\""},
      {"host: \"re:*.example.com\"",
       "qtap.yaml:4: filters[0].match.host: invalid regex \"*.example.com\": no argument for "
       "repetition operator: *"},
  };
  for (const auto& [field, error] : cases) EXPECT_EQ(parse_err(in_match(field)), error) << field;
}

TEST(ParseConfigErrors, Rules) {
  const ErrorCase cases[] = {
      {"filters:\n  - match: {comm: a}\n",
       "qtap.yaml:2: filters[0]: missing \"capture\" (none|summary|headers|full)"},
      {"filters:\n  - capture: everything\n",
       "qtap.yaml:2: filters[0].capture: expected none|summary|headers|full, got \"everything\""},
      {"filters:\n  - capture: headers\n    max_body: 10\n",
       "qtap.yaml:3: filters[0].max_body: only applies with capture: full (this rule has capture: "
       "headers)"},
      {"filters:\n  - capture: full\n    max_body: big\n",
       "qtap.yaml:3: filters[0].max_body: expected a number 0-1073741824, got \"big\""},
      {"filters:\n  - curl\n", "qtap.yaml:2: filters[0]: expected a mapping, got \"curl\""},
      {"filters:\n  - capture: none\n    match: curl\n",
       "qtap.yaml:3: filters[0].match: expected a mapping, got \"curl\""},
      {"filters:\n  - capture: none\n    name: \"\"\n",
       "qtap.yaml:3: filters[0].name: expected a non-empty string, got \"\""},
      {"filters:\n  - capture: none\n  - match: {comm: x}\n    capture: full\n",
       "qtap.yaml:3: filters[1]: unreachable: filters[0] before it matches everything"},
      {"filters:\n  - capture: none\n    capture: full\n",
       "qtap.yaml:3: filters[0].capture: duplicate key"},
  };
  for (const ErrorCase& c : cases) EXPECT_EQ(parse_err(c.yaml), c.error) << c.yaml;
}

TEST(ParseConfigErrors, RedactionAndAudit) {
  const ErrorCase cases[] = {
      {"redaction:\n  enabled: 1\n",
       "qtap.yaml:2: redaction.enabled: expected true or false, got 1"},
      {"redaction:\n  headers: [\"Bad Header\"]\n",
       "qtap.yaml:2: redaction.headers[0]: expected a header name, got \"Bad Header\""},
      {"redaction:\n  header_patterns: [\"*key*\", \"re:.*key\"]\n",
       "qtap.yaml:2: redaction.header_patterns[1]: expected a glob like \"*token*\" "
       "(header_patterns take no re: or exact:), got \"re:.*key\""},
      {"redaction:\n  header_patterns: \"\"\n",
       "qtap.yaml:2: redaction.header_patterns: expected a non-empty string, got \"\""},
      {"redaction:\n  body_patterns: [\"re:\"]\n",
       "qtap.yaml:2: redaction.body_patterns[0]: empty regex after \"re:\""},
      {"redaction:\n  body_patterns: [password]\n",
       "qtap.yaml:2: redaction.body_patterns[0]: expected a regex written \"re:...\", got "
       "\"password\""},
      {"redaction:\n  body_patterns: [\"re:a)\"]\n",
       "qtap.yaml:2: redaction.body_patterns[0]: invalid regex \"a)\": unexpected ): a)"},
      {"audit:\n  detectors: [jwt, ssn]\n",
       "qtap.yaml:2: audit.detectors[1]: expected credit_card|iban|email|jwt|private_key|"
       "aws_access_key|github_token|gitlab_token|slack_token|high_entropy, got \"ssn\""},
      {"audit:\n  alerts:\n    public_egress: maybe\n",
       "qtap.yaml:3: audit.alerts.public_egress: expected true or false, got \"maybe\""},
      {"audit:\n  alerts:\n    allowed_domains: \"\"\n",
       "qtap.yaml:3: audit.alerts.allowed_domains: expected a non-empty string, got \"\""},
      {"audit:\n  alerts: []\n", "qtap.yaml:2: audit.alerts: expected a mapping, got a list"},
  };
  for (const ErrorCase& c : cases) EXPECT_EQ(parse_err(c.yaml), c.error) << c.yaml;
}

TEST(ParseConfigErrors, UnknownKeysAtEveryLevel) {
  const ErrorCase cases[] = {
      {"log_lvl: info\n", "qtap.yaml:1: log_lvl: unknown key; did you mean \"log_level\"?"},
      {"colour: true\n", "qtap.yaml:1: colour: unknown key; did you mean \"color\"?"},
      {"filters:\n  - capture: none\n    matches: {}\n",
       "qtap.yaml:3: filters[0].matches: unknown key; did you mean \"match\"?"},
      {"filters:\n  - capture: none\n    match:\n      exee: /bin/sh\n",
       "qtap.yaml:4: filters[0].match.exee: unknown key; did you mean \"exe\"?"},
      {"filters:\n  - capture: none\n    match:\n      image: nginx\n",
       "qtap.yaml:4: filters[0].match.image: unknown key; expected one of: exe, comm, user, uid, "
       "pid, cgroup, container_id, container_name, container_image, container_labels, pod_name, "
       "pod_namespace, port, local_port, remote_port, remote_address, host"},
      {"redaction:\n  enable: true\n",
       "qtap.yaml:2: redaction.enable: unknown key; did you mean \"enabled\"?"},
      {"audit:\n  detector: [jwt]\n",
       "qtap.yaml:2: audit.detector: unknown key; did you mean \"detectors\"?"},
      {"audit:\n  alerts:\n    slack: true\n",
       "qtap.yaml:3: audit.alerts.slack: unknown key; expected one of: public_egress, "
       "allowed_domains"},
      {"x: 1\n",
       "qtap.yaml:1: x: unknown key; expected one of: version, log_level, format, output, "
       "verbose, pids, ready_file, max_body, ringbuf_mb, record, color, tls_libraries, direction, "
       "ignore_loopback, default_capture, filters, redaction, audit"},
      {"? [a]\n: 1\n", "qtap.yaml:1: expected a plain key, got a list"},
  };
  for (const ErrorCase& c : cases) EXPECT_EQ(parse_err(c.yaml), c.error) << c.yaml;
}

TEST(ParseConfigErrors, DuplicateTopLevelKey) {
  EXPECT_EQ(parse_err("format: json\nverbose: true\nformat: console\n"),
            "qtap.yaml:3: format: duplicate key");
}

TEST(ParseConfigErrors, EveryErrorIsReportedInDocumentOrder) {
  EXPECT_EQ(parse_err("format: xml\nverbose: 2\nfilters:\n  - match: {prot: 1}\n"
                      "    capture: some\n"),
            "qtap.yaml:1: format: expected console|json, got \"xml\"\n"
            "qtap.yaml:2: verbose: expected true or false, got 2\n"
            "qtap.yaml:4: filters[0].match.prot: unknown key; did you mean \"port\"?\n"
            "qtap.yaml:5: filters[0].capture: expected none|summary|headers|full, got \"some\"");
}

TEST(ParseConfigErrors, AtMostTwentyErrorsShown) {
  std::string yaml;
  for (int i = 0; i < 25; ++i) yaml += "k" + std::to_string(i) + "xxxxxxxxxxxxxxxxxxxxxxx: 1\n";
  std::string err = parse_err(yaml);
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 20);
  EXPECT_TRUE(err.ends_with("\nqtap.yaml: 5 more errors not shown")) << err;
}

TEST(ParseConfigErrors, YamlSyntax) {
  EXPECT_EQ(parse_err("filters: [1, 2\nformat: json\n"),
            "qtap.yaml:2: invalid YAML: end of sequence flow not found");
  EXPECT_EQ(parse_err("a: 1\n b: 2\n"), "qtap.yaml:2: invalid YAML: illegal map value");
  EXPECT_EQ(parse_err("format: *nope\n"),
            "qtap.yaml:1: invalid YAML: the referenced anchor is not defined");
  EXPECT_EQ(parse_err("format: json\n---\nformat: console\n"),
            "qtap.yaml:3: expected one YAML document, found 2");
  EXPECT_EQ(parse_err("- a\n- b\n"), "qtap.yaml:1: expected a mapping, got a list");
  EXPECT_EQ(parse_err("just text\n"), "qtap.yaml:1: expected a mapping, got \"just text\"");
}

TEST(ParseConfigErrors, NeverThrowsOnOddInput) {
  // Binary junk, deep nesting, a NUL: an error or a config, never an exception.
  std::string deep(5000, '[');
  for (std::string_view text : {std::string_view("\xff\xfe\x00\x01", 4), std::string_view(deep),
                                std::string_view("format: \"\\x00\"\n")}) {
    auto r = parse_config(text, "odd.yaml");
    if (!r) {
      EXPECT_TRUE(r.error().message.starts_with("odd.yaml")) << r.error().message;
    }
  }
}

// ---- files ------------------------------------------------------------------

class TempFile {
 public:
  explicit TempFile(std::string_view content) {
    char tmpl[] = "/tmp/qtap-config-test-XXXXXX";
    int fd = mkstemp(tmpl);
    path_ = tmpl;
    if (fd >= 0) {
      (void)!write(fd, content.data(), content.size());
      close(fd);
    }
  }
  ~TempFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(LoadConfig, ReadsAndNamesTheFileInErrors) {
  TempFile good("format: json\n");
  auto c = load_config(good.path());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->source, good.path());
  EXPECT_EQ(c->settings.format, OutputFormat::kJson);

  TempFile bad("\nformat: yaml\n");
  auto e = load_config(bad.path());
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, bad.path() + ":2: format: expected console|json, got \"yaml\"");
}

TEST(LoadConfig, FileErrors) {
  auto missing = load_config("/nonexistent/qtap.yaml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "cannot read config /nonexistent/qtap.yaml: No such file or directory");
  auto dir = load_config("/tmp");
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().message, "cannot read config /tmp: not a regular file");
  TempFile big(std::string((1 << 20) + 1, '#'));
  auto b = load_config(big.path());
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().message, "cannot read config " + big.path() + ": larger than 1048576 bytes");
}

TEST(LoadConfig, TheDocumentedExampleIsValid) {
  auto c = load_config(QTAP_FIXTURES "/../../docs/qtap.example.yaml");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->capture.rules.size(), 13u);
  EXPECT_EQ(c->capture.rules[0].name, "no-monitoring");
  EXPECT_EQ(c->capture.rules[1].max_body, 65536u);
  EXPECT_EQ(c->redaction.body_patterns.size(), 1u);
  EXPECT_EQ(c->audit.detectors.count(), kDetectorCount);
}

TEST(ConfigPath, FlagThenEnvironment) {
  EXPECT_EQ(config_path("/etc/a.yaml", "/etc/b.yaml"), "/etc/a.yaml");
  EXPECT_EQ(config_path("", "/etc/b.yaml"), "/etc/b.yaml");
  EXPECT_EQ(config_path("", ""), "");
  EXPECT_EQ(config_path("", nullptr), "");
}

}  // namespace
}  // namespace qtap::config
