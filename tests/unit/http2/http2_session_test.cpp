// Each fixture, field by field.
#include "protocols/http2/http2_session.h"

#include <gtest/gtest.h>

#include "unit/http2/http2_harness.h"

namespace qtap::http2::test {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs pairs(const std::vector<Header>& hs) {
  Pairs out;
  for (const Header& h : hs) out.emplace_back(h.name, h.value);
  return out;
}

using Notes = std::vector<std::string>;

const Pairs kGetHeaders = {{":scheme", "https"},
                           {":authority", "example.com"},
                           {"user-agent", "qtap-test/1"},
                           {"accept", "*/*"}};

void expect_body(const Body& b, std::string_view data, uint64_t size, bool truncated = false) {
  EXPECT_EQ(b.data, data);
  EXPECT_EQ(b.size, size);
  EXPECT_EQ(b.wire_size, size);
  EXPECT_EQ(b.captured, data.size());
  EXPECT_EQ(b.truncated, truncated);
  EXPECT_FALSE(b.content_decoded);
}

TEST(Http2Session, Get) {
  const auto xs = run_whole(fixture("get"));
  ASSERT_EQ(xs.size(), 1u);
  const HttpExchange& x = xs[0];
  EXPECT_EQ(x.version, "HTTP/2");
  EXPECT_EQ(x.stream_id, 1u);
  EXPECT_EQ(x.notes, Notes{});
  EXPECT_FALSE(x.error);
  EXPECT_FALSE(x.grpc);
  EXPECT_TRUE(x.trailers.empty());
  ASSERT_TRUE(x.request && x.response);
  EXPECT_EQ(x.request->method, "GET");
  EXPECT_EQ(x.request->target, "/index.html");
  EXPECT_EQ(x.request->version, "HTTP/2");
  EXPECT_EQ(pairs(x.request->headers), kGetHeaders);
  EXPECT_EQ(x.request->start_ns, ts_of(2));
  EXPECT_EQ(x.request->end_ns, ts_of(2));
  expect_body(x.request->body, "", 0);
  EXPECT_EQ(x.response->status, 200);
  EXPECT_EQ(x.response->reason, "");
  EXPECT_EQ(x.response->version, "HTTP/2");
  EXPECT_EQ(pairs(x.response->headers),
            (Pairs{{"content-type", "text/plain"}, {"server", "test"}}));
  EXPECT_EQ(x.response->start_ns, ts_of(3));
  EXPECT_EQ(x.response->end_ns, ts_of(3));
  expect_body(x.response->body, "hello world", 11);
}

TEST(Http2Session, PaddingAndPriorityAreStripped) {
  const auto xs = run_whole(fixture("post_padded"));
  ASSERT_EQ(xs.size(), 1u);
  const HttpExchange& x = xs[0];
  EXPECT_EQ(x.notes, Notes{});
  EXPECT_EQ(x.request->method, "POST");
  EXPECT_EQ(x.request->target, "/upload");
  EXPECT_EQ(
      pairs(x.request->headers),
      (Pairs{{":scheme", "https"}, {":authority", "example.com"}, {"content-type", "text/plain"}}));
  expect_body(x.request->body, "part1part2", 10);
  EXPECT_EQ(x.response->status, 201);
  EXPECT_TRUE(x.response->headers.empty());
  expect_body(x.response->body, "created", 7);
}

TEST(Http2Session, ContinuationFramesJoinTheBlock) {
  const Fixture& f = fixture("continuation");
  // The fixture really uses CONTINUATION frames: two on the client side, one on the server's.
  auto continuations = [](std::string_view b) {
    int n = 0;
    for (size_t at = 0; at + kFrameHeaderSize <= b.size();) {
      const FrameHeader h = parse_frame_header(b.data() + at);
      n += h.frame_type() == FrameType::kContinuation;
      at += kFrameHeaderSize + h.length;
    }
    return n;
  };
  EXPECT_EQ(continuations(std::string_view(f.steps[0].bytes).substr(kConnectionPreface.size())), 2);
  EXPECT_EQ(continuations(f.steps[1].bytes), 1);
  const auto xs = run_whole(f);
  ASSERT_EQ(xs.size(), 1u);
  const HttpExchange& x = xs[0];
  EXPECT_EQ(x.notes, Notes{});
  EXPECT_EQ(x.request->target, "/big");
  Pairs want = kGetHeaders;
  want.emplace_back("cookie", std::string(1500, 'c'));
  want.emplace_back("x-long", std::string(1200, 'x'));
  EXPECT_EQ(pairs(x.request->headers), want);
  EXPECT_EQ(x.response->status, 204);
  EXPECT_EQ(pairs(x.response->headers),
            (Pairs{{"x-a", std::string(700, 'a')}, {"x-b", std::string(700, 'b')}}));
}

TEST(Http2Session, InterleavedStreamsFinishInTheirOwnOrder) {
  const auto xs = run_whole(fixture("interleaved"));
  ASSERT_EQ(xs.size(), 3u);
  EXPECT_EQ(xs[0].stream_id, 5u);
  EXPECT_EQ(xs[0].request->target, "/c");
  expect_body(xs[0].response->body, "c-1", 3);
  EXPECT_EQ(xs[1].stream_id, 1u);
  EXPECT_EQ(xs[1].request->target, "/a");
  expect_body(xs[1].response->body, "a-1a-2", 6);
  EXPECT_EQ(xs[2].stream_id, 3u);
  EXPECT_EQ(xs[2].request->method, "POST");
  EXPECT_EQ(xs[2].request->target, "/b");
  expect_body(xs[2].request->body, "body-b", 6);
  EXPECT_EQ(xs[2].request->end_ns, ts_of(1));
  EXPECT_EQ(xs[2].response->status, 201);
  expect_body(xs[2].response->body, "done", 4);
  for (const HttpExchange& x : xs) EXPECT_EQ(x.notes, Notes{}) << x.stream_id;
}

TEST(Http2Session, DynamicTableEntriesAreReused) {
  const Fixture& f = fixture("hpack_indexing");
  // The second request's block refers to the entries the first one indexed: much smaller.
  const size_t first_block = f.steps[0].bytes.size() - client_start().size();
  const size_t second_block = f.steps[2].bytes.size();
  EXPECT_LT(second_block, first_block / 2);
  const auto xs = run_whole(f);
  ASSERT_EQ(xs.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    Pairs want = kGetHeaders;
    want.emplace_back("x-trace", "trace-0123456789abcdef");
    EXPECT_EQ(pairs(xs[i].request->headers), want);
    EXPECT_EQ(pairs(xs[i].response->headers), (Pairs{{"x-served-by", "node-17"}}));
    EXPECT_EQ(xs[i].notes, Notes{});
  }
  EXPECT_EQ(xs[0].request->target, "/one");
  EXPECT_EQ(xs[1].request->target, "/two");
}

TEST(Http2Session, HeaderTableSizeShrinkAppliesAtTheAck) {
  const auto xs = run_whole(fixture("table_size_shrink"));
  ASSERT_EQ(xs.size(), 3u);
  const char* targets[] = {"/1", "/3", "/5"};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(xs[i].stream_id, 1 + 2 * i);
    EXPECT_EQ(xs[i].notes, Notes{}) << i;
    EXPECT_EQ(xs[i].request->target, targets[i]);
    ASSERT_EQ(xs[i].request->headers.size(), 5u);
    EXPECT_EQ(xs[i].request->headers[4].value, std::string(300, 'q'));
  }
}

