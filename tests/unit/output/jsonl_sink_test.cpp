#include "output/jsonl_sink.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "output/json_writer.h"
#include "unit/output/test_records.h"

namespace qtap {
namespace {

using Json = nlohmann::json;

// Writes through the sink and parses the single line back.
template <typename Record>
Json round_trip(const Record& rec) {
  std::ostringstream os;
  JsonlSink sink(os);
  sink.write(rec);
  sink.flush();
  const std::string text = os.str();
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "more than one line";
  EXPECT_TRUE(Json::accept(text)) << text;
  EXPECT_TRUE(json::is_valid_utf8(text));
  return Json::parse(text);
}

std::vector<std::string> keys(const Json& obj) {
  std::vector<std::string> out;
  for (const auto& [k, v] : obj.items()) out.push_back(k);
  std::sort(out.begin(), out.end());
  return out;
}

using Keys = std::vector<std::string>;

void expect_body(const Json& j, const Body& b, const std::string& encoding) {
  EXPECT_EQ(keys(j), (Keys{"captured", "content_decoded", "content_encoding", "data", "encoding",
                           "size", "truncated", "wire_size"}));
  EXPECT_EQ(j["size"], b.size);
  EXPECT_EQ(j["wire_size"], b.wire_size);
  EXPECT_EQ(j["captured"], b.captured);
  EXPECT_EQ(j["truncated"], b.truncated);
  if (b.content_encoding) {
    EXPECT_EQ(j["content_encoding"], *b.content_encoding);
  } else {
    EXPECT_TRUE(j["content_encoding"].is_null());
  }
  EXPECT_EQ(j["content_decoded"], b.content_decoded);
  EXPECT_EQ(j["encoding"], encoding);
  if (encoding == "utf8") {
    EXPECT_EQ(j["data"], b.data);
  }
}

TEST(JsonlSink, HttpRecordEveryField) {
  HttpRecord rec = test::http_record();
  rec.connection.tls = true;
  rec.connection.tls_library = "openssl";
  rec.process.edit().container = ContainerInfo{.runtime = "containerd",
                                             .id = std::string(64, 'c'),
                                             .pod_uid = "74c13223-5a00-11e9-b385-42010a80018d",
                                             .name = "web",
                                             .image = "docker.io/library/nginx:1.25",
                                             .labels = {{"app", "web"}, {"tier", ""}},
                                             .pod_name = "checkout-7d9f",
                                             .pod_namespace = "prod"};
  rec.process.edit().netns = 4026531840;
  rec.connection.remote_scope = "loopback";
  rec.http.notes = {"first note", "second"};
  rec.http.response->body.content_encoding = "gzip";
  rec.http.response->body.content_decoded = true;
  rec.http.response->body.wire_size = 99;
  rec.http.response->body.truncated = true;
  rec.http.response->body.size = 5000;

  const Json j = round_trip(rec);
  EXPECT_EQ(keys(j), (Keys{"connection", "duration_ms", "findings", "host", "http", "process",
                           "time", "type"}));
  EXPECT_EQ(j["type"], "http");
  EXPECT_EQ(j["findings"], Json::array());
  EXPECT_EQ(j["time"], "2026-11-29T05:55:03.123456Z");
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 3.4);

  const Json& p = j["process"];
  EXPECT_EQ(keys(p), (Keys{"cgroup", "cmdline", "comm", "container", "container_id", "exe", "netns",
                           "pid", "tid", "uid", "user"}));
  EXPECT_EQ(p["pid"], 1234);
  EXPECT_EQ(p["tid"], 1235);
  EXPECT_EQ(p["comm"], "curl");
  EXPECT_EQ(p["exe"], "/usr/bin/curl");
  EXPECT_EQ(p["cmdline"], "curl -s http://127.0.0.1:8080/x?y=1");
  EXPECT_EQ(p["uid"], 1000);
  EXPECT_EQ(p["user"], "alice");
  EXPECT_EQ(p["cgroup"], "/user.slice/user-1000.slice/session-2.scope");
  EXPECT_EQ(p["container"], Json::parse(R"({
      "runtime": "containerd",
      "id": "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
      "pod_uid": "74c13223-5a00-11e9-b385-42010a80018d",
      "name": "web",
      "image": "docker.io/library/nginx:1.25",
      "labels": {"app": "web", "tier": ""},
      "pod_name": "checkout-7d9f",
      "pod_namespace": "prod"})"));
  EXPECT_EQ(p["container_id"], std::string(64, 'c'));  // the key before `container`, kept
  EXPECT_EQ(p["netns"], 4026531840u);

