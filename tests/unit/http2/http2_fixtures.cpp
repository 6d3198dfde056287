// Byte fixtures: real frames, real HPACK blocks. Each is checked field by field in
// http2_session_test.cpp / http2_grpc_test.cpp and replayed in random splits by the stressor.
#include <fmt/format.h>

#include "unit/http2/http2_harness.h"
#include "unit/protocols/compress_util.h"

namespace qtap::http2::test {

namespace {

Fields get(const std::string& path, const std::string& authority = "example.com") {
  return {{":method", "GET"}, {":scheme", "https"},          {":authority", authority},
          {":path", path},    {"user-agent", "qtap-test/1"}, {"accept", "*/*"}};
}

Fields post(const std::string& path, const std::string& content_type) {
  return {{":method", "POST"},
          {":scheme", "https"},
          {":authority", "example.com"},
          {":path", path},
          {"content-type", content_type}};
}

Fields status(const std::string& code, Fields extra = {}) {
  Fields f = {{":status", code}};
  f.insert(f.end(), extra.begin(), extra.end());
  return f;
}

Fields grpc_request(const std::string& path) {
  return {{":method", "POST"},
          {":scheme", "http"},
          {":path", path},
          {":authority", "localhost:50051"},
          {"content-type", "application/grpc"},
          {"te", "trailers"},
          {"grpc-timeout", "1S"}};
}

Fields grpc_response() { return {{":status", "200"}, {"content-type", "application/grpc"}}; }

// A connection seen from its start: the client's preface and SETTINGS, the server's SETTINGS
// and ACK. The client's ACK goes with its first request.
struct Conn {
  Encoder client_enc;
  Encoder server_enc;
  std::string req(uint32_t id, const Fields& f, HeadersOpts o = {}) {
    return headers(id, client_enc.encode(f), o);
  }
  std::string resp(uint32_t id, const Fields& f, HeadersOpts o = {}) {
    return headers(id, server_enc.encode(f), o);
  }
};

constexpr HeadersOpts kEnd{.end_stream = true};

// Concatenation in order: the operands of `+` may be evaluated in any order, and encoding a
// header block changes the encoder's table, so blocks must be encoded in wire order.
struct Cat {
  std::string s;
  Cat& operator<<(std::string_view v) {
    s.append(v);
    return *this;
  }
  operator std::string() const { return s; }  // NOLINT(google-explicit-constructor)
};

Fixture get_fixture() {
  Conn c;
  Fixture f("get");
  f.client(client_start());
  f.server(Cat() << settings({{0x3, 100}}) << settings_ack());
  f.client(Cat() << settings_ack() << c.req(1, get("/index.html"), kEnd));
  f.server(Cat() << c.resp(1, status("200", {{"content-type", "text/plain"}, {"server", "test"}}))
                 << data(1, "hello world", true));
  return f;
}

Fixture post_padded() {
  Conn c;
  Fixture f("post_padded");
  f.client(Cat() << client_start()
                 << c.req(1, post("/upload", "text/plain"), {.pad = 10, .priority = true})
                 << data(1, "part1", false, 5) << data(1, "part2", true, 0));
  f.server(Cat() << settings() << settings_ack() << c.resp(1, status("201"), {.pad = 3})
                 << data(1, "created", true, 255));
  return f;
}

Fixture continuation() {
  Conn c;
  Fixture f("continuation");
  Fields req = get("/big");
  req.emplace_back("cookie", std::string(1500, 'c'));
  req.emplace_back("x-long", std::string(1200, 'x'));
  Fields resp = status("204", {{"x-a", std::string(700, 'a')}, {"x-b", std::string(700, 'b')}});
  f.client(Cat() << client_start() << c.req(1, req, {.end_stream = true, .split = 1000}));
  f.server(Cat() << settings() << c.resp(1, resp, {.end_stream = true, .split = 500}));
  return f;
}

Fixture interleaved() {
  Conn c;
  Fixture f("interleaved");
  f.client(Cat() << client_start() << c.req(1, get("/a"), kEnd)
                 << c.req(3, post("/b", "text/plain")) << c.req(5, get("/c"), kEnd));
  f.client(data(3, "body-b", true));
  f.server(Cat() << settings() << c.resp(5, status("200")) << c.resp(1, status("200"))
                 << data(1, "a-1") << data(5, "c-1", true) << data(1, "a-2", true)
                 << c.resp(3, status("201")) << data(3, "done", true));
  return f;
}

Fixture hpack_indexing() {
  Conn c;
  Fixture f("hpack_indexing");
  Fields req = get("/one");
  req.emplace_back("x-trace", "trace-0123456789abcdef");
  f.client(Cat() << client_start() << c.req(1, req, kEnd));
  f.server(Cat() << settings() << c.resp(1, status("200", {{"x-served-by", "node-17"}}), kEnd));
  req[3].second = "/two";
  f.client(c.req(3, req, kEnd));
  f.server(c.resp(3, status("200", {{"x-served-by", "node-17"}}), kEnd));
  return f;
}

// The server lowers the client's table to 256 bytes. A request already encoded before the
// client saw that SETTINGS (no size update) must still decode: the limit applies at the
// client's ACK, not at the server's SETTINGS.
Fixture table_size_shrink() {
  Conn c;
  Fixture f("table_size_shrink");
  Fields req = get("/1");
  req.emplace_back("x-big", std::string(300, 'q'));
  f.client(Cat() << client_start() << c.req(1, req, kEnd));
  f.server(Cat() << settings({{setting::kHeaderTableSize, 256}}) << settings_ack());
  req[3].second = "/3";
  std::string in_flight = c.req(3, req, kEnd);
  c.client_enc.change_table_size(256);
  req[3].second = "/5";
  f.client(Cat() << in_flight << settings_ack() << c.req(5, req, kEnd));
  f.server(Cat() << c.resp(1, status("200"), kEnd) << c.resp(3, status("200"), kEnd)
                 << c.resp(5, status("200"), kEnd));
  return f;
}

// The server raises the client's table to 8192 bytes; the client's encoder then sends a size
// update to 8192, which a decoder still limited to 4096 would refuse.
Fixture table_size_grow() {
  Conn c{Encoder(65536), Encoder()};
  Fixture f("table_size_grow");
  f.client(client_start());
  f.server(Cat() << settings({{setting::kHeaderTableSize, 8192}}) << settings_ack());
  c.client_enc.change_table_size(8192);
  Fields req = get("/grown");
  for (int i = 0; i < 40; ++i)
    req.emplace_back(fmt::format("x-h{}", i), std::string(150, 'a' + i % 26));
  f.client(Cat() << settings_ack() << c.req(1, req, kEnd));
  req[3].second = "/again";
  f.client(c.req(3, req, kEnd));
  f.server(Cat() << c.resp(1, status("200"), kEnd) << c.resp(3, status("200"), kEnd));
  return f;
}

Fixture rst_cancel() {
  Conn c;
  Fixture f("rst_cancel");
  f.client(Cat() << client_start() << c.req(1, get("/slow"), kEnd));
  f.server(Cat() << settings() << c.resp(1, status("200")) << data(1, "first part"));
  f.client(rst_stream(1, 0x8));
  f.server(data(1, "late data"));  // in flight when the reset arrived: ignored
  return f;
}

Fixture rst_refused() {
  Conn c;
  Fixture f("rst_refused");
  f.client(Cat() << client_start() << c.req(1, post("/upload", "text/plain")) << data(1, "abc"));
  f.server(Cat() << settings() << rst_stream(1, 0x7));
  return f;
}

// RFC 9113 8.1: the server answers before the upload ends and stops it with NO_ERROR.
Fixture rst_after_response() {
  Conn c;
  Fixture f("rst_after_response");
  f.client(Cat() << client_start() << c.req(1, post("/big-upload", "application/octet-stream"))
                 << data(1, "first chunk"));
  f.server(Cat() << settings() << c.resp(1, status("413"), kEnd) << rst_stream(1, 0x0));
  f.client(data(1, "second chunk, too late"));
  return f;
}

Fixture goaway_graceful() {
  Conn c;
  Fixture f("goaway_graceful");
  f.client(Cat() << client_start() << c.req(1, get("/1"), kEnd) << c.req(3, get("/3"), kEnd)
                 << c.req(5, get("/5"), kEnd));
  f.server(Cat() << settings() << goaway(3, 0x0) << c.resp(1, status("200"), kEnd)
                 << c.resp(3, status("200"), kEnd));
  return f;
}

Fixture goaway_error() {
  Conn c;
  Fixture f("goaway_error");
  f.client(Cat() << client_start() << c.req(1, get("/1"), kEnd) << c.req(3, get("/3"), kEnd));
  f.server(Cat() << settings() << c.resp(1, status("200")) << goaway(1, 0x1, "bad frame"));
  return f;
}

Fixture trailers() {
  Conn c;
  Fixture f("trailers");
  f.client(Cat() << client_start() << c.req(1, get("/file"), kEnd));
  f.server(Cat() << settings() << c.resp(1, status("200", {{"trailer", "x-checksum"}}))
                 << data(1, "payload")
                 << c.resp(1, {{"x-checksum", "abc123"}, {"x-count", "7"}}, kEnd));
  return f;
}

Fixture push() {
  Conn c;
  Fixture f("push_promise");
  f.client(Cat() << client_start() << c.req(1, get("/index.html"), kEnd));
  f.server(Cat() << settings() << push_promise(1, 2, c.server_enc.encode(get("/style.css")))
                 << c.resp(1, status("200")) << data(1, "<html>", true)
                 << c.resp(2, status("200", {{"content-type", "text/css"}}))
                 << data(2, "body{}", true));
  return f;
}

Fixture close_open() {
  Conn c;
  Fixture f("close_open");
  f.client(Cat() << client_start() << c.req(1, get("/stream"), kEnd)
                 << c.req(3, get("/other"), kEnd));
  f.server(Cat() << settings() << c.resp(1, status("200")) << data(1, "tick"));
  f.close();
  return f;
}

Fixture gzip_body() {
  Conn c;
  Fixture f("gzip_body");
  const std::string text = "compressible text, compressible text, compressible text";
  f.client(Cat() << client_start() << c.req(1, get("/z"), kEnd));
  f.server(Cat() << settings() << c.resp(1, status("200", {{"content-encoding", "gzip"}}))
                 << data(1, qtap::test::gzip(text), true));
  return f;
}

Fixture interim_100() {
  Conn c;
  Fixture f("interim_100");
  Fields req = post("/put", "text/plain");
  req.emplace_back("expect", "100-continue");
  f.client(Cat() << client_start() << c.req(1, req));
  f.server(Cat() << settings() << c.resp(1, status("100")));
  f.client(data(1, "the body", true));
  f.server(c.resp(1, status("200"), kEnd));
  return f;
}

Fixture control_frames() {
  Conn c;
  Fixture f("control_frames");
  f.client(Cat() << client_start() << ping() << c.req(1, post("/p", "text/plain"))
                 << window_update(0, 65535) << priority(1, 0) << data(1, "x", true));
  f.server(Cat() << settings() << ping(true) << settings_ack() << window_update(1, 100)
                 << c.resp(1, status("200")) << ping() << data(1, "y", true)
                 << window_update(0, 1));
  return f;
}

Fixture max_body_cut() {
  Conn c;
  Config cfg;
  cfg.max_body = 10;
  Fixture f("max_body_cut", cfg);
  f.client(Cat() << client_start() << c.req(1, get("/big"), kEnd));
  f.server(Cat() << settings() << c.resp(1, status("200")) << data(1, "0123456789abcdef")
                 << data(1, "ghij", true));
  return f;
}

// Capture starting inside a connection: the encoders' tables hold entries from requests the
// capture never saw, and stream 1's response is half gone.
Fixture mid_stream() {
  Conn c;
  Fields req = get("/before");
  req.emplace_back("x-session", "s-42");
  c.client_enc.encode(req);  // not captured
  c.server_enc.encode(status("200", {{"x-served-by", "node-17"}}));
  Fixture f("mid_stream");
  f.mid_stream = true;
  f.server(data(1, "tail of an old response", true));
  req[3].second = "/after";
  f.client(c.req(3, req, kEnd));  // refers to the entries it indexed before
  f.server(Cat() << c.resp(3, status("200", {{"x-served-by", "node-17"}}))
                 << data(3, "body three", true));
  // A block with no reference to older entries decodes again.
  Encoder fresh(0);
  f.client(headers(5, fresh.encode(get("/fresh", "example.org")), kEnd));
  Encoder fresh_server(0);
  f.server(headers(5, fresh_server.encode(status("404")), kEnd));
  return f;
}

Fixture gap_in_data() {
  Conn c;
  Fixture f("gap_in_data");
  const std::string body(100, 'b');
  f.client(Cat() << client_start() << c.req(1, get("/data"), kEnd));
  const std::string frames = settings() + c.resp(1, status("200")) + data(1, body, true);
  // The DATA frame's header and 30 bytes, a hole of 40, the last 30 bytes.
  const size_t data_start = frames.size() - body.size();
  f.server(frames.substr(0, data_start + 30));
  f.gap(Side::kResponses, 40);
  f.server(frames.substr(data_start + 70));
  f.client(c.req(3, get("/after"), kEnd));
  f.server(Cat() << c.resp(3, status("200")) << data(3, "ok", true));
  return f;
}

// A hole covering a whole frame and the next header: framing is lost on the server side and
// found again at the next frames; the server's HPACK table is lost with it.
Fixture gap_resync() {
  Conn c;
  Fixture f("gap_resync");
  f.client(Cat() << client_start() << c.req(1, get("/one"), kEnd) << c.req(3, get("/three"), kEnd));
  f.server(Cat() << settings() << c.resp(1, status("200", {{"content-type", "text/plain"}}))
                 << data(1, "abc"));
  f.gap(Side::kResponses, data(1, "lost", true).size());
  f.server(Cat() << c.resp(3, status("200", {{"content-type", "text/plain"}}))
                 << data(3, "three", true));
  f.client(c.req(5, get("/five"), kEnd));
  Encoder fresh(0);
  f.server(headers(5, fresh.encode(status("202")), kEnd));
  f.close();
  return f;
}

// gRPC.

Fixture grpc_unary() {
  Conn c;
  Fixture f("grpc_unary");
  f.client(Cat() << client_start() << c.req(1, grpc_request("/helloworld.Greeter/SayHello"))
                 << data(1, grpc_message(pb_bytes(1, "world")), true));
  f.server(Cat() << settings() << c.resp(1, grpc_response())
                 << data(1, grpc_message(pb_bytes(1, "Hello world")))
                 << c.resp(1, {{"grpc-status", "0"}, {"grpc-message", ""}}, kEnd));
  return f;
}

// Three responses: two in one DATA frame, the third split across two frames (its prefix too).
Fixture grpc_server_streaming() {
  Conn c;
  Fixture f("grpc_server_streaming");
  f.client(Cat() << client_start() << c.req(1, grpc_request("/routeguide.RouteGuide/ListFeatures"))
                 << data(1, grpc_message(pb_varint(1, 400) + pb_varint(2, 600)), true));
  const std::string m1 = grpc_message(pb_bytes(1, "first") + pb_varint(2, 1));
  const std::string m2 = grpc_message(pb_bytes(1, "second") + pb_varint(2, 2));
  const std::string m3 = grpc_message(pb_bytes(1, "third") + pb_bytes(3, pb_varint(1, 7)));
  f.server(Cat() << settings() << c.resp(1, grpc_response()) << data(1, m1 + m2)
                 << data(1, m3.substr(0, 3)) << data(1, m3.substr(3))
                 << c.resp(1, {{"grpc-status", "0"}}, kEnd));
  return f;
}

Fixture grpc_trailers_only() {
  Conn c;
  Fixture f("grpc_trailers_only");
  f.client(Cat() << client_start() << c.req(1, grpc_request("/users.v1.Users/Get"))
                 << data(1, grpc_message(pb_varint(1, 42)), true));
  Fields resp = grpc_response();
  resp.emplace_back("grpc-status", "5");
  resp.emplace_back("grpc-message", "user%2042%20not%20found");
  f.server(Cat() << settings() << c.resp(1, resp, kEnd));
  return f;
}

Fixture grpc_client_streaming() {
  Conn c;
  Config cfg;
  cfg.max_grpc_messages_kept = 2;
  Fixture f("grpc_client_streaming", cfg);
  std::string msgs;
  for (int i = 1; i <= 5; ++i) msgs += grpc_message(pb_varint(1, i));
  f.client(Cat() << client_start() << c.req(1, grpc_request("/stats.Collector/Push"))
                 << data(1, msgs.substr(0, 13)) << data(1, msgs.substr(13), true));
  f.server(Cat() << settings() << c.resp(1, grpc_response())
                 << data(1, grpc_message(pb_varint(1, 15)))
                 << c.resp(1, {{"grpc-status", "0"}}, kEnd));
  return f;
}

Fixture grpc_compressed() {
  Conn c;
  Fixture f("grpc_compressed");
  Fields req = grpc_request("/echo.Echo/Say");
  req.emplace_back("grpc-encoding", "gzip");
  f.client(Cat() << client_start() << c.req(1, req)
                 << data(1, grpc_message(qtap::test::gzip(pb_bytes(1, "zipped")), true), true));
  f.server(Cat() << settings() << c.resp(1, grpc_response()) << data(1, grpc_message(""))
                 << c.resp(1, {{"grpc-status", "13"}, {"grpc-message", "boom: 100%25"}}, kEnd));
  return f;
}

std::vector<Fixture> build() {
  std::vector<Fixture> v;
  v.push_back(get_fixture());
  v.push_back(post_padded());
  v.push_back(continuation());
  v.push_back(interleaved());
  v.push_back(hpack_indexing());
  v.push_back(table_size_shrink());
  v.push_back(table_size_grow());
  v.push_back(rst_cancel());
  v.push_back(rst_refused());
  v.push_back(rst_after_response());
  v.push_back(goaway_graceful());
  v.push_back(goaway_error());
  v.push_back(trailers());
  v.push_back(push());
  v.push_back(close_open());
  v.push_back(gzip_body());
  v.push_back(interim_100());
  v.push_back(control_frames());
  v.push_back(max_body_cut());
  v.push_back(mid_stream());
  v.push_back(gap_in_data());
  v.push_back(gap_resync());
  v.push_back(grpc_unary());
  v.push_back(grpc_server_streaming());
  v.push_back(grpc_trailers_only());
  v.push_back(grpc_client_streaming());
  v.push_back(grpc_compressed());
  return v;
}

}  // namespace

const std::vector<Fixture>& fixtures() {
  static const std::vector<Fixture> all = build();
  return all;
}

}  // namespace qtap::http2::test