TEST(Http2Session, HeaderTableSizeGrowthIsAccepted) {
  const auto xs = run_whole(fixture("table_size_grow"));
  ASSERT_EQ(xs.size(), 2u);
  for (const HttpExchange& x : xs) {
    EXPECT_EQ(x.notes, Notes{});
    ASSERT_EQ(x.request->headers.size(), 44u);
    EXPECT_EQ(x.request->headers[43].name, "x-h39");
    EXPECT_EQ(x.request->headers[43].value, std::string(150, 'n'));
  }
  EXPECT_EQ(xs[1].request->target, "/again");
}

TEST(Http2Session, RstStreamCancel) {
  const auto xs = run_whole(fixture("rst_cancel"));
  ASSERT_EQ(xs.size(), 1u);
  const HttpExchange& x = xs[0];
  EXPECT_EQ(x.error, "CANCEL");
  EXPECT_EQ(x.notes, Notes{"stream reset by the client"});
  EXPECT_EQ(x.response->status, 200);
  // Emitted at the reset; the DATA in flight after it is not added.
  expect_body(x.response->body, "first part", 10);
}

TEST(Http2Session, RstStreamRefusedBeforeAnyResponse) {
  const auto xs = run_whole(fixture("rst_refused"));
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_EQ(xs[0].error, "REFUSED_STREAM");
  EXPECT_EQ(xs[0].notes, Notes{"stream reset by the server"});
  expect_body(xs[0].request->body, "abc", 3);
  EXPECT_FALSE(xs[0].response);
}

