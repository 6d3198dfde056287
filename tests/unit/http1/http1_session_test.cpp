// Field-by-field expectations for each fixture fed whole. The stressor test
// checks that random splits of the same bytes give identical results.
#include "protocols/http1/http1_session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/http1/http1_harness.h"
#include "unit/protocols/compress_util.h"

namespace qtap::http1::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<HttpExchange> run(std::string_view name) { return run_whole(fixture(name)); }

std::vector<std::string> names_of(const std::vector<Header>& hs) {
  std::vector<std::string> out;
  for (const Header& h : hs) out.push_back(h.name + ": " + h.value);
  return out;
}

void expect_plain_body(const Body& b, std::string_view data) {
  EXPECT_EQ(b.data, data);
  EXPECT_EQ(b.size, data.size());
  EXPECT_EQ(b.wire_size, data.size());
  EXPECT_EQ(b.captured, data.size());
  EXPECT_FALSE(b.truncated);
  EXPECT_FALSE(b.content_decoded);
}

TEST(Http1Session, SimpleGet) {
  auto xs = run("get");
  ASSERT_EQ(xs.size(), 1u);
  const HttpExchange& x = xs[0];
  EXPECT_EQ(x.version, "HTTP/1.1");
  EXPECT_THAT(x.notes, IsEmpty());
  ASSERT_TRUE(x.request && x.response);
  EXPECT_EQ(x.request->method, "GET");
  EXPECT_EQ(x.request->target, "/index.html?x=1");
  EXPECT_EQ(x.request->version, "HTTP/1.1");
  EXPECT_THAT(names_of(x.request->headers),
              ElementsAre("Host: example.com", "User-Agent: curl/8.0", "Accept: */*"));
  expect_plain_body(x.request->body, "");
  EXPECT_EQ(x.request->start_ns, ts_of(0));
  EXPECT_EQ(x.request->end_ns, ts_of(0));
  EXPECT_EQ(x.response->status, 200);
  EXPECT_EQ(x.response->reason, "OK");
  EXPECT_EQ(x.response->version, "HTTP/1.1");
  expect_plain_body(x.response->body, "hello world\n");
  EXPECT_FALSE(x.response->body.content_encoding);
  EXPECT_EQ(x.response->start_ns, ts_of(1));
  EXPECT_EQ(x.response->end_ns, ts_of(1));
}

TEST(Http1Session, KeepAliveManyRequests) {
  auto xs = run("keepalive");
  ASSERT_EQ(xs.size(), 20u);
  for (size_t i = 0; i < xs.size(); ++i) {
    ASSERT_TRUE(xs[i].request && xs[i].response) << i;
    EXPECT_EQ(xs[i].request->target, "/item/" + std::to_string(i));
    EXPECT_EQ(xs[i].response->body.data, "body-" + std::to_string(i));
    EXPECT_EQ(xs[i].request->start_ns, ts_of(2 * i));
    EXPECT_EQ(xs[i].response->end_ns, ts_of(2 * i + 1));
    EXPECT_THAT(xs[i].notes, IsEmpty());
  }
}

TEST(Http1Session, PipelinedResponsesMatchInOrderAndHeadHasNoBody) {
  auto xs = run("pipelined");
  ASSERT_EQ(xs.size(), 4u);
  EXPECT_EQ(xs[0].request->target, "/a");
  expect_plain_body(xs[0].response->body, "A");
  EXPECT_EQ(xs[1].request->method, "HEAD");
  expect_plain_body(xs[1].response->body, "");
  EXPECT_EQ(xs[2].request->method, "POST");
  expect_plain_body(xs[2].request->body, "hello");
  EXPECT_EQ(xs[2].response->status, 201);
  expect_plain_body(xs[2].response->body, "abc");
  EXPECT_EQ(xs[3].request->target, "/d");
  expect_plain_body(xs[3].response->body, "D");
  for (const auto& x : xs) EXPECT_THAT(x.notes, IsEmpty());
}

TEST(Http1Session, ContentLengthBodyAcrossChunks) {
  auto xs = run("post_content_length");
  ASSERT_EQ(xs.size(), 1u);
  expect_plain_body(xs[0].request->body, "name=qtap&x");
  EXPECT_EQ(xs[0].request->start_ns, ts_of(0));
  EXPECT_EQ(xs[0].request->end_ns, ts_of(1));
  expect_plain_body(xs[0].response->body, "ok");
  EXPECT_EQ(xs[0].response->start_ns, ts_of(2));
  EXPECT_EQ(xs[0].response->end_ns, ts_of(3));
}

