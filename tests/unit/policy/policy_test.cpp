// The policy stage: capture levels, audit alerts, redaction of exchanges and
// of command lines, and the config's rules deciding what is reported.
#include "policy/policy.h"

#include <gtest/gtest.h>

#include "config/config.h"

namespace qtap {
namespace {

config::Config parse(std::string_view yaml) {
  auto c = config::parse_config(yaml, "test.yaml");
  EXPECT_TRUE(c) << (c ? "" : c.error().message);
  return c ? std::move(*c) : config::Config{};
}

std::unique_ptr<Policy> policy(std::string_view yaml, bool no_redact = false) {
  auto p = Policy::make(parse(yaml), no_redact);
  EXPECT_TRUE(p) << (p ? "" : p.error().message);
  return p ? std::move(*p) : nullptr;
}

HttpRecord record(std::string exe, std::string remote_ip, std::string body) {
  HttpRecord r;
  ProcessInfo& proc = r.process.edit();
  proc.pid = 42;
  proc.exe = std::move(exe);
  proc.comm = "client";
  proc.cmdline = "client -H Authorization: Bearer s3cr3t -d x";
  r.connection.local = Endpoint{"10.0.0.2", 40000};
  r.connection.remote = Endpoint{std::move(remote_ip), 443};
  r.connection.direction = Direction::kEgress;
  r.http.version = "HTTP/1.1";
  HttpRequest req;
  req.method = "POST";
  req.target = "/pay?id=7";
  req.headers = {{"Host", "api.example.com"}, {"Authorization", "Bearer s3cr3t"}, {"X-Trace", "t1"}};
  req.body.data = body;
  req.body.size = req.body.captured = body.size();
  r.http.request = std::move(req);
  HttpResponse resp;
  resp.status = 200;
  resp.headers = {{"Set-Cookie", "sid=abc"}, {"Content-Type", "text/plain"}};
  resp.body.data = "ok";
  resp.body.size = resp.body.captured = 2;
  r.http.response = std::move(resp);
  return r;
}

const std::string kCardBody = R"({"card":"4111 1111 1111 1111"})";

TEST(Policy, DefaultsRedactHeadersAndCmdlineAndAuditBeforeRedaction) {
  auto p = policy("");
  PolicyStats stats;
  HttpRecord r = record("/usr/bin/client", "10.0.0.1", kCardBody);
  ASSERT_TRUE(p->apply(r, stats));
  EXPECT_EQ(find_header(r.http.request->headers, "Authorization")->value, "[REDACTED]");
  EXPECT_EQ(find_header(r.http.response->headers, "Set-Cookie")->value, "[REDACTED]");
  EXPECT_EQ(find_header(r.http.request->headers, "X-Trace")->value, "t1");
  EXPECT_EQ(r.process->cmdline, "client -H Authorization: [REDACTED] -d x");
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].detector, "credit_card");
  EXPECT_EQ(r.findings[0].location, "request.body");
  EXPECT_FALSE(r.findings[0].alert) << "a private address, no allow-list";
  EXPECT_EQ(stats.findings, 1u);
  EXPECT_EQ(stats.alerts, 0u);
}

// Records of one process share the process cache's answer: redaction makes
// one redacted copy for all of them and leaves the shared answer as it was.
TEST(Policy, CmdlineRedactedOncePerProcessAnswerWhichStaysIntact) {
  auto p = policy("");
  PolicyStats stats;
  HttpRecord a = record("/usr/bin/client", "10.0.0.1", "x");
  HttpRecord b = record("/usr/bin/client", "10.0.0.1", "y");
  b.process.info = a.process.info;  // what the process cache hands out
  const std::shared_ptr<const ProcessInfo> shared = a.process.info;
  ASSERT_TRUE(p->apply(a, stats));
  ASSERT_TRUE(p->apply(b, stats));
  EXPECT_EQ(a.process->cmdline, "client -H Authorization: [REDACTED] -d x");
  EXPECT_EQ(a.process.info, b.process.info);
  EXPECT_EQ(shared->cmdline, "client -H Authorization: Bearer s3cr3t -d x");
  // Nothing to redact: the answer itself is passed on.
  HttpRecord c = record("/usr/bin/client", "10.0.0.1", "z");
  c.process.edit().cmdline = "client -d x";
  const auto plain = c.process.info;
  ASSERT_TRUE(p->apply(c, stats));
  EXPECT_EQ(c.process.info, plain);
}

TEST(Policy, NoRedactKeepsSecrets) {
  auto p = policy("", true);
  PolicyStats stats;
  HttpRecord r = record("/usr/bin/client", "10.0.0.1", "x");
  ASSERT_TRUE(p->apply(r, stats));
  EXPECT_EQ(find_header(r.http.request->headers, "Authorization")->value, "Bearer s3cr3t");
  EXPECT_FALSE(p->redacting());
}