TEST(Http2Session, RstStreamAfterTheResponseIsNotAnError) {
  const auto xs = run_whole(fixture("rst_after_response"));
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_FALSE(xs[0].error);
  EXPECT_EQ(xs[0].notes, Notes{"stream reset by the server (NO_ERROR) after the response"});
  EXPECT_EQ(xs[0].response->status, 413);
  expect_body(xs[0].request->body, "first chunk", 11);
  EXPECT_EQ(xs[0].response->end_ns, ts_of(1));
}

TEST(Http2Session, GoawayGracefulRefusesStreamsAboveLast) {
  const auto xs = run_whole(fixture("goaway_graceful"));
  ASSERT_EQ(xs.size(), 3u);
  EXPECT_EQ(xs[0].stream_id, 5u);
  EXPECT_EQ(xs[0].error, "NO_ERROR");
  EXPECT_EQ(xs[0].notes, Notes{"not processed: GOAWAY from the server with last stream 3"});
  EXPECT_FALSE(xs[0].response);
  for (size_t i : {1, 2}) {
    EXPECT_FALSE(xs[i].error);
    EXPECT_EQ(xs[i].notes, Notes{});
    EXPECT_EQ(xs[i].response->status, 200);
  }
  EXPECT_EQ(xs[1].stream_id, 1u);
  EXPECT_EQ(xs[2].stream_id, 3u);
}

TEST(Http2Session, GoawayWithErrorEndsOpenStreams) {
  const auto xs = run_whole(fixture("goaway_error"));
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].stream_id, 1u);
  EXPECT_EQ(xs[0].error, "PROTOCOL_ERROR");
  EXPECT_EQ(xs[0].notes, Notes{"connection ended by GOAWAY from the server"});
  EXPECT_EQ(xs[0].response->status, 200);
  EXPECT_EQ(xs[1].stream_id, 3u);
  EXPECT_EQ(xs[1].error, "PROTOCOL_ERROR");
  EXPECT_EQ(xs[1].notes, Notes{"not processed: GOAWAY from the server with last stream 1"});
}

TEST(Http2Session, Trailers) {
  const auto xs = run_whole(fixture("trailers"));
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_EQ(pairs(xs[0].response->headers), (Pairs{{"trailer", "x-checksum"}}));
  EXPECT_EQ(pairs(xs[0].trailers), (Pairs{{"x-checksum", "abc123"}, {"x-count", "7"}}));
  expect_body(xs[0].response->body, "payload", 7);
  EXPECT_EQ(xs[0].notes, Notes{});
}

TEST(Http2Session, PushPromiseIsAnExchangeOfItsOwn) {
  const auto xs = run_whole(fixture("push_promise"));
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].stream_id, 1u);
  expect_body(xs[0].response->body, "<html>", 6);
  const HttpExchange& p = xs[1];
  EXPECT_EQ(p.stream_id, 2u);
  EXPECT_EQ(p.notes, Notes{"server push (promised on stream 1)"});
  EXPECT_EQ(p.request->method, "GET");
  EXPECT_EQ(p.request->target, "/style.css");
  EXPECT_EQ(pairs(p.request->headers), kGetHeaders);
  EXPECT_EQ(p.response->status, 200);
  EXPECT_EQ(pairs(p.response->headers), (Pairs{{"content-type", "text/css"}}));
  expect_body(p.response->body, "body{}", 6);
}

