#include "audit/redactor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <nlohmann/json.hpp>

#include "audit/auditor.h"
#include "unit/audit/audit_fixtures.h"

// Counts heap allocations, to check that redaction allocates nothing when
// there is nothing to redact.
namespace {
std::atomic<size_t> g_allocations{0};
}  // namespace

// gcc pairs the replaced operators with malloc/free and warns about it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace qtap {

// For comparing header lists (ADL finds these from std::vector's ==).
bool operator==(const Header& a, const Header& b) { return a.name == b.name && a.value == b.value; }
void PrintTo(const Header& h, std::ostream* os) { *os << h.name << ": " << h.value; }

namespace {

using test::exchange;
using Headers = std::vector<Header>;

Redactor make(const RedactionSettings& settings = {}) {
  Result<Redactor> r = Redactor::make(settings);
  EXPECT_TRUE(r.ok()) << (r ? "" : r.error().message);
  return std::move(r).value();
}

TEST(Redactor, EveryDefaultHeaderHttp1) {
  HttpExchange ex = exchange("/", {{"Host", "example.com"},
                                   {"Authorization", "Bearer abc"},
                                   {"Proxy-Authorization", "Basic dXNlcjpwYXNz"},
                                   {"Cookie", "sid=1; theme=dark"},
                                   {"X-Auth-Token", "t0k"},
                                   {"X-Client-Secret", "s3c"},
                                   {"X-Api-Key", "k3y"},
                                   {"X-DB-Password", "pw"},
                                   {"Accept", "*/*"},
                                   {"X-Empty-Token", ""}},
                             "", {{"Set-Cookie", "sid=2; Path=/"}, {"Content-Type", "text/plain"}});
  make().apply(ex);
  EXPECT_EQ(ex.request->headers, (Headers{{"Host", "example.com"},
                                          {"Authorization", "[REDACTED]"},
                                          {"Proxy-Authorization", "[REDACTED]"},
                                          {"Cookie", "[REDACTED]"},
                                          {"X-Auth-Token", "[REDACTED]"},
                                          {"X-Client-Secret", "[REDACTED]"},
                                          {"X-Api-Key", "[REDACTED]"},
                                          {"X-DB-Password", "[REDACTED]"},
                                          {"Accept", "*/*"},
                                          {"X-Empty-Token", ""}}));
  EXPECT_EQ(ex.response->headers,
            (Headers{{"Set-Cookie", "[REDACTED]"}, {"Content-Type", "text/plain"}}));
}

TEST(Redactor, RememberedHeaderVerdictsNeverMixUpNames) {
  // Header verdicts are remembered per name in a small direct-mapped table:
  // names sharing a slot,
  // names longer than a slot holds, and the same names again, in any order,
  // get what the name matcher says.
  const Redactor r = make();
  auto value_after = [&](const std::string& name) {
    HttpExchange ex = exchange("/", Headers{{name, "v"}}, "", {});
    r.apply(ex);
    return ex.request->headers[0].value;
  };
  // "X-Token-A" and "X-Zzkyy-A" share a slot (length, first, middle and last
  // bytes): one right after the other.
  EXPECT_EQ(value_after("X-Token-A"), "[REDACTED]");
  EXPECT_EQ(value_after("X-Zzkyy-A"), "v");
  EXPECT_EQ(value_after("X-Token-A"), "[REDACTED]");
  std::vector<std::string> names = {"X-Token-A", "X-Zzkyy-A", "X-Other-A", "X-Token-B", "Accept",
                                    "Cookie",    "cookie",    "X-A-Very-Long-Header-Name-With-Secret-In-It",
                                    "X-A-Very-Long-Header-Name-Without-Anything-In-It"};
  for (int i = 0; i < 60; i++) names.push_back("X-Gen-" + std::to_string(i) + (i % 3 ? "" : "-token"));
  for (int round = 0; round < 3; round++) {
    for (size_t k = 0; k < names.size(); k++) {
      const std::string& n = names[(k * 7 + round) % names.size()];
      EXPECT_EQ(value_after(n), r.sensitive_name(n) ? "[REDACTED]" : "v") << n;
    }
  }
  EXPECT_TRUE(r.sensitive_name("X-Token-A"));
  EXPECT_FALSE(r.sensitive_name("X-Zzkyy-A"));
}

TEST(Redactor, EveryDefaultHeaderHttp2Lowercase) {
  HttpExchange ex = exchange("/", {{":authority", "example.com"},
                                   {"authorization", "Bearer abc"},
                                   {"proxy-authorization", "Basic x"},
                                   {"cookie", "a=1"},
                                   {"cookie", "b=2"},
                                   {"x-goog-api-key", "k"},
                                   {"x-amz-security-token", "t"},
                                   {"user-agent", "grpc-go/1.60"}},
                             "", {{"set-cookie", "c=3"}, {"set-cookie", "d=4"}});
  ex.version = "HTTP/2";
  ex.trailers = {{"grpc-status", "0"}, {"x-refresh-token", "r"}, {"x-webhook-secret", "w"}};
  make().apply(ex);
  EXPECT_EQ(ex.request->headers, (Headers{{":authority", "example.com"},
                                          {"authorization", "[REDACTED]"},
                                          {"proxy-authorization", "[REDACTED]"},
                                          {"cookie", "[REDACTED]"},
                                          {"cookie", "[REDACTED]"},
                                          {"x-goog-api-key", "[REDACTED]"},
                                          {"x-amz-security-token", "[REDACTED]"},
                                          {"user-agent", "grpc-go/1.60"}}));
  EXPECT_EQ(ex.response->headers,
            (Headers{{"set-cookie", "[REDACTED]"}, {"set-cookie", "[REDACTED]"}}));
  EXPECT_EQ(ex.trailers, (Headers{{"grpc-status", "0"},
                                  {"x-refresh-token", "[REDACTED]"},
                                  {"x-webhook-secret", "[REDACTED]"}}));
}

TEST(Redactor, QueryParameterValues) {
  const Redactor r = make();
  auto target = [&](std::string t) {
    HttpExchange ex = exchange(std::move(t));
    r.apply(ex);
    return ex.request->target;
  };
  EXPECT_EQ(target("/login?user=bob&password=hunter2&access_token=abc&next=/home#token=frag"),
            "/login?user=bob&password=[REDACTED]&access_token=[REDACTED]&next=/home#token=frag");
  EXPECT_EQ(target("/x?API-KEY=1&client_secret=2&Token=3"),
            "/x?API-KEY=[REDACTED]&client_secret=[REDACTED]&Token=[REDACTED]");
  // Names as the server decodes them.
  EXPECT_EQ(target("/x?pass%77ord=1&my+token=2&a=%74oken"),
            "/x?pass%77ord=[REDACTED]&my+token=[REDACTED]&a=%74oken");
  // Header names count as parameter names too.
  EXPECT_EQ(target("/x?authorization=abc"), "/x?authorization=[REDACTED]");
  // Nothing to hide: no value, or no parameter.
  EXPECT_EQ(target("/x?token=&token&a=1"), "/x?token=&token&a=1");
  EXPECT_EQ(target("/token/password?q=1"), "/token/password?q=1");
  EXPECT_EQ(target("/x?password=a=b"), "/x?password=[REDACTED]");
  // Absolute form (to a proxy), userinfo password too.
  EXPECT_EQ(target("http://bob:s3cret@proxy.example:3128/x?api-key=1"),
            "http://bob:[REDACTED]@proxy.example:3128/x?api-key=[REDACTED]");
  EXPECT_EQ(target("http://bob@proxy.example/x"), "http://bob@proxy.example/x");
  EXPECT_EQ(target("http://proxy.example/x@y:z"), "http://proxy.example/x@y:z");
}

TEST(Redactor, UrlsInRefererAndLocation) {
  HttpExchange ex = exchange("/", {{"Referer", "https://app.example/cb?code=1&id_token=xyz"}}, "",
                             {{"Location", "/next?session_token=abc&x=1"}});
  make().apply(ex);
  EXPECT_EQ(ex.request->headers,
            (Headers{{"Referer", "https://app.example/cb?code=1&id_token=[REDACTED]"}}));
  EXPECT_EQ(ex.response->headers, (Headers{{"Location", "/next?session_token=[REDACTED]&x=1"}}));
}

TEST(Redactor, FormBodies) {
  HttpExchange ex = exchange("/login", {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
                             "user=bob&password=hunter2&csrf_token=abc");
  make().apply(ex);
  EXPECT_EQ(ex.request->body.data, "user=bob&password=[REDACTED]&csrf_token=[REDACTED]");
  // Sizes say what was sent, not what is shown.
  EXPECT_EQ(ex.request->body.size, 40u);
  EXPECT_EQ(ex.request->body.captured, 40u);
  // Another content type: left alone (no body patterns configured).
  ex = exchange("/login", {{"Content-Type", "text/plain"}}, "password=hunter2");
  make().apply(ex);
  EXPECT_EQ(ex.request->body.data, "password=hunter2");
}

TEST(Redactor, BodyPatterns) {
  RedactionSettings s;
  s.body_patterns = {R"(\d{3}-\d{2}-\d{4})", R"("password"\s*:\s*"[^"]*")", "caf\xc3"};
  const Redactor r = make(s);
  HttpExchange ex = exchange("/", {}, R"({"ssn":"123-45-6789","password" : "hunter2","n":1})", {},
                             "ids 111-22-3333 and 444-55-6666; caf\xc3\xa9 au lait");
  r.apply(ex);
  EXPECT_EQ(ex.request->body.data, R"({"ssn":"[REDACTED]",[REDACTED],"n":1})");
  // The match cut "é" in two: the whole character goes, the text stays UTF-8.
  EXPECT_EQ(ex.response->body.data, "ids [REDACTED] and [REDACTED]; [REDACTED] au lait");
}

TEST(Redactor, OverlappingBodyMatchesBecomeOne) {
  RedactionSettings s;
  s.body_patterns = {"abc", "bcd", "x+"};
  HttpExchange ex = exchange("/", {}, "0abcd1 xxx abc");
  make(s).apply(ex);
  EXPECT_EQ(ex.request->body.data, "0[REDACTED]1 [REDACTED] [REDACTED]");
}

TEST(Redactor, GrpcMessagesOnlyByBodyPatterns) {
  HttpExchange ex = exchange("/users.v1.Users/Create", {{"authorization", "Bearer x"}});
  ex.version = "HTTP/2";
  GrpcCall& g = ex.grpc.emplace();
  g.requests = {GrpcMessage{10, false, false, R"({"1":"password hunter2","2":{"3":"ok"}})"},
                GrpcMessage{10, false, false, R"({"1":"caf\u00e9 secret-\u00e9x","2":7})"},
                GrpcMessage{10, false, false, R"({"1":"a","2":"secret-b"})"}};
  HttpExchange plain = ex;
  make().apply(plain);
  EXPECT_EQ(plain.grpc->requests[0].decoded_json, R"({"1":"password hunter2","2":{"3":"ok"}})");

  RedactionSettings s;
  // The second pattern ends inside an escape; the third crosses a quote.
  s.body_patterns = {"hunter2", R"(secret-\\u00)", R"(a","2":"secret)"};
  make(s).apply(ex);
  EXPECT_EQ(ex.grpc->requests[0].decoded_json, R"({"1":"password [REDACTED]","2":{"3":"ok"}})");
  EXPECT_EQ(ex.grpc->requests[1].decoded_json, R"({"1":"caf\u00e9 [REDACTED]x","2":7})");
  EXPECT_EQ(ex.grpc->requests[2].decoded_json, R"("[REDACTED]")");
  for (const GrpcMessage& m : ex.grpc->requests) {
    EXPECT_TRUE(nlohmann::json::accept(m.decoded_json)) << m.decoded_json;
  }
}

TEST(Redactor, DisabledChangesNothing) {
  RedactionSettings s;
  s.enabled = false;
  s.body_patterns = {"hunter2"};
  HttpExchange ex = exchange("/x?password=hunter2", {{"Authorization", "Bearer abc"}}, "hunter2");
  const HttpExchange before = ex;
  make(s).apply(ex);
  EXPECT_EQ(ex.request->target, before.request->target);
  EXPECT_EQ(ex.request->headers, before.request->headers);
  EXPECT_EQ(ex.request->body.data, before.request->body.data);
}

TEST(Redactor, ConfiguredListsReplaceTheDefaults) {
  RedactionSettings s;
  s.headers = {"X-Internal"};
  s.header_patterns = {"x-?ey"};
  HttpExchange ex = exchange("/x?x-key=1&token=2",
                             {{"x-internal", "a"}, {"X-Key", "b"}, {"Authorization", "c"}});
  make(s).apply(ex);
  EXPECT_EQ(ex.request->headers,
            (Headers{{"x-internal", "[REDACTED]"}, {"X-Key", "[REDACTED]"}, {"Authorization", "c"}}));
  EXPECT_EQ(ex.request->target, "/x?x-key=[REDACTED]&token=2");
}

TEST(Redactor, GlobsOfEveryShapeTogether) {
  RedactionSettings s;
  s.headers = {"X-Internal", "x-other"};
  // Infixes (checked in one pass), and shapes checked one by one.
  s.header_patterns = {"*SeCrEt*", "*-pin*", "x-*-key", "?oken", "*id_*_sig", "*"};
  const Redactor everything = make(s);
  s.header_patterns.pop_back();
  const Redactor r = make(s);
  HttpExchange ex =
      exchange("/x?my-pin=1&aToken=2&token=3&a_id_x_sig=4&q=5", {{"X-INTERNAL", "a"},
                                                                 {"X-Client-Secret", "b"},
                                                                 {"X-Api-Key", "c"},
                                                                 {"X-Key", "d"},
                                                                 {"Token", "e"},
                                                                 {"X-Spinner", "f"},
                                                                 {"Accept", "g"}});
  HttpExchange copy = ex;
  r.apply(ex);
  EXPECT_EQ(ex.request->headers, (Headers{{"X-INTERNAL", "[REDACTED]"},
                                          {"X-Client-Secret", "[REDACTED]"},
                                          {"X-Api-Key", "[REDACTED]"},
                                          {"X-Key", "d"},
                                          {"Token", "[REDACTED]"},
                                          {"X-Spinner", "f"},
                                          {"Accept", "g"}}));
  EXPECT_EQ(ex.request->target,
            "/x?my-pin=[REDACTED]&aToken=2&token=[REDACTED]&a_id_x_sig=[REDACTED]&q=5");
  everything.apply(copy);
  for (const Header& h : copy.request->headers) EXPECT_EQ(h.value, "[REDACTED]") << h.name;
}

TEST(Redactor, BadSettingsAreErrors) {
  RedactionSettings s;
  s.body_patterns = {"ok", "(unclosed"};
  Result<Redactor> r = Redactor::make(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("redaction body pattern pattern '(unclosed': ", 0), 0u)
      << r.error().message;
  s.body_patterns = {"a*"};  // matches the empty string
  EXPECT_FALSE(Redactor::make(s).ok());
  s.body_patterns = {""};
  EXPECT_FALSE(Redactor::make(s).ok());
  s.body_patterns.clear();
  s.headers = {""};
  EXPECT_FALSE(Redactor::make(s).ok());
}

TEST(Redactor, CheckOneBodyPattern) {
  EXPECT_TRUE(Redactor::check_body_pattern(R"("password"\s*:\s*"[^"]*")").ok());
  Result<void> bad = Redactor::check_body_pattern("(unclosed");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "Missing close parenthesis for group started at index 0.");
  EXPECT_FALSE(Redactor::check_body_pattern(R"((a)\1)").ok());  // no backreferences
  EXPECT_EQ(Redactor::check_body_pattern("").error().message, "empty regex");
}

TEST(Redactor, AlreadyRedactedStaysTheSame) {
  HttpExchange ex = exchange("/x?token=abc", {{"Cookie", "a"}});
  const Redactor r = make();
  r.apply(ex);
  r.apply(ex);
  EXPECT_EQ(ex.request->target, "/x?token=[REDACTED]");
  EXPECT_EQ(ex.request->headers, (Headers{{"Cookie", "[REDACTED]"}}));
}

TEST(Redactor, AllocatesNothingWhenNothingMatches) {
  RedactionSettings s;
  s.body_patterns = {R"(\d{3}-\d{2}-\d{4})"};
  const Redactor r = make(s);
  HttpExchange ex = exchange("/api/v1/items/12345?include=details&page=2",
                             {{"Host", "api.internal:8080"},
                              {"User-Agent", "bench/1.0"},
                              {"Referer", "https://app.example/list?page=1"},
                              {"Content-Type", "application/x-www-form-urlencoded"}},
                             "a=1&b=2", {{"Content-Type", "application/json"}},
                             std::string(1024, 'a'));
  ex.trailers = {{"grpc-status", "0"}};
  ex.grpc.emplace().requests = {GrpcMessage{3, false, false, R"({"1":"x"})"}};
  const size_t before = g_allocations.load();
  r.apply(ex);
  EXPECT_EQ(g_allocations.load() - before, 0u);
}

// The auditor too, once its buffers have grown: a clean exchange costs no
// allocation at all, one with a finding only the findings themselves.
TEST(Auditor, AllocatesNothingButTheFindings) {
  Result<Auditor> made = Auditor::make({});
  ASSERT_TRUE(made.ok());
  const Auditor a = std::move(made).value();
  std::string body = "{\"items\":[";
  for (int i = 0; i < 40; ++i) {
    body += "{\"id\":" + std::to_string(1700000000000LL + i) + ",\"n\":\"word\"},";
  }
  body += "{}]}";
  HttpExchange clean = exchange("/api/v1/items?page=2&sig=" + test::kRandomToken.substr(0, 20),
                                {{"Host", "api.internal:8080"},
                                 {"Authorization", "Basic dXNlcjpwYXNz"},
                                 {"Cookie", "theme=dark; lang=en"}},
                                body, {{"Content-Type", "application/json"}}, body + body);
  HttpExchange large = clean;
  large.response->body.data = std::string(20000, 'x');  // scanned in place
  HttpExchange secret = clean;
  secret.request->headers.push_back({"X-Key", test::kAwsKey});
  for (int warm = 0; warm < 3; ++warm) {
    a.scan(clean);
    a.scan(large);
    a.scan(secret);
  }
  size_t before = g_allocations.load();
  EXPECT_TRUE(a.scan(clean).empty());
  EXPECT_TRUE(a.scan(large).empty());
  EXPECT_EQ(g_allocations.load() - before, 0u);
  before = g_allocations.load();
  const std::vector<Finding> findings = a.scan(secret);
  ASSERT_EQ(findings.size(), 1u);
  // The vector and the finding's two strings ("request.header:X-Key" is
  // past the small-string size).
  EXPECT_LE(g_allocations.load() - before, 3u);
}

}  // namespace
}  // namespace qtap