  EXPECT_EQ(j["host"], (Json{{"hostname", "box1"}}));

  const Json& c = j["connection"];
  EXPECT_EQ(keys(c), (Keys{"bytes_received", "bytes_sent", "direction", "id", "local", "protocol",
                           "remote", "tls", "tls_library", "tls_sni"}));
  EXPECT_EQ(c["tls_sni"], nullptr);
  EXPECT_EQ(c["id"], 42);
  EXPECT_EQ(c["local"], (Json{{"ip", "127.0.0.1"}, {"port", 34000}}));
  EXPECT_EQ(c["remote"], (Json{{"ip", "127.0.0.1"}, {"port", 8080}, {"scope", "loopback"}}));
  EXPECT_EQ(c["direction"], "egress");
  EXPECT_EQ(c["tls"], true);
  EXPECT_EQ(c["tls_library"], "openssl");
  EXPECT_EQ(c["protocol"], "http1");
  EXPECT_EQ(c["bytes_sent"], 120);
  EXPECT_EQ(c["bytes_received"], 1300);

  const Json& h = j["http"];
  // No stream_id for HTTP/1; the HTTP/2 keys are there, empty.
  EXPECT_EQ(keys(h),
            (Keys{"error", "grpc", "notes", "request", "response", "trailers", "version"}));
  EXPECT_EQ(h["version"], "HTTP/1.1");
  EXPECT_EQ(h["notes"], (Json{"first note", "second"}));
  EXPECT_EQ(h["trailers"], Json::array());
  EXPECT_TRUE(h["error"].is_null());
  EXPECT_TRUE(h["grpc"].is_null());

  const Json& req = h["request"];
  EXPECT_EQ(keys(req), (Keys{"authority", "body", "headers", "method", "path", "target", "url"}));
  EXPECT_EQ(req["method"], "GET");
  EXPECT_EQ(req["url"], "https://127.0.0.1:8080/x?y=1");
  EXPECT_EQ(req["authority"], "127.0.0.1:8080");
  EXPECT_EQ(req["path"], "/x?y=1");
  EXPECT_EQ(req["target"], "/x?y=1");
  EXPECT_EQ(req["headers"], (Json{{{"name", "Host"}, {"value", "127.0.0.1:8080"}},
                                  {{"name", "User-Agent"}, {"value", "curl/7.88.1"}},
                                  {{"name", "Accept"}, {"value", "*/*"}}}));
  expect_body(req["body"], rec.http.request->body, "utf8");