TEST(Policy, AlertsOnPublicEgressUnlessTheDomainIsAllowed) {
  PolicyStats stats;
  HttpRecord pub = record("/usr/bin/client", "93.184.216.34", kCardBody);
  ASSERT_TRUE(policy("")->apply(pub, stats));
  ASSERT_EQ(pub.findings.size(), 1u);
  EXPECT_TRUE(pub.findings[0].alert);
  EXPECT_EQ(stats.alerts, 1u);

  HttpRecord allowed = record("/usr/bin/client", "93.184.216.34", kCardBody);
  ASSERT_TRUE(policy("audit: {alerts: {allowed_domains: ['*.example.com']}}")->apply(allowed, stats));
  EXPECT_FALSE(allowed.findings.at(0).alert);

  // An allow-list makes other named destinations alert, private or not.
  HttpRecord other = record("/usr/bin/client", "10.0.0.1", kCardBody);
  ASSERT_TRUE(policy("audit: {alerts: {allowed_domains: ['*.corp.example']}}")->apply(other, stats));
  EXPECT_TRUE(other.findings.at(0).alert);

  HttpRecord off = record("/usr/bin/client", "93.184.216.34", kCardBody);
  ASSERT_TRUE(policy("audit: {alerts: {public_egress: false}}")->apply(off, stats));
  EXPECT_FALSE(off.findings.at(0).alert);
}

TEST(Policy, AuditDisabledFindsNothing) {
  PolicyStats stats;
  HttpRecord r = record("/usr/bin/client", "10.0.0.1", kCardBody);
  ASSERT_TRUE(policy("audit: {enabled: false}")->apply(r, stats));
  EXPECT_TRUE(r.findings.empty());
}

TEST(Policy, RulesDecideWhatIsReported) {
  auto p = policy(R"(
filters:
  - match: {exe: /usr/bin/curl}
    capture: none
  - match: {host: "*.example.com"}
    capture: summary
  - match: {exe: "/usr/bin/python3*"}
    capture: headers
  - match: {exe: /opt/small}
    capture: full
    max_body: 4
)");
  PolicyStats stats;
  HttpRecord curl = record("/usr/bin/curl", "10.0.0.1", "body");
  EXPECT_FALSE(p->apply(curl, stats));
  EXPECT_EQ(stats.dropped_records, 1u);

  HttpRecord summary = record("/usr/bin/other", "10.0.0.1", "body");  // Host api.example.com
  ASSERT_TRUE(p->apply(summary, stats));
  EXPECT_TRUE(summary.http.request->headers.empty());
  EXPECT_TRUE(summary.http.request->body.data.empty());
  EXPECT_EQ(summary.http.request->body.size, 4u);
  EXPECT_TRUE(summary.http.request->body.truncated);

  HttpRecord python = record("/usr/bin/python3.11", "10.0.0.1", "body");
  python.http.request->headers[0].value = "internal";  // no longer *.example.com
  ASSERT_TRUE(p->apply(python, stats));
  EXPECT_FALSE(python.http.request->headers.empty());
  EXPECT_TRUE(python.http.request->body.data.empty());

  HttpRecord small = record("/opt/small", "10.0.0.1", "0123456789");
  small.http.request->headers[0].value = "internal";
  ASSERT_TRUE(p->apply(small, stats));
  EXPECT_EQ(small.http.request->body.data, "0123");
  EXPECT_EQ(small.http.request->body.size, 10u);
  EXPECT_TRUE(small.http.request->body.truncated);
}

TEST(Policy, ConnectionRecordsFollowTheRulesWithoutAHost) {
  auto p = policy("filters: [{match: {remote_port: 443}, capture: none}]");
  PolicyStats stats;
  ConnectionRecord c;
  c.connection.remote = Endpoint{"10.0.0.1", 443};
  c.connection.direction = Direction::kEgress;
  EXPECT_FALSE(p->keep(c, stats));
  c.connection.remote.port = 80;
  EXPECT_TRUE(p->keep(c, stats));
}

TEST(Policy, TheTlsServerNameCountsAsHost) {
  auto p = policy("filters: [{match: {host: '*.internal'}, capture: none}]");
  PolicyStats stats;
  ConnectionRecord c;  // TLS that never showed HTTP: only the SNI names it
  c.connection.remote = Endpoint{"10.0.0.1", 443};
  c.connection.tls_sni = "db.internal";
  EXPECT_FALSE(p->keep(c, stats));
  c.connection.tls_sni = "db.example.com";
  EXPECT_TRUE(p->keep(c, stats));
}

TEST(RedactCmdline, CommonShapes) {
  auto r = Redactor::make(RedactionSettings{});
  ASSERT_TRUE(r);
  auto red = [&](std::string s) {
    redact_cmdline(s, *r);
    return s;
  };
  EXPECT_EQ(red("curl -u alice:pa55 https://x"), "curl -u alice:[REDACTED] https://x");
  EXPECT_EQ(red("curl -H Cookie: a=b; c=d -sS"), "curl -H Cookie: [REDACTED] -sS");
  EXPECT_EQ(red("tool --password=hunter2 --verbose"), "tool --password=[REDACTED] --verbose");
  EXPECT_EQ(red("tool --api-key=k1"), "tool --api-key=[REDACTED]");
  EXPECT_EQ(red("curl https://host:8443/path -o out"), "curl https://host:8443/path -o out");
  EXPECT_EQ(red("python3 server.py 0 127.0.0.1"), "python3 server.py 0 127.0.0.1");
  EXPECT_EQ(red(""), "");
}

}  // namespace
}  // namespace qtap