TEST(Http1Session, ChunkedIsDechunkedWithExtensionsAndTrailers) {
  auto xs = run("chunked");
  ASSERT_EQ(xs.size(), 2u);
  expect_plain_body(xs[0].request->body, "0123456789");
  expect_plain_body(xs[0].response->body, "Wikipedia in\r\n\r\nchunks.");
  // Trailer fields follow the header fields.
  EXPECT_THAT(names_of(xs[0].response->headers),
              ElementsAre("Transfer-Encoding: chunked", "Trailer: Expires",
                          "Expires: Wed, 21 Oct 2015 07:28:00 GMT", "X-Trailer: t"));
  EXPECT_EQ(xs[1].request->target, "/");
  expect_plain_body(xs[1].response->body, "ok");
}

TEST(Http1Session, CloseDelimitedResponse) {
  auto xs = run("close_delimited");
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_EQ(xs[0].version, "HTTP/1.0");
  EXPECT_EQ(xs[0].response->version, "HTTP/1.0");
  expect_plain_body(xs[0].response->body, "first part, second part");
  // The last byte, not the close, ends the response.
  EXPECT_EQ(xs[0].response->end_ns, ts_of(2));
  EXPECT_THAT(xs[0].notes, IsEmpty());

  auto ys = run("http11_no_length");
  ASSERT_EQ(ys.size(), 1u);
  expect_plain_body(ys[0].response->body, "until close");
}

TEST(Http1Session, CloseDelimitedResponseWaitsForClose) {
  const Fixture& f = fixture("http11_no_length");
  Http1Session s(f.cfg);
  s.on_data(Side::kRequests, f.steps[0].bytes, 1);
  s.on_data(Side::kResponses, f.steps[1].bytes, 2);
  EXPECT_THAT(s.take_exchanges(), IsEmpty());
  s.on_close(3);
  EXPECT_EQ(s.take_exchanges().size(), 1u);
}

TEST(Http1Session, NoBodyForHead204And304) {
  auto xs = run("no_body_statuses");
  ASSERT_EQ(xs.size(), 4u);
  EXPECT_EQ(xs[0].response->status, 200);
  expect_plain_body(xs[0].response->body, "");
  EXPECT_EQ(xs[0].response->body.content_encoding, "gzip");  // as sent, nothing to decode
  EXPECT_EQ(xs[1].response->status, 204);
  expect_plain_body(xs[1].response->body, "");
  EXPECT_EQ(xs[2].response->status, 304);
  expect_plain_body(xs[2].response->body, "");
  expect_plain_body(xs[3].response->body, "ok");
  for (const auto& x : xs) EXPECT_THAT(x.notes, IsEmpty());
}

TEST(Http1Session, InterimResponsesAreSkippedWithANote) {
  auto xs = run("continue");
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_THAT(xs[0].notes, ElementsAre("100 Continue"));
  EXPECT_EQ(xs[0].request->method, "PUT");
  expect_plain_body(xs[0].request->body, "0123456789");
  EXPECT_EQ(xs[0].request->end_ns, ts_of(2));
  EXPECT_EQ(xs[0].response->status, 201);
  EXPECT_EQ(xs[0].response->start_ns, ts_of(3));

  auto ys = run("early_hints");
  ASSERT_EQ(ys.size(), 1u);
  EXPECT_THAT(ys[0].notes, ElementsAre("103 Early Hints"));
  EXPECT_EQ(ys[0].response->status, 200);
  expect_plain_body(ys[0].response->body, "ok");
}

TEST(Http1Session, FoldingDuplicatesAndCase) {
  auto xs = run("folding_and_duplicates");
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_THAT(names_of(xs[0].request->headers),
              ElementsAre("Host: h", "X-Folded: first second third", "X-Empty: ", "x-CaSe: Value"));
  EXPECT_THAT(
      names_of(xs[0].response->headers),
      ElementsAre("Set-Cookie: a=1", "set-cookie: b=2", "SET-COOKIE: c=3", "Content-Length: 0"));
  const Header* h = find_header(xs[0].response->headers, "set-cookie");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->value, "a=1");
}

TEST(Http1Session, BareLineFeeds) {
  auto xs = run("bare_lf");
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_EQ(xs[0].request->target, "/lf");
  EXPECT_THAT(names_of(xs[0].request->headers), ElementsAre("Host: h"));
  expect_plain_body(xs[0].response->body, "abc");
}

