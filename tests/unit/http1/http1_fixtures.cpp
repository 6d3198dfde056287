// Byte fixtures for Http1Session. Each one is asserted field by field in
// http1_session_test.cpp and fed through the stressor in
// http1_stressor_test.cpp.
#include <fmt/format.h>

#include "unit/http1/http1_harness.h"
#include "unit/protocols/compress_util.h"

namespace qtap::http1::test {

namespace {

std::string response_with(std::string_view encoding, const std::string& encoded) {
  return fmt::format(
             "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: {}\r\n"
             "Content-Length: {}\r\n\r\n",
             encoding, encoded.size()) +
         encoded;
}

// `body` in chunks of `n` bytes.
std::string chunked(std::string_view body, size_t n) {
  std::string out;
  while (!body.empty()) {
    std::string_view c = body.substr(0, n);
    out += fmt::format("{:x}\r\n", c.size());
    out += c;
    out += "\r\n";
    body.remove_prefix(c.size());
  }
  return out + "0\r\n\r\n";
}

// A literal that may hold NUL bytes.
template <size_t N>
std::string raw(const char (&s)[N]) {
  return std::string(s, N - 1);
}

Config small_body(uint64_t max_body) {
  Config c;
  c.max_body = max_body;
  return c;
}

std::vector<Fixture> build() {
  using qtap::test::brotli;
  using qtap::test::deflate_bytes;
  using qtap::test::gzip;
  using qtap::test::sample_text;
  using qtap::test::Wrap;
  const std::string get = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  std::vector<Fixture> all;

  all.emplace_back("get")
      .req(
          "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\n"
          "Accept: */*\r\n\r\n")
      .resp(
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n"
          "hello world\n");

  {
    Fixture& f = all.emplace_back("keepalive");
    for (int i = 0; i < 20; ++i) {
      std::string body = fmt::format("body-{}", i);
      f.req(fmt::format("GET /item/{} HTTP/1.1\r\nHost: h\r\n\r\n", i));
      f.resp(fmt::format("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}", body.size(), body));
    }
    f.close();
  }

  all.emplace_back("pipelined")
      .req(
          "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
          "HEAD /b HTTP/1.1\r\nHost: h\r\n\r\n"
          "POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
          "GET /d HTTP/1.1\r\nHost: h\r\n\r\n")
      .resp(
          "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
          "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"  // HEAD: no body follows
          "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
          "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nD");

  all.emplace_back("post_content_length")
      .req("POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nname=")
      .req("qtap&x")
      .resp("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
      .resp("ok");

  all.emplace_back("chunked")
      .req(
          "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
          "a\r\n0123456789\r\n0\r\n\r\n")
      .resp(
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Expires\r\n\r\n"
          "4;name=value\r\nWiki\r\n5 ; ext\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
          "0\r\nExpires: Wed, 21 Oct 2015 07:28:00 GMT\r\nX-Trailer: t\r\n\r\n")
      .req(get)
      .resp(ok);

  all.emplace_back("close_delimited")
      .req("GET /old HTTP/1.0\r\n\r\n")
      .resp("HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nfirst part, ")
      .resp("second part")
      .close();

  all.emplace_back("http11_no_length")
      .req(get)
      .resp("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close")
      .close();

  all.emplace_back("no_body_statuses")
      .req("HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n")
      .resp("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nContent-Encoding: gzip\r\n\r\n")
      .req("GET /n HTTP/1.1\r\nHost: h\r\n\r\n")
      .resp("HTTP/1.1 204 No Content\r\n\r\n")
      .req("GET /m HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\"\r\n\r\n")
      .resp("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n")
      .req(get)
      .resp(ok);

  all.emplace_back("continue")
      .req("PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n")
      .resp("HTTP/1.1 100 Continue\r\n\r\n")
      .req("0123456789")
      .resp("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");

  all.emplace_back("early_hints")
      .req(get)
      .resp(
          "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");

  all.emplace_back("folding_and_duplicates")
      .req(
          "GET / HTTP/1.1\r\nHost: h\r\nX-Folded: first\r\n   second\r\n\t third \r\n"
          "X-Empty:\r\nx-CaSe: Value\r\n\r\n")
      .resp(
          "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nSET-COOKIE: c=3\r\n"
          "Content-Length: 0\r\n\r\n");

  all.emplace_back("bare_lf")
      .req("GET /lf HTTP/1.1\nHost: h\n\n")
      .resp("HTTP/1.1 200 OK\nContent-Length: 3\n\nabc");

  all.emplace_back("leading_crlf")
      .req("POST /a HTTP/1.1\r\nContent-Length: 1\r\n\r\nx\r\n")
      .resp(ok)
      .req("\r\n\r\nGET /b HTTP/1.1\r\n\r\n")
      .resp("\r\n" + ok);

  all.emplace_back("status_line_variants")
      .req("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")
      .resp("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")
      .req("GET http://example.com/p?q HTTP/1.1\r\nHost: example.com\r\n\r\n")
      .resp("HTTP/1.1 404 Not  Found \r\nContent-Length: 0\r\n\r\n");

  const std::string text = sample_text(3000, 21);
  all.emplace_back("gzip").req(get).resp(response_with("gzip", gzip(text)));
  all.emplace_back("deflate_zlib")
      .req(get)
      .resp(response_with("deflate", deflate_bytes(text, Wrap::kZlib)));
  all.emplace_back("deflate_raw")
      .req(get)
      .resp(response_with("deflate", deflate_bytes(text, Wrap::kRaw)));
  all.emplace_back("br").req(get).resp(
      "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nTransfer-Encoding: chunked\r\n\r\n" +
      chunked(brotli(text), 100));
  {
    Config raw;
    raw.decode_content = false;
    all.emplace_back("gzip_not_decoded", raw).req(get).resp(response_with("gzip", gzip("plain")));
  }
  all.emplace_back("gzip_corrupt").req(get).resp(response_with("gzip", "not gzip data"));
  all.emplace_back("gzip_request")
      .req("POST /z HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: " +
           std::to_string(gzip("request body").size()) + "\r\n\r\n" + gzip("request body"))
      .resp(ok);

  all.emplace_back("big_body", small_body(1000))
      .req("POST /big HTTP/1.1\r\nContent-Length: 3000\r\n\r\n" + std::string(3000, 'q'))
      .resp("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + sample_text(5000, 2))
      .req(get)
      .resp(ok);
  all.emplace_back("big_gzip", small_body(1000))
      .req(get)
      .resp(response_with("gzip", gzip(qtap::test::random_bytes(3000, 4))));
  all.emplace_back("gzip_expands", small_body(1000))
      .req(get)
      .resp(response_with("gzip", gzip(std::string(20000, 'z'))));

  all.emplace_back("gap_in_body")
      .req(get)
      .resp("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + std::string(30, 'a'))
      .gap(Side::kResponses, 40)
      .resp(std::string(30, 'b'))
      .req(get)
      .resp(ok);
  all.emplace_back("gap_in_chunk")
      .req(get)
      .resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabcd")
      .gap(Side::kResponses, 6)
      .resp("567890\r\n0\r\n\r\n")
      .req(get)
      .resp(ok);
  all.emplace_back("gap_past_chunk")
      .req(get)
      .resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nab")
      .gap(Side::kResponses, 20)
      .resp("ing tail\r\n0\r\n\r\n")
      .req(get)
      .resp(ok);
  all.emplace_back("gap_request_body")
      .req("POST /p HTTP/1.1\r\nContent-Length: 10\r\n\r\n01")
      .gap(Side::kRequests, 5)
      .req("789")
      .resp(ok);
  all.emplace_back("gap_in_request_head")
      .req("GET /a HTTP/1.1\r\nHo")
      .gap(Side::kRequests, 20)
      .req("st: h\r\n\r\n")
      .resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA")
      .req("GET /b HTTP/1.1\r\nHost: h\r\n\r\n")
      .resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nB");
  all.emplace_back("gap_in_response_head")
      .req("GET /a HTTP/1.1\r\n\r\n")
      .resp("HTTP/1.1 200 OK\r\nCont")
      .gap(Side::kResponses, 30)
      .resp("ent-Type: x\r\n\r\nbody")
      .req("GET /b HTTP/1.1\r\n\r\n")
      .resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nB");
  all.emplace_back("gap_between_requests")
      .req("GET /a HTTP/1.1\r\n\r\n")
      .resp(ok)
      .gap(Side::kRequests, 50)
      .resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nL")
      .req("GET /c HTTP/1.1\r\n\r\n")
      .resp(ok);

  all.emplace_back("garbage")
      .req(raw("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 binary\r\n\x00\x01"))
      .resp(raw("\x16\x03\x03\x00\x7a\x02\x00\x00\x76"))
      .req("\x17\x03\x03 more noise")
      .close()
      .no_interleave();
  all.emplace_back("garbage_then_http")
      .req("PROXY TCP4 10.0.0.1 10.0.0.2 40000 80\r\nGET /ok HTTP/1.1\r\nHost: h\r\n\r\n")
      .resp(ok);
  all.emplace_back("invalid_header")
      .req("GET /bad HTTP/1.1\r\nHost: h\r\nBad Header Line\r\n\r\n")
      .resp("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
      .req(get)
      .resp(ok);
  {
    Config c;
    c.max_head_bytes = 256;
    all.emplace_back("head_too_large", c)
        .req("GET /big HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(1000, 'x') + "\r\n\r\n")
        .resp("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n")
        .req("GET /next HTTP/1.1\r\nHost: h\r\n\r\n")
        .resp(ok);
  }
  all.emplace_back("conflicting_length")
      .req(get)
      .resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello")
      .req(get)
      .resp(ok);
  all.emplace_back("request_te_not_chunked")
      .req("POST /t HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n")
      .resp("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");

  all.emplace_back("upgrade")
      .req("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
      .resp(
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
          "\x81\x05hello")
      .req("\x81\x85\x01\x02\x03\x04iggmn")
      .resp(ok)
      .close();
  all.emplace_back("connect")
      .req("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
      .resp("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
      .req(
          "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
          "Proxy-Authorization: Basic eDp5\r\n\r\n")
      .resp("HTTP/1.1 200 Connection Established\r\n\r\n")
      .req(raw("\x16\x03\x01\x00\x05hello"))
      .resp(raw("\x16\x03\x03\x00\x02hi"))
      .close();

  all.emplace_back("orphan_response")
      .resp("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
      .req("GET /second HTTP/1.1\r\n\r\n")
      .resp(ok);
  all.emplace_back("pending_at_close")
      .req("GET /a HTTP/1.1\r\n\r\n")
      .resp(ok)
      .req("GET /b HTTP/1.1\r\n\r\n")
      .close();
  all.emplace_back("close_mid_body")
      .req(get)
      .resp("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
      .close();
  all.emplace_back("timestamps")
      .req("GET / HT")
      .req("TP/1.1\r\nHost: h\r\n")
      .req("\r\n")
      .resp("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n")
      .resp("abcd");
  {
    Config c;
    c.max_pending = 2;
    all.emplace_back("max_pending", c)
        .req("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n")
        .resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1")
        .no_interleave();
  }
  return all;
}

}  // namespace

const std::vector<Fixture>& fixtures() {
  static const std::vector<Fixture> all = build();
  return all;
}

}  // namespace qtap::http1::test
