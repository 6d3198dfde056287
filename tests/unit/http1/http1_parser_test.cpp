// The framing layer alone: start detection, body framing rules, and the
// per-direction parser driven by a recording listener.
#include "protocols/http1/http1_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace qtap::http1 {
namespace {

using ::testing::ElementsAre;

TEST(LooksLike, Requests) {
  for (std::string_view s :
       {"GET / HTTP/1.1", "POST /", "HEAD ", "PUT /x", "DELETE /", "CONNECT a:1", "OPTIONS *",
        "TRACE /", "PATCH /", "PROPFIND /", "PROPPATCH /", "MKCOL /", "COPY /", "MOVE /", "LOCK /",
        "UNLOCK /", "SEARCH /", "REPORT /"}) {
    EXPECT_TRUE(looks_like_request(s)) << s;
  }
  // A consistent prefix is "could be".
  for (std::string_view s : {"", "G", "GE", "GET", "PROPPATC", "OPT"}) {
    EXPECT_TRUE(looks_like_request(s)) << s;
  }
  for (std::string_view s : {"get / HTTP/1.1", "GETX /", "HTTP/1.1 200", "PRI * HTTP/2.0",
                             "\x16\x03\x01", "FOO / HTTP/1.1", "GET/"}) {
    EXPECT_FALSE(looks_like_request(s)) << s;
  }
}

TEST(LooksLike, Responses) {
  EXPECT_TRUE(looks_like_response("HTTP/1.1 200 OK"));
  EXPECT_TRUE(looks_like_response("HTTP/1.0 404"));
  EXPECT_TRUE(looks_like_response("HTTP/1."));
  EXPECT_TRUE(looks_like_response("HTT"));
  EXPECT_TRUE(looks_like_response(""));
  EXPECT_FALSE(looks_like_response("HTTP/2 200"));
  EXPECT_FALSE(looks_like_response("http/1.1 200"));
  EXPECT_FALSE(looks_like_response("GET / HTTP/1.1"));
}

TEST(MatchStart, DistinguishesPartialFromComplete) {
  EXPECT_EQ(match_request_start("GET "), StartMatch::kYes);
  EXPECT_EQ(match_request_start("GET"), StartMatch::kPartial);
  EXPECT_EQ(match_request_start("PROPFIND"), StartMatch::kPartial);
  EXPECT_EQ(match_request_start("GETS"), StartMatch::kNo);
  EXPECT_EQ(match_response_start("HTTP/1.1"), StartMatch::kYes);
  EXPECT_EQ(match_response_start("HTTP/"), StartMatch::kPartial);
  EXPECT_EQ(match_response_start("HTTP/2"), StartMatch::kNo);
}

MessageHead response_head(int status, std::vector<Header> headers = {}) {
  MessageHead h;
  h.status = status;
  h.headers = std::move(headers);
  return h;
}

MessageHead request_head(std::vector<Header> headers) {
  MessageHead h;
  h.method = "POST";
  h.headers = std::move(headers);
  return h;
}

TEST(BodyFraming, Requests) {
  EXPECT_EQ(body_framing(Side::kRequests, request_head({}), {}).kind, BodyKind::kNone);
  Framing cl = body_framing(Side::kRequests, request_head({{"content-length", "12"}}), {});
  EXPECT_EQ(cl.kind, BodyKind::kContentLength);
  EXPECT_EQ(cl.length, 12u);
  EXPECT_EQ(body_framing(Side::kRequests, request_head({{"Content-Length", "5, 5"}}), {}).length,
            5u);
  EXPECT_EQ(body_framing(
                Side::kRequests,
                request_head({{"Transfer-Encoding", "gzip, Chunked"}, {"Content-Length", "3"}}), {})
                .kind,
            BodyKind::kChunked);
  for (std::string_view bad : {"", "-1", "1x", "0x10", "5, 6", "99999999999999999999"}) {
    Framing f =
        body_framing(Side::kRequests, request_head({{"Content-Length", std::string(bad)}}), {});
    EXPECT_EQ(f.kind, BodyKind::kInvalid) << bad;
  }
  Framing two = body_framing(Side::kRequests,
                             request_head({{"Content-Length", "1"}, {"Content-Length", "2"}}), {});
  EXPECT_EQ(two.kind, BodyKind::kInvalid);
  EXPECT_STREQ(two.error, "conflicting Content-Length");
  EXPECT_EQ(body_framing(Side::kRequests, request_head({{"Transfer-Encoding", "gzip"}}), {}).kind,
            BodyKind::kInvalid);
}

TEST(BodyFraming, Responses) {
  auto kind = [](int status, std::string_view method, std::vector<Header> hs = {}) {
    return body_framing(Side::kResponses, response_head(status, std::move(hs)), method).kind;
  };
  EXPECT_EQ(kind(200, "GET"), BodyKind::kUntilClose);
  EXPECT_EQ(kind(200, "GET", {{"Content-Length", "0"}}), BodyKind::kContentLength);
  EXPECT_EQ(kind(200, "GET", {{"Transfer-Encoding", "chunked"}}), BodyKind::kChunked);
  EXPECT_EQ(kind(200, "GET", {{"Transfer-Encoding", "gzip"}}), BodyKind::kUntilClose);
  EXPECT_EQ(kind(200, "HEAD", {{"Content-Length", "10"}}), BodyKind::kNone);
  EXPECT_EQ(kind(204, "GET", {{"Content-Length", "10"}}), BodyKind::kNone);
  EXPECT_EQ(kind(304, "GET", {{"Transfer-Encoding", "chunked"}}), BodyKind::kNone);
  EXPECT_EQ(kind(100, "PUT"), BodyKind::kNone);
  EXPECT_EQ(kind(101, "GET"), BodyKind::kUpgrade);
  EXPECT_EQ(kind(200, "CONNECT"), BodyKind::kUpgrade);
  EXPECT_EQ(kind(407, "CONNECT", {{"Content-Length", "3"}}), BodyKind::kContentLength);
  EXPECT_EQ(kind(200, "", {{"Content-Length", "3"}}), BodyKind::kContentLength);  // unknown request
}

// Records what the parser reports, in a readable form.
class Recorder final : public MessageListener {
 public:
  Framing framing{BodyKind::kContentLength, 0};
  std::vector<std::string> events;