TEST(Http1Session, EmptyLinesBetweenMessagesAreIgnored) {
  auto xs = run("leading_crlf");
  ASSERT_EQ(xs.size(), 2u);
  expect_plain_body(xs[0].request->body, "x");
  EXPECT_EQ(xs[1].request->target, "/b");
  EXPECT_THAT(xs[1].notes, IsEmpty());
}

TEST(Http1Session, StartLineVariants) {
  auto xs = run("status_line_variants");
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].request->method, "OPTIONS");
  EXPECT_EQ(xs[0].request->target, "*");
  EXPECT_EQ(xs[0].response->status, 200);
  EXPECT_EQ(xs[0].response->reason, "");
  EXPECT_EQ(xs[1].request->target, "http://example.com/p?q");
  EXPECT_EQ(xs[1].response->status, 404);
  EXPECT_EQ(xs[1].response->reason, "Not  Found");
}

const std::string& sample() {
  static const std::string s = qtap::test::sample_text(3000, 21);
  return s;
}

void expect_decoded(const Body& b, std::string_view encoding, const std::string& plain) {
  EXPECT_EQ(b.content_encoding, encoding);
  EXPECT_TRUE(b.content_decoded);
  EXPECT_EQ(b.data, plain);
  EXPECT_EQ(b.size, plain.size());
  EXPECT_EQ(b.captured, plain.size());
  EXPECT_FALSE(b.truncated);
}

TEST(Http1Session, GzipBodyIsDecoded) {
  auto xs = run("gzip");
  ASSERT_EQ(xs.size(), 1u);
  const Body& b = xs[0].response->body;
  expect_decoded(b, "gzip", sample());
  EXPECT_EQ(b.wire_size, qtap::test::gzip(sample()).size());
  EXPECT_THAT(xs[0].notes, IsEmpty());
}

TEST(Http1Session, DeflateBodyIsDecodedInBothWrappings) {
  using qtap::test::deflate_bytes;
  using qtap::test::Wrap;
  auto xs = run("deflate_zlib");
  ASSERT_EQ(xs.size(), 1u);
  expect_decoded(xs[0].response->body, "deflate", sample());
  EXPECT_EQ(xs[0].response->body.wire_size, deflate_bytes(sample(), Wrap::kZlib).size());
  auto ys = run("deflate_raw");
  ASSERT_EQ(ys.size(), 1u);
  expect_decoded(ys[0].response->body, "deflate", sample());
  EXPECT_EQ(ys[0].response->body.wire_size, deflate_bytes(sample(), Wrap::kRaw).size());
}

TEST(Http1Session, BrotliChunkedBodyIsDecoded) {
  auto xs = run("br");
  ASSERT_EQ(xs.size(), 1u);
  expect_decoded(xs[0].response->body, "br", sample());
  EXPECT_EQ(xs[0].response->body.wire_size, qtap::test::brotli(sample()).size());
}

TEST(Http1Session, RequestBodiesAreDecodedToo) {
  auto xs = run("gzip_request");
  ASSERT_EQ(xs.size(), 1u);
  expect_decoded(xs[0].request->body, "gzip", "request body");
}

TEST(Http1Session, DecodingCanBeTurnedOff) {
  auto xs = run("gzip_not_decoded");
  ASSERT_EQ(xs.size(), 1u);
  const Body& b = xs[0].response->body;
  EXPECT_EQ(b.content_encoding, "gzip");
  EXPECT_FALSE(b.content_decoded);
  EXPECT_EQ(b.data, qtap::test::gzip("plain"));
  EXPECT_EQ(b.size, b.wire_size);
}

TEST(Http1Session, UndecodableBodyKeepsRawBytes) {
  auto xs = run("gzip_corrupt");
  ASSERT_EQ(xs.size(), 1u);
  const Body& b = xs[0].response->body;
  EXPECT_EQ(b.content_encoding, "gzip");
  EXPECT_FALSE(b.content_decoded);
  EXPECT_EQ(b.data, "not gzip data");
  EXPECT_EQ(b.size, 13u);
  EXPECT_FALSE(b.truncated);
  EXPECT_THAT(xs[0].notes, ElementsAre("body not decoded (content-encoding gzip)"));
}