  const Json& resp = h["response"];
  EXPECT_EQ(keys(resp), (Keys{"body", "headers", "reason", "status"}));
  EXPECT_EQ(resp["status"], 200);
  EXPECT_EQ(resp["reason"], "OK");
  EXPECT_EQ(resp["headers"], (Json{{{"name", "Content-Type"}, {"value", "text/plain"}},
                                   {{"name", "Content-Length"}, {"value", "1229"}}}));
  expect_body(resp["body"], rec.http.response->body, "utf8");
}

TEST(JsonlSink, HttpRecordFindings) {
  HttpRecord rec = test::http_record();
  rec.findings = {{"credit_card", "request.body", 2, true},
                  {"jwt", "request.header:Authorization", 1, false}};
  const Json j = round_trip(rec);
  EXPECT_EQ(j["findings"], Json::parse(R"([
      {"detector":"credit_card","location":"request.body","count":2,"alert":true},
      {"detector":"jwt","location":"request.header:Authorization","count":1,"alert":false}])"));
  std::string line;
  to_json(rec, line);
  // Last key of the record, after the exchange.
  EXPECT_NE(line.find(R"(,"findings":[{"detector":"credit_card","location":"request.body",)"
                      R"("count":2,"alert":true},{"detector":"jwt",)"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.substr(line.size() - 3), "}]}");
}

TEST(JsonlSink, FindingRecordEveryField) {
  HttpRecord http = test::http_record();
  http.connection.remote = {"93.184.216.34", 443};
  http.connection.tls = true;
  const FindingRecord rec =
      make_finding_record(http, Finding{"credit_card", "request.body", 1, true});
  const Json j = round_trip(rec);
  EXPECT_EQ(keys(j), (Keys{"alert", "connection", "count", "detector", "host", "http", "location",
                           "process", "time", "type"}));
  EXPECT_EQ(j["type"], "finding");
  EXPECT_EQ(j["time"], "2026-11-29T05:55:03.123456Z");
  EXPECT_EQ(j["detector"], "credit_card");
  EXPECT_EQ(j["location"], "request.body");
  EXPECT_EQ(j["count"], 1);
  EXPECT_EQ(j["alert"], true);
  EXPECT_EQ(j["http"], Json::parse(R"({"method":"GET","url":"https://127.0.0.1:8080/x?y=1",
                                       "status":200})"));
  // The same process, host and connection objects as the http record's.
  const Json h = round_trip(http);
  EXPECT_EQ(j["process"], h["process"]);
  EXPECT_EQ(j["host"], h["host"]);
  EXPECT_EQ(j["connection"], h["connection"]);
  EXPECT_EQ(j["connection"]["remote"],
            (Json{{"ip", "93.184.216.34"}, {"port", 443}, {"scope", nullptr}}));
}

TEST(JsonlSink, FindingRecordWithoutRequestOrResponse) {
  HttpRecord http = test::http_record();
  http.http.request.reset();
  http.http.response.reset();
  const Json j = round_trip(make_finding_record(http, Finding{"email", "response.body", 3}));
  EXPECT_EQ(j["http"], Json::parse(R"({"method":null,"url":null,"status":null})"));
  EXPECT_EQ(j["count"], 3);
  EXPECT_EQ(j["alert"], false);
}

TEST(JsonlSink, FindingLocationsAreEscaped) {
  HttpRecord http = test::http_record();
  const Finding f{"jwt", "request.header:X-\"Evil\"\n\xff", 1, false};
  http.findings = {f};
  EXPECT_EQ(round_trip(http)["findings"][0]["location"], "request.header:X-\"Evil\"\n\xc3\xbf");
  EXPECT_EQ(round_trip(make_finding_record(http, f))["location"],
            "request.header:X-\"Evil\"\n\xc3\xbf");
}

TEST(JsonlSink, ConnectionRecordEveryField) {
  ConnectionRecord rec = test::connection_record();
  rec.connection.direction = Direction::kUnknown;
  const Json j = round_trip(rec);
  EXPECT_EQ(keys(j), (Keys{"connection", "duration_ms", "host", "process", "time", "type"}));
  EXPECT_EQ(j["type"], "connection");
  EXPECT_EQ(j["time"], "2026-11-29T05:55:03.123456Z");
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 1.0);
  EXPECT_EQ(j["process"]["pid"], 99);
  EXPECT_EQ(j["process"]["comm"], "nc");
  EXPECT_TRUE(j["process"]["container"].is_null());  // a host process
  EXPECT_TRUE(j["process"]["container_id"].is_null());
  EXPECT_EQ(j["process"]["netns"], 0);
  EXPECT_EQ(j["host"]["hostname"], "box1");
  const Json& c = j["connection"];
  EXPECT_EQ(c["direction"], "unknown");
  EXPECT_EQ(c["tls"], false);
  EXPECT_TRUE(c["tls_library"].is_null());
  EXPECT_EQ(c["protocol"], "unknown");
  EXPECT_EQ(c["remote"], (Json{{"ip", "127.0.0.1"}, {"port", 5555}, {"scope", nullptr}}));
  EXPECT_EQ(c["bytes_sent"], 12);
  EXPECT_EQ(c["bytes_received"], 0);
}

TEST(JsonlSink, ContainerFieldsNotKnownAreNull) {
  // What the cgroup path of a kubelet cgroupfs container gives, before (or
  // without) an answer from the runtime.
  HttpRecord rec = test::http_record();
  rec.process.edit().container = ContainerInfo{.id = std::string(64, 'a')};
  const Json j = round_trip(rec);
  EXPECT_EQ(j["process"]["container"], Json::parse(R"({
      "runtime": null, "id": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "pod_uid": null, "name": null, "image": null, "labels": {},
      "pod_name": null, "pod_namespace": null})"));
}

TEST(JsonlSink, ContainerIdKeyOnlyForHexIds) {
  HttpRecord rec = test::http_record();
  rec.process.edit().container =
      ContainerInfo{.runtime = "systemd-nspawn", .id = "web", .name = "web"};
  const Json j = round_trip(rec);
  EXPECT_TRUE(j["process"]["container_id"].is_null());  // a name, not an id
  EXPECT_EQ(j["process"]["container"]["id"], "web");
}

TEST(JsonlSink, ContainerLabelsAreEscaped) {
  // Labels are whatever the container's creator wrote, keys included.
  HttpRecord rec = test::http_record();
  rec.process.edit().container =
      ContainerInfo{.runtime = "docker",
                    .id = std::string(64, 'a'),
                    .labels = {{"a\"b", "\x01"}, {"k\xff", "caf\xe9"}, {"", "empty key"}}};
  const Json j = round_trip(rec);
  EXPECT_EQ(j["process"]["container"]["labels"],
            (Json{{"a\"b", "\x01"}, {"k\xc3\xbf", "caf\xc3\xa9"}, {"", "empty key"}}));
}

TEST(JsonlSink, RemoteScope) {
  for (const char* scope : {"loopback", "private", "public"}) {
    HttpRecord rec = test::http_record();
    rec.connection.remote_scope = scope;
    const Json j = round_trip(rec);
    EXPECT_EQ(j["connection"]["remote"]["scope"], scope);
    EXPECT_FALSE(j["connection"]["local"].contains("scope"));  // the peer's, only
  }
}

TEST(JsonlSink, IngressDirection) {
  HttpRecord rec = test::http_record();
  rec.connection.direction = Direction::kIngress;
  EXPECT_EQ(round_trip(rec)["connection"]["direction"], "ingress");
}

TEST(JsonlSink, NullRequestAndResponse) {
  HttpRecord rec = test::http_record();
  rec.http.request.reset();
  rec.http.notes = {"response without request"};
  Json j = round_trip(rec);
  EXPECT_TRUE(j["http"]["request"].is_null());
  EXPECT_EQ(j["http"]["response"]["status"], 200);

  rec = test::http_record();
  rec.http.response.reset();
  j = round_trip(rec);
  EXPECT_TRUE(j["http"]["response"].is_null());
  EXPECT_EQ(j["http"]["request"]["method"], "GET");
  EXPECT_EQ(j["http"]["notes"], Json::array());
}

TEST(JsonlSink, EmptyBodyIsStillAnObject) {
  HttpRecord rec = test::http_record();
  rec.http.response->body = Body{};
  const Json j = round_trip(rec);
  for (const Json* b : {&j["http"]["request"]["body"], &j["http"]["response"]["body"]}) {
    EXPECT_EQ(*b, (Json{{"size", 0},
                        {"wire_size", 0},
                        {"captured", 0},
                        {"truncated", false},
                        {"content_encoding", nullptr},
                        {"content_decoded", false},
                        {"encoding", "utf8"},
                        {"data", ""}}));
  }
}

TEST(JsonlSink, BinaryBodyIsBase64) {
  HttpRecord rec = test::http_record();
  std::string bin("\x1f\x8b\x08\x00", 4);
  bin += std::string("\0\xff\xfe", 3);
  rec.http.response->body = test::text_body(bin);
  rec.http.response->body.content_encoding = "gzip";
  const Json j = round_trip(rec);
  const Json& b = j["http"]["response"]["body"];
  expect_body(b, rec.http.response->body, "base64");
  EXPECT_EQ(b["data"], "H4sIAAD//g==");
}

TEST(JsonlSink, Utf8BodyKeepsText) {
  HttpRecord rec = test::http_record();
  rec.http.request->method = "POST";
  rec.http.request->body = test::text_body("{\"name\":\"Zoë\",\"emoji\":\"\xf0\x9f\x98\x80\"}\r\n");
  const Json j = round_trip(rec);
  expect_body(j["http"]["request"]["body"], rec.http.request->body, "utf8");
}

TEST(JsonlSink, EscapesEveryControlCharQuoteAndBackslash) {
  std::string nasty = "q\"b\\s/";
  for (int c = 0; c < 0x20; ++c) nasty.push_back(static_cast<char>(c));
  nasty += "\x7f end";

  HttpRecord rec = test::http_record();
  rec.process.edit().comm = nasty;
  rec.process.edit().cmdline = nasty;
  rec.hostname = nasty;
  rec.http.request->headers.push_back({nasty, nasty});
  rec.http.request->body = test::text_body(nasty);
  rec.http.response->reason = nasty;
  rec.http.notes = {nasty};

  std::string line;
  to_json(rec, line);
  for (char ch : line) ASSERT_GE(static_cast<unsigned char>(ch), 0x20) << "raw control char";
  const Json j = Json::parse(line);
  EXPECT_EQ(j["process"]["comm"], nasty);
  EXPECT_EQ(j["process"]["cmdline"], nasty);
  EXPECT_EQ(j["host"]["hostname"], nasty);
  EXPECT_EQ(j["http"]["request"]["headers"][3]["name"], nasty);
  EXPECT_EQ(j["http"]["request"]["headers"][3]["value"], nasty);
  EXPECT_EQ(j["http"]["request"]["body"]["encoding"], "utf8");
  EXPECT_EQ(j["http"]["request"]["body"]["data"], nasty);
  EXPECT_EQ(j["http"]["response"]["reason"], nasty);
  EXPECT_EQ(j["http"]["notes"][0], nasty);
  EXPECT_NE(line.find(R"(q\"b\\s/\u0000\u0001)"), std::string::npos) << line;
  EXPECT_NE(line.find(R"(\b\t\n\u000b\f\r\u000e)"), std::string::npos) << line;
}

TEST(JsonlSink, InvalidUtf8InHeadersIsLatin1Escaped) {
  HttpRecord rec = test::http_record();
  rec.http.request->headers.push_back({"X-Name", "caf\xe9 \xff"});
  rec.http.request->target = "/caf\xe9";
  std::string line;
  to_json(rec, line);
  EXPECT_TRUE(json::is_valid_utf8(line));
  EXPECT_NE(line.find(R"("value":"caf\u00e9 \u00ff")"), std::string::npos) << line;
  const Json j = Json::parse(line);
  EXPECT_EQ(j["http"]["request"]["headers"][3]["value"], "caf\xc3\xa9 \xc3\xbf");
  EXPECT_EQ(j["http"]["request"]["path"], "/caf\xc3\xa9");
  EXPECT_EQ(j["http"]["request"]["url"], "http://127.0.0.1:8080/caf\xc3\xa9");
}

TEST(JsonlSink, Ipv6Endpoints) {
  HttpRecord rec = test::http_record();
  rec.connection.local = {"::1", 41000};
  rec.connection.remote = {"2001:db8::8a2e:370:7334", 443};
  rec.connection.tls = true;
  rec.http.request->headers.clear();
  const Json j = round_trip(rec);
  EXPECT_EQ(j["connection"]["local"], (Json{{"ip", "::1"}, {"port", 41000}}));
  EXPECT_EQ(j["connection"]["remote"],
            (Json{{"ip", "2001:db8::8a2e:370:7334"}, {"port", 443}, {"scope", nullptr}}));
  EXPECT_EQ(j["http"]["request"]["url"], "https://[2001:db8::8a2e:370:7334]:443/x?y=1");
  EXPECT_EQ(j["http"]["request"]["authority"], "[2001:db8::8a2e:370:7334]:443");
}

TEST(JsonlSink, UrlComposition) {
  HttpRecord rec = test::http_record();
  rec.http.request->headers = {{"host", "example.com"}};
  Json j = round_trip(rec);
  EXPECT_EQ(j["http"]["request"]["url"], "http://example.com/x?y=1");

  rec.http.request->headers.clear();
  j = round_trip(rec);
  EXPECT_EQ(j["http"]["request"]["url"], "http://127.0.0.1:8080/x?y=1");
  EXPECT_EQ(j["http"]["request"]["authority"], "127.0.0.1:8080");

  rec.http.request->target = "http://proxy.example:3128/a/b?c";
  j = round_trip(rec);
  EXPECT_EQ(j["http"]["request"]["url"], "http://proxy.example:3128/a/b?c");
  EXPECT_EQ(j["http"]["request"]["authority"], "proxy.example:3128");
  EXPECT_EQ(j["http"]["request"]["path"], "/a/b?c");
  EXPECT_EQ(j["http"]["request"]["target"], "http://proxy.example:3128/a/b?c");
}

HttpRecord http2_record() {
  HttpRecord rec = test::http_record();
  rec.http.version = "HTTP/2";
  rec.http.stream_id = 7;
  rec.http.request->version = "HTTP/2";
  rec.http.request->headers = {
      {":scheme", "https"}, {":authority", "api.example.com:8443"}, {"user-agent", "curl/7.88.1"}};
  rec.http.response->version = "HTTP/2";
  rec.http.response->reason = "";
  return rec;
}

TEST(JsonlSink, Http2StreamTrailersAndError) {
  HttpRecord rec = http2_record();
  rec.http.trailers = {{"x-checksum", "abc"}, {"x-count", "7"}};
  rec.http.error = "CANCEL";
  const Json j = round_trip(rec);
  const Json& h = j["http"];
  EXPECT_EQ(keys(h), (Keys{"error", "grpc", "notes", "request", "response", "stream_id", "trailers",
                           "version"}));
  EXPECT_EQ(h["version"], "HTTP/2");
  EXPECT_EQ(h["stream_id"], 7);
  EXPECT_EQ(h["trailers"], (Json{{{"name", "x-checksum"}, {"value", "abc"}},
                                 {{"name", "x-count"}, {"value", "7"}}}));
  EXPECT_EQ(h["error"], "CANCEL");
  EXPECT_TRUE(h["grpc"].is_null());
  // The URL comes from :scheme and :authority, whatever the connection says.
  EXPECT_EQ(h["request"]["url"], "https://api.example.com:8443/x?y=1");
  EXPECT_EQ(h["request"]["authority"], "api.example.com:8443");
  EXPECT_EQ(h["request"]["headers"][0], (Json{{"name", ":scheme"}, {"value", "https"}}));
}

TEST(JsonlSink, GrpcCallWithDecodedMessagesEmbedded) {
  HttpRecord rec = http2_record();
  GrpcCall& g = rec.http.grpc.emplace();
  g.service = "helloworld.Greeter";
  g.method = "SayHello";
  g.status_code = 0;
  g.request_messages = 1;
  g.response_messages = 40;
  g.requests = {GrpcMessage{7, false, false, R"({"1":"world"})"}};
  g.responses = {
      GrpcMessage{13, false, false, R"({"1":"Hello","2":[1,2],"3":{"1":"9007199254740993"}})"},
      GrpcMessage{30, true, false, ""}, GrpcMessage{5000, false, true, ""}};
  rec.http.trailers = {{"grpc-status", "0"}};
  const Json j = round_trip(rec);
  const Json& gj = j["http"]["grpc"];
  EXPECT_EQ(keys(gj), (Keys{"method", "request_messages", "requests", "response_messages",
                            "responses", "service", "status_code", "status_message"}));
  EXPECT_EQ(gj["service"], "helloworld.Greeter");
  EXPECT_EQ(gj["method"], "SayHello");
  EXPECT_EQ(gj["status_code"], 0);
  EXPECT_EQ(gj["status_message"], "");
  EXPECT_EQ(gj["request_messages"], 1);
  EXPECT_EQ(gj["response_messages"], 40);
  EXPECT_EQ(gj["requests"], Json::parse(R"([{"size":7,"compressed":false,"truncated":false,
                                             "decoded":{"1":"world"}}])"));
  EXPECT_EQ(gj["responses"][0]["decoded"],
            Json::parse(R"({"1":"Hello","2":[1,2],"3":{"1":"9007199254740993"}})"));
  EXPECT_EQ(gj["responses"][1], Json::parse(R"({"size":30,"compressed":true,"truncated":false,
                                                 "decoded":null})"));
  EXPECT_EQ(gj["responses"][2], Json::parse(R"({"size":5000,"compressed":false,"truncated":true,
                                                 "decoded":null})"));
  // Embedded as a value, not as a string holding JSON.
  std::string line;
  to_json(rec, line);
  EXPECT_NE(line.find(R"("decoded":{"1":"world"})"), std::string::npos) << line;
}

