#include "output/console_sink.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <sstream>

#include "unit/output/test_records.h"

namespace qtap {
namespace {

// The console prints local time; pin the zone so the expected lines hold on
// any machine. Set before the first localtime_r, which reads TZ only once.
class UtcEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};
const auto* const kUtc = ::testing::AddGlobalTestEnvironment(new UtcEnvironment);

template <typename Record>
std::string render(const Record& rec, ConsoleOptions opts = {}) {
  std::ostringstream os;
  ConsoleSink sink(os, opts);
  sink.write(rec);
  sink.flush();
  return os.str();
}

TEST(ConsoleSink, HttpLine) {
  EXPECT_EQ(render(test::http_record()),
            "05:55:03.123 curl[1234] → GET http://127.0.0.1:8080/x?y=1 200 OK"
            "  req 0 B  resp 1.2 KiB  3.4 ms\n");
}

TEST(ConsoleSink, ConnectionLine) {
  EXPECT_EQ(render(test::connection_record()),
            "05:55:03.123 nc[99] → tcp 127.0.0.1:5555 ↔ 127.0.0.1:34000 unknown protocol,"
            " sent 12 B, received 0 B, 1.0 ms\n");
}

TEST(ConsoleSink, ConnectionLineIngressIpv6Tls) {
  ConnectionRecord rec = test::connection_record();
  rec.connection.direction = Direction::kIngress;
  rec.connection.local = {"::1", 443};
  rec.connection.remote = {"::1", 50000};
  rec.connection.tls = true;
  rec.connection.bytes_received = 3 * 1024 * 1024 + 100;
  rec.duration_ms = 2500;
  EXPECT_EQ(render(rec),
            "05:55:03.123 nc[99] ← tcp [::1]:50000 ↔ [::1]:443 unknown protocol,"
            " sent 12 B, received 3.0 MiB, 2.50 s  [tls]\n");
}

TEST(ConsoleSink, NoResponse) {
  HttpRecord rec = test::http_record();
  rec.http.response.reset();
  rec.connection.direction = Direction::kUnknown;
  rec.duration_ms = 0.25;
  EXPECT_EQ(render(rec),
            "05:55:03.123 curl[1234] ↔ GET http://127.0.0.1:8080/x?y=1 (no response)"
            "  req 0 B  0.25 ms\n");
}

TEST(ConsoleSink, NoRequest) {
  HttpRecord rec = test::http_record();
  rec.http.request.reset();
  rec.http.response->status = 404;
  rec.http.response->reason = "Not Found";
  rec.http.response->body = test::text_body("");
  EXPECT_EQ(render(rec),
            "05:55:03.123 curl[1234] → (no request) 404 Not Found  resp 0 B  3.4 ms\n");
}

TEST(ConsoleSink, TlsTag) {
  HttpRecord rec = test::http_record();
  rec.connection.tls = true;
  rec.connection.tls_library = "openssl";
  EXPECT_EQ(render(rec),
            "05:55:03.123 curl[1234] → GET https://127.0.0.1:8080/x?y=1 200 OK"
            "  req 0 B  resp 1.2 KiB  3.4 ms  [tls openssl]\n");
}

TEST(ConsoleSink, ContainerBesideTheProcess) {
  HttpRecord rec = test::http_record();
  rec.process.edit().container =
      ContainerInfo{.runtime = "containerd", .id = "0123456789ab" + std::string(52, 'f')};
  EXPECT_EQ(render(rec),
            "05:55:03.123 curl[1234] (containerd:0123456789ab) → GET http://127.0.0.1:8080/x?y=1 "
            "200 OK  req 0 B  resp 1.2 KiB  3.4 ms\n");

  // The pod, once the runtime's labels name it.
  rec.process.edit().container->pod_name = "checkout-7d9f";
  rec.process.edit().container->pod_namespace = "prod";
  EXPECT_TRUE(render(rec).starts_with("05:55:03.123 curl[1234] (pod prod/checkout-7d9f) → "));

  // No runtime in the path; a named (not numbered) container is not cut.
  rec.process.edit().container = ContainerInfo{.id = std::string(64, 'a')};
  EXPECT_NE(render(rec).find("curl[1234] (container:aaaaaaaaaaaa) → "), std::string::npos);
  rec.process.edit().container =
      ContainerInfo{.runtime = "systemd-nspawn", .id = "build-box-debian12"};
  EXPECT_NE(render(rec).find("curl[1234] (systemd-nspawn:build-box-debian12) → "),
            std::string::npos);

  // On every line kind, and never a terminal escape from a label.
  rec.process.edit().container =
      ContainerInfo{.runtime = "docker", .id = std::string(64, 'b'), .pod_name = "x\x1b[31m"};
  EXPECT_NE(render(rec).find("(pod x\\x1b[31m) → "), std::string::npos);
  ConnectionRecord conn = test::connection_record();
  conn.process.edit().container = ContainerInfo{.runtime = "docker", .id = std::string(64, 'b')};
  EXPECT_NE(render(conn).find("nc[99] (docker:bbbbbbbbbbbb) "), std::string::npos);
}

TEST(ConsoleSink, ColorsStatusByClass) {
  HttpRecord rec = test::http_record();
  ConsoleOptions opts;
  opts.color = true;
  EXPECT_EQ(render(rec, opts),
            "\x1b[2m05:55:03.123\x1b[0m curl[1234] → GET http://127.0.0.1:8080/x?y=1 "
            "\x1b[32m200 OK\x1b[0m  req 0 B  resp 1.2 KiB  3.4 ms\n");
  rec.http.response->status = 503;
  rec.http.response->reason = "Service Unavailable";
  EXPECT_NE(render(rec, opts).find("\x1b[31m503 Service Unavailable\x1b[0m"), std::string::npos);
  rec.http.response->status = 404;
  EXPECT_NE(render(rec, opts).find("\x1b[33m404 "), std::string::npos);
  rec.http.response->status = 301;
  EXPECT_NE(render(rec, opts).find("\x1b[36m301 "), std::string::npos);
  rec.http.response.reset();
  EXPECT_NE(render(rec, opts).find("\x1b[31m(no response)\x1b[0m"), std::string::npos);
}

TEST(ConsoleSink, VerboseTextBodies) {
  HttpRecord rec = test::http_record();
  rec.http.request->method = "POST";
  rec.http.request->target = "/upload";
  rec.http.request->headers = {{"Host", "127.0.0.1:8080"}, {"Content-Length", "12"}};
  rec.http.request->body = test::text_body("hello\r\nworld\n");
  rec.http.response->status = 201;
  rec.http.response->reason = "Created";
  rec.http.response->headers = {{"Content-Length", "16"}};
  rec.http.response->body = test::text_body("0123456789abcdef");
  rec.http.notes = {"a note"};
  ConsoleOptions opts;
  opts.verbose = true;
  opts.max_body_print = 10;
  EXPECT_EQ(render(rec, opts),
            "05:55:03.123 curl[1234] → POST http://127.0.0.1:8080/upload 201 Created"
            "  req 13 B  resp 16 B  3.4 ms\n"
            "    > POST /upload HTTP/1.1\n"
            "    > Host: 127.0.0.1:8080\n"
            "    > Content-Length: 12\n"
            "    >\n"
            "    hello\n"
            "    wor\n"
            "    … (3 more bytes)\n"
            "    < HTTP/1.1 201 Created\n"
            "    < Content-Length: 16\n"
            "    <\n"
            "    0123456789\n"
            "    … (6 more bytes)\n"
            "    note: a note\n");
}

TEST(ConsoleSink, VerboseBinaryTruncatedBody) {
  HttpRecord rec = test::http_record();
  rec.http.response->headers = {{"Content-Encoding", "gzip"}};
  std::string gz = "\x1f\x8b\x08";
  gz += std::string(17, '\0');
  rec.http.response->body = test::text_body(gz);
  rec.http.response->body.size = 5000;
  rec.http.response->body.wire_size = 5000;
  rec.http.response->body.truncated = true;
  rec.http.response->body.content_encoding = "gzip";
  ConsoleOptions opts;
  opts.verbose = true;
  EXPECT_EQ(render(rec, opts),
            "05:55:03.123 curl[1234] → GET http://127.0.0.1:8080/x?y=1 200 OK"
            "  req 0 B  resp 4.9 KiB  3.4 ms\n"
            "    > GET /x?y=1 HTTP/1.1\n"
            "    > Host: 127.0.0.1:8080\n"
            "    > User-Agent: curl/7.88.1\n"
            "    > Accept: */*\n"
            "    < HTTP/1.1 200 OK\n"
            "    < Content-Encoding: gzip\n"
            "    <\n"
            "    [gzip encoded, not decoded]\n"
            "    [20 bytes binary] 1f 8b 08 00 00 00 00 00 00 00 00 00 00 00 00 00 …\n"
            "    [truncated capture: 20 of 5000 bytes]\n");
}

TEST(ConsoleSink, VerboseTruncatedTextAndUncapturedBody) {
  HttpRecord rec = test::http_record();
  rec.http.request->body = Body{};
  rec.http.request->body.size = 100;
  rec.http.request->body.truncated = true;
  rec.http.request->headers.clear();
  rec.http.response->headers.clear();
  rec.http.response->body = test::text_body("partial");
  rec.http.response->body.size = 1000;
  rec.http.response->body.truncated = true;
  ConsoleOptions opts;
  opts.verbose = true;
  EXPECT_EQ(render(rec, opts),
            "05:55:03.123 curl[1234] → GET http://127.0.0.1:8080/x?y=1 200 OK"
            "  req 100 B  resp 1000 B  3.4 ms\n"
            "    > GET /x?y=1 HTTP/1.1\n"
            "    >\n"
            "    [100 bytes not captured]\n"
            "    < HTTP/1.1 200 OK\n"
            "    <\n"
            "    partial\n"
            "    [truncated capture: 7 of 1000 bytes]\n");
}

TEST(ConsoleSink, CutsTextAtUtf8Boundary) {
  HttpRecord rec = test::http_record();
  rec.http.request.reset();
  rec.http.response->headers.clear();
  rec.http.response->body = test::text_body("ab\xe2\x82\xac");  // "ab€"
  ConsoleOptions opts;
  opts.verbose = true;
  opts.max_body_print = 3;
  const std::string out = render(rec, opts);
  EXPECT_NE(out.find("\n    ab\n    … (3 more bytes)\n"), std::string::npos) << out;
}

TEST(ConsoleSink, TerminalEscapesAreNeutralised) {
  HttpRecord rec = test::http_record();
  rec.process.edit().comm = "evil\x1b]0;x\x07";
  rec.http.request->target = "/\x1b[2J";
  rec.http.request->headers = {{"Host", "h"},
                               {"X-A",
                                "\x1b[31mred\xc2\x9b"
                                "1m caf\xe9 \xc3\xa9"}};
  rec.http.response->reason = "OK\r\x1b[1A";
  rec.http.response->headers.clear();
  rec.http.response->body = test::text_body("line\x1b[0m\ttab\n");
  ConsoleOptions opts;
  opts.verbose = true;
  const std::string out = render(rec, opts);
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_EQ(out.find('\x07'), std::string::npos) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos) << out;
  EXPECT_EQ(out.find("\xc2\x9b"), std::string::npos) << out;
  EXPECT_NE(out.find("evil\\x1b]0;x\\x07[1234]"), std::string::npos) << out;
  EXPECT_NE(out.find("http://h/\\x1b[2J 200 OK\\r\\x1b[1A  req"), std::string::npos) << out;
  EXPECT_NE(out.find("    > X-A: \\x1b[31mred\\xc2\\x9b1m caf\\xe9 \xc3\xa9\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("    line\\x1b[0m\ttab\n"), std::string::npos) << out;
}

HttpRecord http2_record() {
  HttpRecord rec = test::http_record();
  rec.http.version = "HTTP/2";
  rec.http.stream_id = 3;
  rec.http.request->version = "HTTP/2";
  rec.http.request->headers = {{":scheme", "https"}, {":authority", "example.com"}};
  rec.http.response->version = "HTTP/2";
  rec.http.response->reason = "";
  rec.http.response->headers = {{"content-type", "text/plain"}};
  return rec;
}

HttpRecord grpc_record() {
  HttpRecord rec = http2_record();
  rec.http.request->method = "POST";
  rec.http.request->target = "/helloworld.Greeter/SayHello";
  rec.http.request->headers = {
      {":scheme", "http"}, {":authority", "localhost:50051"}, {"content-type", "application/grpc"}};
  rec.http.request->body = test::text_body(std::string(12, '\0'));
  rec.http.response->headers = {{"content-type", "application/grpc"}};
  rec.http.response->body = test::text_body(std::string(36, '\0'));
  rec.http.trailers = {{"grpc-status", "0"}};
  GrpcCall& g = rec.http.grpc.emplace();
  g.service = "helloworld.Greeter";
  g.method = "SayHello";
  g.status_code = 0;
  g.request_messages = 1;
  g.response_messages = 3;
  g.requests = {GrpcMessage{7, false, false, R"({"1":"world"})"}};
  g.responses = {GrpcMessage{13, false, false, R"({"1":"Hello world"})"},
                 GrpcMessage{8, true, false, ""}};
  return rec;
}

TEST(ConsoleSink, Http2LineHasItsTag) {
  EXPECT_EQ(render(http2_record()),
            "05:55:03.123 curl[1234] → GET https://example.com/x?y=1 200"
            "  req 0 B  resp 1.2 KiB  3.4 ms  [h2]\n");
}

TEST(ConsoleSink, Http2StreamError) {
  HttpRecord rec = http2_record();
  rec.http.response.reset();
  rec.http.error = "REFUSED_STREAM";
  ConsoleOptions opts;
  opts.color = true;
  EXPECT_EQ(
      render(rec, opts),
      "\x1b[2m05:55:03.123\x1b[0m curl[1234] → GET https://example.com/x?y=1 "
      "\x1b[31m(no response)\x1b[0m \x1b[31m[REFUSED_STREAM]\x1b[0m  req 0 B  3.4 ms  [h2]\n");
}

TEST(ConsoleSink, Http2UndecodableHeaders) {
  HttpRecord rec = http2_record();
  rec.http.request->method = "";
  rec.http.request->target = "";
  rec.http.request->headers.clear();
  rec.http.response->status = 0;
  EXPECT_EQ(render(rec),
            "05:55:03.123 curl[1234] → (request headers not decoded) (status unknown)"
            "  req 0 B  resp 1.2 KiB  3.4 ms  [h2]\n");
}

TEST(ConsoleSink, Http2VerboseTrailers) {
  HttpRecord rec = http2_record();
  rec.http.response->body = test::text_body("payload");
  rec.http.trailers = {{"x-checksum", "abc"}};
  ConsoleOptions opts;
  opts.verbose = true;
  EXPECT_EQ(render(rec, opts),
            "05:55:03.123 curl[1234] → GET https://example.com/x?y=1 200"
            "  req 0 B  resp 7 B  3.4 ms  [h2]\n"
            "    > GET /x?y=1 HTTP/2\n"
            "    > :scheme: https\n"
            "    > :authority: example.com\n"
            "    < HTTP/2 200\n"
            "    < content-type: text/plain\n"
            "    <\n"
            "    payload\n"
            "    < x-checksum: abc\n");
}

TEST(ConsoleSink, GrpcLine) {
  EXPECT_EQ(render(grpc_record()),
            "05:55:03.123 curl[1234] → grpc helloworld.Greeter/SayHello OK (0)"
            "  req 1 msg 12 B  resp 3 msgs 36 B  3.4 ms  [h2]\n");
}

TEST(ConsoleSink, GrpcStatusNames) {
  HttpRecord rec = grpc_record();
  const std::pair<int, std::string> cases[] = {
      {1, "CANCELLED (1)"},
      {2, "UNKNOWN (2)"},
      {3, "INVALID_ARGUMENT (3)"},
      {4, "DEADLINE_EXCEEDED (4)"},
      {5, "NOT_FOUND (5)"},
      {6, "ALREADY_EXISTS (6)"},
      {7, "PERMISSION_DENIED (7)"},
      {8, "RESOURCE_EXHAUSTED (8)"},
      {9, "FAILED_PRECONDITION (9)"},
      {10, "ABORTED (10)"},
      {11, "OUT_OF_RANGE (11)"},
      {12, "UNIMPLEMENTED (12)"},
      {13, "INTERNAL (13)"},
      {14, "UNAVAILABLE (14)"},
      {15, "DATA_LOSS (15)"},
      {16, "UNAUTHENTICATED (16)"},
      {17, "status 17"},
      {-1, "status -1"},
  };
  ConsoleOptions opts;
  opts.color = true;
  for (const auto& [code, text] : cases) {
    rec.http.grpc->status_code = code;
    EXPECT_NE(render(rec, opts).find("SayHello \x1b[31m" + text + "\x1b[0m  req"),
              std::string::npos)
        << code;
  }
  rec.http.grpc->status_code = 0;
  EXPECT_NE(render(rec, opts).find("SayHello \x1b[32mOK (0)\x1b[0m"), std::string::npos);
}

TEST(ConsoleSink, GrpcWithoutStatus) {
  HttpRecord rec = grpc_record();
  rec.http.grpc->status_code.reset();
  rec.http.grpc->service.clear();
  rec.http.response->status = 503;
  rec.http.error = "CANCEL";
  EXPECT_EQ(render(rec),
            "05:55:03.123 curl[1234] → grpc (unknown method) (no status) HTTP 503 [CANCEL]"
            "  req 1 msg 12 B  resp 3 msgs 36 B  3.4 ms  [h2]\n");
}

TEST(ConsoleSink, GrpcVerboseShowsMessages) {
  HttpRecord rec = grpc_record();
  rec.http.grpc->status_code = 5;
  rec.http.grpc->status_message = "user \x1b[1m42 not found";
  rec.http.trailers = {{"grpc-status", "5"}, {"grpc-message", "user%20%1B[1m42%20not%20found"}};
  rec.http.notes = {"a note"};
  ConsoleOptions opts;
  opts.verbose = true;
  opts.max_body_print = 13;  // the request's JSON fits, the response's is cut
  EXPECT_EQ(render(rec, opts),
            "05:55:03.123 curl[1234] → grpc helloworld.Greeter/SayHello NOT_FOUND (5)"
            "  req 1 msg 12 B  resp 3 msgs 36 B  3.4 ms  [h2]\n"
            "    > POST /helloworld.Greeter/SayHello HTTP/2\n"
            "    > :scheme: http\n"
            "    > :authority: localhost:50051\n"
            "    > content-type: application/grpc\n"
            "    > [message 7 B] {\"1\":\"world\"}\n"
            "    < HTTP/2 200\n"
            "    < content-type: application/grpc\n"
            "    < [message 13 B] {\"1\":\"Hello w …\n"
            "    < [message 8 B, compressed]\n"
            "    < … 1 more messages\n"
            "    < grpc-status: 5\n"
            "    < grpc-message: user%20%1B[1m42%20not%20found\n"
            "    status message: user \\x1b[1m42 not found\n"
            "    note: a note\n");
}

FindingRecord finding_record(Finding f) {
  HttpRecord http = test::http_record();
  http.connection.remote = {"93.184.216.34", 443};
  return make_finding_record(http, f);
}

TEST(ConsoleSink, FindingLine) {
  EXPECT_EQ(render(finding_record({"credit_card", "request.body", 1, true})),
            "05:55:03.123 curl[1234] → ⚠ credit_card in request.body (1) → 93.184.216.34:443"
            " [ALERT]\n");
  EXPECT_EQ(render(finding_record({"email", "response.header:set-cookie", 3, false})),
            "05:55:03.123 curl[1234] → ⚠ email in response.header:set-cookie (3) →"
            " 93.184.216.34:443\n");
}

TEST(ConsoleSink, FindingLineIngressIpv6Colored) {
  FindingRecord rec = finding_record({"jwt", "request.header:Authorization", 2, true});
  rec.connection.direction = Direction::kIngress;
  rec.connection.remote = {"2001:db8::1", 50000};
  ConsoleOptions opts;
  opts.color = true;
  EXPECT_EQ(render(rec, opts),
            "\x1b[2m05:55:03.123\x1b[0m curl[1234] ← \x1b[33m⚠ jwt in "
            "request.header:Authorization (2)\x1b[0m ← [2001:db8::1]:50000 \x1b[31m[ALERT]\x1b[0m\n");
}

TEST(ConsoleSink, FindingLocationCannotCarryEscapes) {
  // Header names are the peer's bytes, and locations hold them.
  EXPECT_EQ(render(finding_record({"email", "request.header:X\x1b[2J\r", 1, false})),
            "05:55:03.123 curl[1234] → ⚠ email in request.header:X\\x1b[2J\\r (1) →"
            " 93.184.216.34:443\n");
}

TEST(ConsoleSink, VerboseListsFindingsLast) {
  HttpRecord rec = test::http_record();
  rec.http.request->headers.clear();
  rec.http.response->headers.clear();
  rec.http.response->body = test::text_body("");
  rec.http.notes = {"a note"};
  rec.findings = {{"credit_card", "request.body", 2, true},
                  {"email", "response.header:Set-Cookie", 1, false}};
  ConsoleOptions opts;
  opts.verbose = true;
  EXPECT_EQ(render(rec, opts),
            "05:55:03.123 curl[1234] → GET http://127.0.0.1:8080/x?y=1 200 OK"
            "  req 0 B  resp 0 B  3.4 ms\n"
            "    > GET /x?y=1 HTTP/1.1\n"
            "    < HTTP/1.1 200 OK\n"
            "    note: a note\n"
            "    ! findings: credit_card(request.body), email(response.header:Set-Cookie)\n");
  // Without -v the transaction line is all: the finding lines follow it.
  EXPECT_EQ(render(rec),
            "05:55:03.123 curl[1234] → GET http://127.0.0.1:8080/x?y=1 200 OK"
            "  req 0 B  resp 0 B  3.4 ms\n");
}

TEST(ConsoleSink, SizeUnits) {
  HttpRecord rec = test::http_record();
  auto resp_size = [&](uint64_t n) {
    rec.http.response->body.size = n;
    const std::string out = render(rec);
    const size_t at = out.find("resp ") + 5;
    return out.substr(at, out.find("  ", at) - at);
  };
  EXPECT_EQ(resp_size(0), "0 B");
  EXPECT_EQ(resp_size(1023), "1023 B");
  EXPECT_EQ(resp_size(1024), "1.0 KiB");
  EXPECT_EQ(resp_size(1024 * 1024 - 1), "1.0 MiB");
  EXPECT_EQ(resp_size(1536 * 1024), "1.5 MiB");
  EXPECT_EQ(resp_size(uint64_t{5} << 30), "5.0 GiB");
}

}  // namespace
}  // namespace qtap