TEST(Http1Session, BodyLargerThanMaxBody) {
  auto xs = run("big_body");  // max_body 1000
  ASSERT_EQ(xs.size(), 2u);
  const Body& rq = xs[0].request->body;
  EXPECT_EQ(rq.size, 3000u);
  EXPECT_EQ(rq.wire_size, 3000u);
  EXPECT_EQ(rq.captured, 1000u);
  EXPECT_EQ(rq.data, std::string(1000, 'q'));
  EXPECT_TRUE(rq.truncated);
  const Body& rs = xs[0].response->body;
  EXPECT_EQ(rs.size, 5000u);
  EXPECT_EQ(rs.captured, 1000u);
  EXPECT_EQ(rs.data, qtap::test::sample_text(5000, 2).substr(0, 1000));
  EXPECT_TRUE(rs.truncated);
  // The next exchange is framed correctly after the skipped bytes.
  expect_plain_body(xs[1].response->body, "ok");
}

TEST(Http1Session, CompressedBodyLargerThanMaxBodyDecodesAPrefix) {
  auto xs = run("big_gzip");  // 3000 random bytes gzipped: ~3 KB on the wire, max_body 1000
  ASSERT_EQ(xs.size(), 1u);
  const Body& b = xs[0].response->body;
  std::string plain = qtap::test::random_bytes(3000, 4);
  EXPECT_TRUE(b.content_decoded);
  EXPECT_TRUE(b.truncated);
  EXPECT_EQ(b.wire_size, qtap::test::gzip(plain).size());
  EXPECT_EQ(b.size, b.wire_size);  // the decoded size is unknown
  ASSERT_GT(b.captured, 0u);
  EXPECT_LE(b.captured, 1000u);
  EXPECT_EQ(b.data, plain.substr(0, b.captured));

  auto ys = run("gzip_expands");  // 54 bytes that inflate to 20000
  ASSERT_EQ(ys.size(), 1u);
  const Body& e = ys[0].response->body;
  EXPECT_TRUE(e.content_decoded);
  EXPECT_TRUE(e.truncated);
  EXPECT_EQ(e.data, std::string(1000, 'z'));
  EXPECT_EQ(e.captured, 1000u);
  EXPECT_EQ(e.size, e.wire_size);
}

TEST(Http1Session, GapInsideContentLengthBody) {
  auto xs = run("gap_in_body");
  ASSERT_EQ(xs.size(), 2u);
  const Body& b = xs[0].response->body;
  EXPECT_EQ(b.wire_size, 100u);
  EXPECT_EQ(b.size, 100u);
  EXPECT_EQ(b.data, std::string(30, 'a'));  // bytes after the hole are not kept
  EXPECT_EQ(b.captured, 30u);
  EXPECT_TRUE(b.truncated);
  EXPECT_EQ(xs[0].response->end_ns, ts_of(3));
  expect_plain_body(xs[1].response->body, "ok");
  EXPECT_THAT(xs[1].notes, IsEmpty());
}

TEST(Http1Session, GapInsideAChunk) {
  auto xs = run("gap_in_chunk");
  ASSERT_EQ(xs.size(), 2u);
  const Body& b = xs[0].response->body;
  EXPECT_EQ(b.wire_size, 16u);
  EXPECT_EQ(b.data, "abcd");
  EXPECT_TRUE(b.truncated);
  EXPECT_THAT(xs[0].notes, IsEmpty());
  expect_plain_body(xs[1].response->body, "ok");
}

TEST(Http1Session, GapPastTheChunkEndLosesSyncThenResyncs) {
  auto xs = run("gap_past_chunk");
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_THAT(xs[0].notes, ElementsAre("capture gap past the end of a chunk"));
  const Body& b = xs[0].response->body;
  EXPECT_EQ(b.data, "ab");
  EXPECT_EQ(b.wire_size, 8u);  // what is known of it: the chunk
  EXPECT_TRUE(b.truncated);
  EXPECT_EQ(xs[1].request->start_ns, ts_of(4));
  expect_plain_body(xs[1].response->body, "ok");
  EXPECT_THAT(xs[1].notes, IsEmpty());
}

TEST(Http1Session, GapInsideRequestBody) {
  auto xs = run("gap_request_body");
  ASSERT_EQ(xs.size(), 1u);
  const Body& b = xs[0].request->body;
  EXPECT_EQ(b.wire_size, 10u);
  EXPECT_EQ(b.data, "01");
  EXPECT_TRUE(b.truncated);
  EXPECT_EQ(xs[0].request->end_ns, ts_of(2));
  expect_plain_body(xs[0].response->body, "ok");
}