TEST(Http2Session, OpenStreamsAreEmittedAtClose) {
  const auto xs = run_whole(fixture("close_open"));
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].stream_id, 1u);
  EXPECT_EQ(xs[0].notes, Notes{"connection closed before the stream ended"});
  expect_body(xs[0].response->body, "tick", 4);
  EXPECT_EQ(xs[1].stream_id, 3u);
  EXPECT_EQ(xs[1].notes, Notes{"connection closed before the stream ended"});
  EXPECT_FALSE(xs[1].response);
}

TEST(Http2Session, ContentEncodingIsDecoded) {
  const auto xs = run_whole(fixture("gzip_body"));
  ASSERT_EQ(xs.size(), 1u);
  const Body& b = xs[0].response->body;
  EXPECT_EQ(b.data, "compressible text, compressible text, compressible text");
  EXPECT_TRUE(b.content_decoded);
  EXPECT_EQ(b.content_encoding, "gzip");
  EXPECT_EQ(b.size, 55u);
  EXPECT_EQ(b.captured, 55u);
  EXPECT_LT(b.wire_size, 55u);
  EXPECT_FALSE(b.truncated);
}

TEST(Http2Session, InterimResponseIsANote) {
  const auto xs = run_whole(fixture("interim_100"));
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_EQ(xs[0].notes, Notes{"100 Continue"});
  EXPECT_EQ(xs[0].response->status, 200);
  EXPECT_EQ(xs[0].response->start_ns, ts_of(3));
  expect_body(xs[0].request->body, "the body", 8);
  EXPECT_EQ(xs[0].request->end_ns, ts_of(2));
}

TEST(Http2Session, ControlFramesChangeNothing) {
  const auto xs = run_whole(fixture("control_frames"));
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_EQ(xs[0].notes, Notes{});
  expect_body(xs[0].request->body, "x", 1);
  expect_body(xs[0].response->body, "y", 1);
}

TEST(Http2Session, MaxBodyCutsTheCapture) {
  const auto xs = run_whole(fixture("max_body_cut"));
  ASSERT_EQ(xs.size(), 1u);
  const Body& b = xs[0].response->body;
  EXPECT_EQ(b.data, "0123456789");
  EXPECT_EQ(b.size, 20u);
  EXPECT_EQ(b.wire_size, 20u);
  EXPECT_EQ(b.captured, 10u);
  EXPECT_TRUE(b.truncated);
}

TEST(Http2Session, MidStreamStartGivesNotesNotGarbage) {
  const auto xs = run_whole(fixture("mid_stream"));
  ASSERT_EQ(xs.size(), 3u);
  // Stream 1: only the end of its response body was captured.
  EXPECT_EQ(xs[0].stream_id, 1u);
  EXPECT_EQ(xs[0].notes,
            (Notes{"stream opened before the capture started", "response headers not captured"}));
  EXPECT_FALSE(xs[0].request);
  EXPECT_EQ(xs[0].response->status, 0);
  expect_body(xs[0].response->body, "tail of an old response", 23);
  // Stream 3: its blocks refer to dynamic table entries indexed before the capture.
  EXPECT_EQ(xs[1].stream_id, 3u);
  EXPECT_EQ(
      xs[1].notes,
      (Notes{
          "request headers not decodable: HPACK state missed (capture started mid-connection)",
          "response headers not decodable: HPACK state missed (capture started mid-connection)"}));
  EXPECT_EQ(xs[1].request->method, "");
  EXPECT_EQ(xs[1].request->target, "");
  EXPECT_TRUE(xs[1].request->headers.empty());
  EXPECT_EQ(xs[1].response->status, 0);
  EXPECT_TRUE(xs[1].response->headers.empty());
  expect_body(xs[1].response->body, "body three", 10);
  // Stream 5: blocks that need no older entry decode again.
  EXPECT_EQ(xs[2].stream_id, 5u);
  EXPECT_EQ(xs[2].notes, Notes{});
  EXPECT_EQ(xs[2].request->target, "/fresh");
  EXPECT_EQ(xs[2].request->headers[1].value, "example.org");
  EXPECT_EQ(xs[2].response->status, 404);
}