  Framing on_head(Side, MessageHead& h) override {
    std::string hs;
    for (const Header& x : h.headers) hs += "|" + x.name + "=" + x.value;
    events.push_back("head " +
                     (h.method.empty() ? std::to_string(h.status) : h.method + " " + h.target) +
                     " " + h.version + hs);
    return framing;
  }
  void on_message(Side, Body& b, std::vector<Header>& trailers, uint64_t end_ns,
                  std::string_view note) override {
    std::string s = "message wire=" + std::to_string(b.wire_size) + " data=" + b.data +
                    (b.truncated ? " truncated" : "") + " end=" + std::to_string(end_ns);
    for (const Header& x : trailers) s += "|" + x.name + "=" + x.value;
    if (!note.empty()) s += " note=" + std::string(note);
    events.push_back(s);
  }
  void on_lost(Side, std::string_view reason, LossCause cause) override {
    events.push_back(std::string("lost ") + std::string(reason) +
                     (cause == LossCause::kMissing ? " (missing)" : " (invalid)"));
  }
};

TEST(MessageParser, RequestHeadParsedOneByteAtATime) {
  Recorder r;
  Config cfg;
  MessageParser p(Side::kRequests, cfg, r);
  std::string_view in = "GET /x HTTP/1.1\r\nA: 1\r\n  2\r\nB:3\r\n\r\n";
  for (size_t i = 0; i < in.size(); ++i) p.feed(in.substr(i, 1), 10 + i);
  EXPECT_THAT(r.events,
              ElementsAre("head GET /x HTTP/1.1|A=1 2|B=3",
                          "message wire=0 data= end=" + std::to_string(10 + in.size() - 1)));
}

TEST(MessageParser, ChunkedStateMachine) {
  Recorder r;
  r.framing = {BodyKind::kChunked};
  Config cfg;
  MessageParser p(Side::kResponses, cfg, r);
  p.feed("HTTP/1.1 200 OK\r\n\r\n1A;a=b;c\r\n", 1);
  p.feed(std::string(26, 'x') + "\r\n00000000000000000003\r\nabc\n0\r\nT: 1\r\n", 2);
  EXPECT_EQ(r.events.size(), 1u);  // trailers not finished yet
  p.feed("\r\n", 3);
  EXPECT_THAT(r.events,
              ElementsAre("head 200 HTTP/1.1",
                          "message wire=29 data=" + std::string(26, 'x') + "abc end=3|T=1"));
}

TEST(MessageParser, BadChunkSizeEndsTheMessageAndResyncs) {
  Recorder r;
  r.framing = {BodyKind::kChunked};
  Config cfg;
  MessageParser p(Side::kResponses, cfg, r);
  p.feed("HTTP/1.1 200 OK\r\n\r\n2\r\nab\r\nzz\r\n", 1);
  r.framing = {BodyKind::kNone};
  p.feed("HTTP/1.1 204 No Content\r\n\r\n", 2);
  EXPECT_THAT(r.events,
              ElementsAre("head 200 HTTP/1.1",
                          "message wire=2 data=ab truncated end=1 note=invalid chunk size",
                          "head 204 HTTP/1.1", "message wire=0 data= end=2"));
}

TEST(MessageParser, ChunkExtensionsAreBounded) {
  Recorder r;
  r.framing = {BodyKind::kChunked};
  Config cfg;
  MessageParser p(Side::kResponses, cfg, r);
  p.feed("HTTP/1.1 200 OK\r\n\r\n1;", 1);
  for (int i = 0; i < 100; ++i) p.feed(std::string(100, 'e'), 2);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[1], "message wire=0 data= truncated end=2 note=chunk extension too long");
  EXPECT_LT(p.buffered_bytes(), 1024u);
}