TEST(Http1Session, GapInRequestHeadKeepsResponsesAligned) {
  auto xs = run("gap_in_request_head");
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_FALSE(xs[0].request);
  ASSERT_TRUE(xs[0].response);
  EXPECT_EQ(xs[0].response->body.data, "A");
  EXPECT_THAT(xs[0].notes, ElementsAre("request not captured: capture gap in request head"));
  EXPECT_EQ(xs[1].request->target, "/b");
  EXPECT_EQ(xs[1].response->body.data, "B");
}

TEST(Http1Session, GapInResponseHeadKeepsResponsesAligned) {
  auto xs = run("gap_in_response_head");
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].request->target, "/a");
  EXPECT_FALSE(xs[0].response);
  EXPECT_THAT(xs[0].notes, ElementsAre("response not captured: capture gap in response head"));
  EXPECT_EQ(xs[1].request->target, "/b");
  EXPECT_EQ(xs[1].response->body.data, "B");
}

TEST(Http1Session, GapBetweenRequests) {
  auto xs = run("gap_between_requests");
  ASSERT_EQ(xs.size(), 3u);
  EXPECT_EQ(xs[0].request->target, "/a");
  EXPECT_FALSE(xs[1].request);
  EXPECT_EQ(xs[1].response->body.data, "L");
  EXPECT_THAT(xs[1].notes, ElementsAre("request not captured: request lost in a capture gap"));
  EXPECT_EQ(xs[2].request->target, "/c");
  EXPECT_EQ(xs[2].response->body.data, "ok");
}

TEST(Http1Session, NonHttpBytesProduceNothing) { EXPECT_THAT(run("garbage"), IsEmpty()); }

TEST(Http1Session, NonHttpPreambleIsSkipped) {
  auto xs = run("garbage_then_http");
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_EQ(xs[0].request->target, "/ok");
  EXPECT_EQ(xs[0].response->body.data, "ok");
  EXPECT_THAT(xs[0].notes, IsEmpty());
}

TEST(Http1Session, InvalidHeaderLine) {
  auto xs = run("invalid_header");
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_FALSE(xs[0].request);
  EXPECT_EQ(xs[0].response->status, 400);
  EXPECT_THAT(xs[0].notes, ElementsAre("request not captured: invalid header line"));
  EXPECT_EQ(xs[1].request->target, "/");
  EXPECT_EQ(xs[1].response->status, 200);
}

TEST(Http1Session, HeadTooLarge) {
  auto xs = run("head_too_large");  // max_head_bytes 256
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_FALSE(xs[0].request);
  EXPECT_EQ(xs[0].response->status, 431);
  EXPECT_THAT(xs[0].notes, ElementsAre("request not captured: request head too large"));
  EXPECT_EQ(xs[1].request->target, "/next");
  EXPECT_EQ(xs[1].response->status, 200);
}

TEST(Http1Session, UnframeableMessages) {
  auto xs = run("conflicting_length");
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_FALSE(xs[0].response);
  EXPECT_THAT(xs[0].notes, ElementsAre("response not captured: conflicting Content-Length"));
  EXPECT_EQ(xs[1].response->body.data, "ok");

  auto ys = run("request_te_not_chunked");
  ASSERT_EQ(ys.size(), 1u);
  EXPECT_FALSE(ys[0].request);
  EXPECT_EQ(ys[0].response->status, 400);
  EXPECT_THAT(
      ys[0].notes,
      ElementsAre("request not captured: request Transfer-Encoding does not end in chunked"));
}

TEST(Http1Session, SwitchingProtocolsEndsHttp1) {
  const Fixture& f = fixture("upgrade");
  Http1Session s(f.cfg);
  s.on_data(Side::kRequests, f.steps[0].bytes, 1);
  EXPECT_FALSE(s.upgraded());
  s.on_data(Side::kResponses, f.steps[1].bytes, 2);
  EXPECT_TRUE(s.upgraded());
  auto xs = s.take_exchanges();
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_EQ(xs[0].response->status, 101);
  expect_plain_body(xs[0].response->body, "");
  EXPECT_EQ(find_header(xs[0].request->headers, "upgrade")->value, "websocket");
  // Later bytes, gaps and the close are not HTTP/1 any more.
  s.on_data(Side::kRequests, f.steps[2].bytes, 3);
  s.on_data(Side::kResponses, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 4);
  s.on_gap(Side::kResponses, 10, 5);
  s.on_close(6);
  EXPECT_THAT(s.take_exchanges(), IsEmpty());
  EXPECT_EQ(run("upgrade").size(), 1u);
}