TEST(Http2Session, GapInsideDataCountsIntoTheBody) {
  const auto xs = run_whole(fixture("gap_in_data"));
  ASSERT_EQ(xs.size(), 2u);
  const Body& b = xs[0].response->body;
  EXPECT_EQ(b.data, std::string(30, 'b'));  // stops at the hole
  EXPECT_EQ(b.size, 100u);
  EXPECT_EQ(b.wire_size, 100u);
  EXPECT_EQ(b.captured, 30u);
  EXPECT_TRUE(b.truncated);
  EXPECT_EQ(xs[0].response->end_ns, ts_of(3));
  EXPECT_EQ(xs[0].notes, Notes{});
  // Framing held: the next stream is whole.
  EXPECT_EQ(xs[1].stream_id, 3u);
  EXPECT_EQ(xs[1].notes, Notes{});
  expect_body(xs[1].response->body, "ok", 2);
}

TEST(Http2Session, GapOutsideDataResyncsAndLosesHpack) {
  const auto xs = run_whole(fixture("gap_resync"));
  ASSERT_EQ(xs.size(), 3u);
  EXPECT_EQ(xs[0].stream_id, 3u);
  EXPECT_EQ(xs[0].notes,
            (Notes{"server frames lost: bytes not captured",
                   "response headers not decodable: HPACK state lost with bytes not captured"}));
  EXPECT_EQ(xs[0].request->target, "/three");  // the client side was not affected
  EXPECT_EQ(xs[0].response->status, 0);
  expect_body(xs[0].response->body, "three", 5);
  EXPECT_EQ(xs[1].stream_id, 5u);
  EXPECT_EQ(xs[1].notes, Notes{});
  EXPECT_EQ(xs[1].response->status, 202);
  // Stream 1's end was in the hole.
  EXPECT_EQ(xs[2].stream_id, 1u);
  EXPECT_EQ(xs[2].notes, (Notes{"server frames lost: bytes not captured",
                                "connection closed before the stream ended"}));
  expect_body(xs[2].response->body, "abc", 3);
}

// A capture that starts inside a frame: the first bytes are the end of a DATA payload.
TEST(Http2Session, MidStreamStartInsideAFrameFindsTheNextFrame) {
  Encoder enc(0);
  const std::string frames = headers(7, enc.encode({{":status", "200"}})) + data(7, "seven", true);
  std::string bytes = "...end of an earlier payload" + frames;
  Http2Session s(Config{}, /*mid_stream=*/true);
  s.on_data(Side::kResponses, bytes, 10);
  const auto xs = s.take_exchanges();
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_EQ(xs[0].stream_id, 7u);
  EXPECT_EQ(xs[0].response->status, 200);
  expect_body(xs[0].response->body, "seven", 5);
  EXPECT_EQ(xs[0].notes, Notes{"stream opened before the capture started"});
}

TEST(Http2Session, GarbageInsteadOfPrefaceResyncs) {
  Encoder enc;
  Http2Session s(Config{});
  s.on_data(Side::kRequests,
            "PRI * HTTP/2.0\r\n\r\nXX" + settings() +
                headers(1, enc.encode({{":method", "GET"}, {":path", "/"}}), {.end_stream = true}),
            1);
  s.on_close(2);
  const auto xs = s.take_exchanges();
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_EQ(xs[0].notes, (Notes{"connection closed before the stream ended"}));
  EXPECT_EQ(xs[0].request->target, "/");
}

TEST(Http2Session, MaxStreamsEmitsTheOldest) {
  Config cfg;
  cfg.max_streams = 2;
  Encoder enc;
  Http2Session s(cfg);
  std::string bytes = client_start();
  for (uint32_t id : {1, 3, 5}) {
    bytes += headers(id, enc.encode({{":method", "GET"}, {":path", "/" + std::to_string(id)}}),
                     {.end_stream = true});
  }
  s.on_data(Side::kRequests, bytes, 1);
  auto xs = s.take_exchanges();
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_EQ(xs[0].stream_id, 1u);
  EXPECT_EQ(xs[0].notes, Notes{"stream not finished: too many open streams"});
  // Late frames for the stream pushed out are ignored, not a new stream.
  Encoder server;
  s.on_data(Side::kResponses,
            settings() + headers(1, server.encode({{":status", "200"}}), {.end_stream = true}), 2);
  EXPECT_TRUE(s.take_exchanges().empty());
  s.on_close(3);
  xs = s.take_exchanges();
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].stream_id, 3u);
  EXPECT_EQ(xs[1].stream_id, 5u);
}