TEST(MessageParser, InvalidStartLinesAreRejectedEarly) {
  Recorder r;
  Config cfg;
  MessageParser p(Side::kResponses, cfg, r);
  p.feed("\x16\x03\x01", 1);  // no line end yet, already not a status line
  EXPECT_THAT(r.events, ElementsAre("lost invalid status line (invalid)"));
  // Megabytes of binary without a line start that looks like a response:
  // nothing held, nothing reported.
  for (int i = 0; i < 1000; ++i) p.feed(std::string(1000, '\x01'), 2);
  EXPECT_EQ(r.events.size(), 1u);
  EXPECT_LT(p.buffered_bytes(), 1024u);
}

TEST(MessageParser, ResyncFindsAStartSplitAcrossChunks) {
  Recorder r;
  r.framing = {BodyKind::kNone};
  Config cfg;
  MessageParser p(Side::kRequests, cfg, r);
  p.feed("junk\r\nmore junk\r\nPO", 1);
  p.feed("ST /p HTTP/1.1\r\n\r\n", 2);
  EXPECT_THAT(r.events, ElementsAre("lost invalid request line (invalid)", "head POST /p HTTP/1.1",
                                    "message wire=0 data= end=2"));
}

TEST(MessageParser, GapBeyondAContentLengthBodyLosesTheNextMessage) {
  Recorder r;
  r.framing = {BodyKind::kContentLength, 4};
  Config cfg;
  MessageParser p(Side::kRequests, cfg, r);
  p.feed("PUT / HTTP/1.1\r\n\r\nab", 1);
  p.gap(10, 2);
  EXPECT_THAT(r.events, ElementsAre("head PUT / HTTP/1.1", "message wire=4 data=ab truncated end=2",
                                    "lost request lost in a capture gap (missing)"));
}

}  // namespace
}  // namespace qtap::http1