TEST(Http1Session, SuccessfulConnectEndsHttp1) {
  auto xs = run("connect");
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].request->method, "CONNECT");
  EXPECT_EQ(xs[0].request->target, "example.com:443");
  EXPECT_EQ(xs[0].response->status, 407);
  EXPECT_EQ(xs[1].response->status, 200);
  expect_plain_body(xs[1].response->body, "");  // not the tunnelled TLS bytes
  for (const auto& x : xs) EXPECT_THAT(x.notes, IsEmpty());
}

TEST(Http1Session, ResponseWithoutRequest) {
  auto xs = run("orphan_response");
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_FALSE(xs[0].request);
  EXPECT_EQ(xs[0].version, "HTTP/1.1");
  EXPECT_EQ(xs[0].response->body.data, "ok");
  EXPECT_THAT(xs[0].notes, ElementsAre("response without request"));
  EXPECT_EQ(xs[1].request->target, "/second");
  EXPECT_THAT(xs[1].notes, IsEmpty());
}

TEST(Http1Session, RequestsPendingAtClose) {
  auto xs = run("pending_at_close");
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_TRUE(xs[0].response);
  EXPECT_EQ(xs[1].request->target, "/b");
  EXPECT_FALSE(xs[1].response);
  EXPECT_THAT(xs[1].notes, ElementsAre("no response before the connection closed"));
}

TEST(Http1Session, CloseInsideABody) {
  auto xs = run("close_mid_body");
  ASSERT_EQ(xs.size(), 1u);
  const Body& b = xs[0].response->body;
  EXPECT_EQ(b.data, "0123456789");
  EXPECT_EQ(b.wire_size, 10u);
  EXPECT_TRUE(b.truncated);
  EXPECT_THAT(xs[0].notes, ElementsAre("connection closed before the end of the body"));
}

TEST(Http1Session, TimestampsAreThoseOfFirstAndLastByte) {
  auto xs = run("timestamps");
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_EQ(xs[0].request->start_ns, ts_of(0));
  EXPECT_EQ(xs[0].request->end_ns, ts_of(2));
  EXPECT_EQ(xs[0].response->start_ns, ts_of(3));
  EXPECT_EQ(xs[0].response->end_ns, ts_of(4));
}

TEST(Http1Session, PendingRequestsAreBounded) {
  auto xs = run("max_pending");  // max_pending 2, three requests, one response
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].request->target, "/1");
  EXPECT_FALSE(xs[0].response);
  EXPECT_THAT(xs[0].notes, ElementsAre("no response: too many requests pending"));
  EXPECT_EQ(xs[1].request->target, "/2");
  EXPECT_TRUE(xs[1].response);
}

TEST(Http1Session, CloseIsFinal) {
  Http1Session s(Config{});
  s.on_data(Side::kRequests, "GET / HTTP/1.1\r\n\r\n", 1);
  s.on_close(2);
  s.on_close(3);
  s.on_data(Side::kResponses, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 4);
  auto xs = s.take_exchanges();
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_FALSE(xs[0].response);
  EXPECT_THAT(s.take_exchanges(), IsEmpty());
}

TEST(Http1Session, ExchangesComeOutInRequestOrderAsSoonAsComplete) {
  Http1Session s(Config{});
  s.on_data(Side::kRequests, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", 1);
  EXPECT_THAT(s.take_exchanges(), IsEmpty());
  s.on_data(Side::kResponses, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1", 2);
  auto first = s.take_exchanges();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].request->target, "/1");
  s.on_data(Side::kResponses, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n", 3);
  EXPECT_THAT(s.take_exchanges(), IsEmpty());  // body still due
  s.on_data(Side::kResponses, "2", 4);
  auto second = s.take_exchanges();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].response->body.data, "2");
}

TEST(Http1Session, EarlyResponseWaitsForTheRequestBody) {
  // A server may answer (413) before the upload is complete.
  Http1Session s(Config{});
  s.on_data(Side::kRequests, "POST /u HTTP/1.1\r\nContent-Length: 6\r\n\r\nabc", 1);
  s.on_data(Side::kResponses, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n", 2);
  EXPECT_THAT(s.take_exchanges(), IsEmpty());
  s.on_data(Side::kRequests, "def", 3);
  auto xs = s.take_exchanges();
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_EQ(xs[0].request->body.data, "abcdef");
  EXPECT_EQ(xs[0].response->status, 413);
}

}  // namespace
}  // namespace qtap::http1::test