TEST(Http2Session, HeaderBlockBeyondLimitIsCutButTheTableKeepsUp) {
  Config cfg;
  cfg.max_header_block = 170;
  Encoder enc;
  Http2Session s(cfg);
  Fields big = {
      {":method", "GET"}, {":path", "/a"}, {"x-big", std::string(200, 'z')}, {"x-after", "1"}};
  std::string bytes = client_start() + headers(1, enc.encode(big), {.end_stream = true});
  big[1].second = "/b";
  big[2].second = "small";
  bytes += headers(3, enc.encode(big), {.end_stream = true});
  s.on_data(Side::kRequests, bytes, 1);
  s.on_close(2);
  const auto xs = s.take_exchanges();
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].request->target, "/a");
  EXPECT_TRUE(xs[0].request->headers.empty());  // x-big did not fit, nothing after it is kept
  EXPECT_EQ(xs[0].notes[0], "request headers cut after 2 fields");
  // The second block refers to "x-after: 1" indexed by the first: still decodable.
  EXPECT_EQ(pairs(xs[1].request->headers), (Pairs{{"x-big", "small"}, {"x-after", "1"}}));
}

TEST(Http2Session, LooksLikePreface) {
  EXPECT_TRUE(looks_like_preface("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
  EXPECT_TRUE(looks_like_preface("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4"));
  EXPECT_TRUE(looks_like_preface("PRI * HT"));
  EXPECT_TRUE(looks_like_preface(""));
  EXPECT_FALSE(looks_like_preface("PRI * HTTP/1.1"));
  EXPECT_FALSE(looks_like_preface("GET / HTTP/1.1\r\n"));
}

TEST(Http2Session, LooksLikeFrames) {
  Encoder enc;
  const std::string h = headers(1, enc.encode({{":method", "GET"}, {":path", "/"}}));
  EXPECT_TRUE(looks_like_frames(settings()));
  EXPECT_TRUE(looks_like_frames(settings() + window_update(0, 1000) + h + data(1, "x", true)));
  EXPECT_TRUE(looks_like_frames(h.substr(0, 9)));  // one whole header is enough
  EXPECT_TRUE(
      looks_like_frames(settings() + h.substr(0, 4)));  // a partial one after it is not checked
  EXPECT_FALSE(looks_like_frames(settings().substr(0, 8)));  // fewer than 9 bytes
  EXPECT_FALSE(looks_like_frames("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(looks_like_frames(std::string(kConnectionPreface)));
  EXPECT_FALSE(
      looks_like_frames(frame(FrameType::kHeaders, flag::kEndHeaders, 0, "x")));  // stream 0
  EXPECT_FALSE(looks_like_frames(frame(FrameType::kData, 0, 0, "x")));
  EXPECT_FALSE(looks_like_frames(frame(FrameType::kSettings, 0, 1, "")));  // SETTINGS on a stream
  EXPECT_FALSE(looks_like_frames(frame(FrameType::kPing, 0, 0, "short")));
  EXPECT_FALSE(looks_like_frames(frame(FrameType::kGoaway, 0, 3, std::string(8, '\0'))));
  EXPECT_FALSE(looks_like_frames(frame(FrameType::kData, 0x2, 1, "x")));  // undefined flag
  EXPECT_FALSE(looks_like_frames(frame(static_cast<FrameType>(0x20), 0, 1, "x")));  // unknown type
  EXPECT_FALSE(looks_like_frames(frame(FrameType::kData, 0, 0x80000001u, "x")));    // reserved bit
  EXPECT_FALSE(looks_like_frames(frame(FrameType::kData, 0, 1, std::string(16385, 'x'))));
  // The second frame decides.
  EXPECT_FALSE(looks_like_frames(settings() + "GET / HTTP/1.1\r\n"));
}

}  // namespace
}  // namespace qtap::http2::test