TEST(JsonlSink, GrpcWithoutStatus) {
  HttpRecord rec = http2_record();
  rec.http.grpc.emplace().status_message = "\"quoted\"\n";
  const Json j = round_trip(rec);
  EXPECT_TRUE(j["http"]["grpc"]["status_code"].is_null());
  EXPECT_EQ(j["http"]["grpc"]["status_message"], "\"quoted\"\n");
  EXPECT_EQ(j["http"]["grpc"]["requests"], Json::array());
}

TEST(JsonlSink, DurationIsRoundedToMicroseconds) {
  HttpRecord rec = test::http_record();
  rec.duration_ms = 0.1 + 0.2;
  std::string line;
  to_json(rec, line);
  EXPECT_NE(line.find("\"duration_ms\":0.3,"), std::string::npos) << line;
  rec.duration_ms = 12.3456789;
  line.clear();
  to_json(rec, line);
  EXPECT_NE(line.find("\"duration_ms\":12.346,"), std::string::npos) << line;
  rec.duration_ms = 1.0;
  line.clear();
  to_json(rec, line);
  EXPECT_NE(line.find("\"duration_ms\":1,"), std::string::npos) << line;
}

TEST(JsonlSink, OneLinePerRecordAndBufferReuse) {
  std::ostringstream os;
  JsonlSink sink(os);
  HttpRecord big = test::http_record();
  big.http.response->body = test::text_body(std::string(100000, 'z'));
  sink.write(big);
  sink.write(test::connection_record());
  sink.write(test::http_record());
  sink.write(make_finding_record(test::http_record(), Finding{"email", "request.url", 1}));
  sink.flush();
  std::istringstream in(os.str());
  std::string line;
  std::vector<std::string> types;
  while (std::getline(in, line)) types.push_back(Json::parse(line)["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"http", "connection", "http", "finding"}));
}

TEST(JsonlSink, BatchesUntilFlushOrDestruction) {
  std::ostringstream os;
  {
    JsonlSink sink(os);
    sink.write(test::connection_record());
    EXPECT_EQ(os.str(), "") << "written before flush";
    sink.flush();
    EXPECT_EQ(Json::parse(os.str())["type"], "connection");
    sink.write(test::http_record());
  }
  std::istringstream in(os.str());
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) ++lines;
  EXPECT_EQ(lines, 2) << "destructor did not write the batch";
}

TEST(JsonlSink, WritesOutWhenTheBatchIsFull) {
  std::ostringstream os;
  JsonlSink sink(os);
  int written = 0;
  while (os.str().empty() && written < 1000) {
    sink.write(test::http_record());
    ++written;
  }
  EXPECT_LT(written, 1000);
  EXPECT_GE(os.str().size(), 64u * 1024);
  EXPECT_EQ(os.str().back(), '\n');
}

TEST(JsonlSink, ToJsonAppends) {
  std::string out = "[";
  to_json(test::connection_record(), out);
  out += ",";
  to_json(test::http_record(), out);
  out += "]";
  const Json j = Json::parse(out);
  EXPECT_EQ(j[0]["type"], "connection");
  EXPECT_EQ(j[1]["type"], "http");
}

}  // namespace
}  // namespace qtap
