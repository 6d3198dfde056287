// The framing layer and the HPACK decoder on their own.
#include "protocols/http2/http2_frame.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "protocols/http2/hpack_decoder.h"
#include "unit/http2/http2_harness.h"

namespace qtap::http2::test {
namespace {

using Events = std::vector<std::string>;

// Writes every listener call as a line.
class Recorder final : public FrameListener {
 public:
  Events events;
  void on_frame_begin(Side, const FrameHeader& h, uint32_t promised, uint64_t) override {
    events.push_back(fmt::format("begin type={} flags={:#x} stream={} promised={}", h.type, h.flags,
                                 h.stream_id, promised));
  }
  void on_content(Side, std::string_view b, uint64_t) override {
    // Pieces of one frame's content are joined: splits must not show.
    if (!events.empty() && events.back().starts_with("content ")) {
      events.back().append(b);
    } else {
      events.push_back("content " + std::string(b));
    }
  }
  void on_content_gap(Side, uint64_t len, uint64_t) override {
    events.push_back(fmt::format("gap {}", len));
  }
  void on_frame_end(Side, uint64_t) override { events.push_back("end"); }
  void on_control(Side, const FrameHeader& h, std::string_view p, uint64_t) override {
    events.push_back(fmt::format("control type={} flags={:#x} stream={} len={}", h.type, h.flags,
                                 h.stream_id, p.size()));
  }
  void on_lost(Side, std::string_view reason, uint64_t) override {
    events.push_back(fmt::format("lost {}", reason));
  }
};

const std::string kFrames = std::string(kConnectionPreface) + settings({{1, 0}, {4, 1000}}) +
                            // PADDED and PRIORITY, no END_HEADERS: pad length 2, exclusive
                            // dependency on stream 0 with weight 16, the fragment, padding.
                            frame(FrameType::kHeaders, flag::kPadded | flag::kPriority, 1,
                                  std::string("\x02\x80\0\0\0\x0f"
                                              "BLOCK\0\0",
                                              13)) +
                            frame(FrameType::kContinuation, flag::kEndHeaders, 1, "MORE") +
                            data(1, "payload", true, 3) + ping() + window_update(1, 5) +
                            push_promise(1, 2, "PROMISED") + rst_stream(1, 8) +
                            goaway(1, 0, "debug") + frame(static_cast<FrameType>(0xb), 0, 0, "ext");

const Events kExpected = {
    "control type=4 flags=0x0 stream=0 len=12",
    "begin type=1 flags=0x28 stream=1 promised=0",
    "content BLOCK",
    "end",
    "begin type=9 flags=0x4 stream=1 promised=0",
    "content MORE",
    "end",
    "begin type=0 flags=0x9 stream=1 promised=0",
    "content payload",
    "end",
    "control type=6 flags=0x0 stream=0 len=8",
    "control type=8 flags=0x0 stream=1 len=4",
    "begin type=5 flags=0x4 stream=1 promised=2",
    "content PROMISED",
    "end",
    "control type=3 flags=0x0 stream=1 len=4",
    "control type=7 flags=0x0 stream=0 len=13",
    "control type=11 flags=0x0 stream=0 len=3",
};

TEST(FrameParser, EveryFrameType) {
  Recorder r;
  FrameParser p(Side::kRequests, FrameParser::Start::kPreface, r);
  p.feed(kFrames, 1);
  EXPECT_EQ(r.events, kExpected);
  EXPECT_TRUE(p.in_sync());
}

TEST(FrameParser, AnySplitGivesTheSameFrames) {
  for (size_t piece = 1; piece <= 12; ++piece) {
    Recorder r;
    FrameParser p(Side::kRequests, FrameParser::Start::kPreface, r);
    for (size_t at = 0; at < kFrames.size(); at += piece)
      p.feed(std::string_view(kFrames).substr(at, piece), 1);
    EXPECT_EQ(r.events, kExpected) << "pieces of " << piece;
  }
}

TEST(FrameParser, GapInsideContentKeepsFraming) {
  const std::string d = data(1, "0123456789", false, 4);  // 9 + 1 + 10 + 4
  Recorder r;
  FrameParser p(Side::kResponses, FrameParser::Start::kFrame, r);
  p.feed(d.substr(0, 13), 1);  // header, pad length, "012"
  p.gap(5, 2);                 // "34567"
  p.feed(d.substr(18, 4), 3);  // "89" and 2 padding bytes
  p.gap(2, 4);                 // the other 2 padding bytes
  p.feed(settings_ack(), 5);
  EXPECT_EQ(r.events, (Events{"begin type=0 flags=0x8 stream=1 promised=0", "content 012", "gap 5",
                              "content 89", "end", "control type=4 flags=0x1 stream=0 len=0"}));
}

TEST(FrameParser, GapPastTheFrameLosesSyncUntilFramesAgain) {
  Recorder r;
  FrameParser p(Side::kResponses, FrameParser::Start::kFrame, r);
  const std::string d = data(1, "0123456789");
  p.feed(d.substr(0, 12), 1);
  p.gap(20, 2);  // the rest of the frame and 13 bytes beyond
  EXPECT_FALSE(p.in_sync());
  // Bytes that are not frames are skipped; frames after them are found.
  p.feed("garbage, not frames at all" + ping() + data(3, "x", true), 3);
  EXPECT_TRUE(p.in_sync());
  EXPECT_EQ(r.events, (Events{"begin type=0 flags=0x0 stream=1 promised=0", "content 012", "gap 7",
                              "lost bytes not captured", "control type=6 flags=0x0 stream=0 len=8",
                              "begin type=0 flags=0x1 stream=3 promised=0", "content x", "end"}));
}

TEST(FrameParser, ResyncWaitsForTheNextHeaderWhenUnsure) {
  Recorder r;
  FrameParser p(Side::kResponses, FrameParser::Start::kUnknown, r);
  const std::string d = data(1, "abc");
  // One frame, then bytes too few to be the next header: undecided, nothing reported.
  p.feed(d + "xy", 1);
  EXPECT_EQ(r.events, Events{});
  // The "header" after the DATA frame is invalid: offset 0 was not a frame start after all.
  // Shifted by one byte the DATA header reads as a 768-byte frame, which can only be refuted
  // once 768 more bytes are here; then the PINGs are found.
  std::string pings;
  for (int i = 0; i < 50; ++i) pings += ping();
  p.feed(pings, 2);
  EXPECT_EQ(r.events, Events(50, "control type=6 flags=0x0 stream=0 len=8"));
}

TEST(FrameParser, InvalidHeaderInSyncResyncs) {
  Recorder r;
  FrameParser p(Side::kResponses, FrameParser::Start::kFrame, r);
  std::string after = settings_ack();
  for (int i = 0; i < 100; ++i) after += ping();
  p.feed(frame(FrameType::kPing, 0, 0, "short") + after, 1);
  Events want = {"lost invalid frame header", "control type=4 flags=0x1 stream=0 len=0"};
  want.insert(want.end(), 100, "control type=6 flags=0x0 stream=0 len=8");
  EXPECT_EQ(r.events, want);
}

TEST(FrameParser, FrameLargerThanTheLimitIsInvalid) {
  Recorder r;
  FrameParser p(Side::kResponses, FrameParser::Start::kFrame, r);
  const std::string big = data(1, std::string(20000, 'x'));
  p.feed(big.substr(0, 9), 1);
  EXPECT_EQ(r.events, (Events{"lost invalid frame header"}));
  Recorder r2;
  FrameParser p2(Side::kResponses, FrameParser::Start::kFrame, r2);
  p2.set_max_frame_size(1 << 20);  // the peer's SETTINGS_MAX_FRAME_SIZE
  p2.feed(big, 1);
  ASSERT_EQ(r2.events.size(), 3u);
  EXPECT_EQ(r2.events[1].size(), 8 + 20000u);
}

TEST(FrameParser, ControlPayloadIsCapped) {
  Recorder r;
  FrameParser p(Side::kResponses, FrameParser::Start::kFrame, r);
  const std::string g = goaway(0, 0, std::string(3000, 'd'));
  p.feed(g.substr(0, 100), 1);
  p.feed(g.substr(100), 2);
  p.feed(ping(), 3);
  EXPECT_EQ(r.events,
            (Events{fmt::format("control type=7 flags=0x0 stream=0 len={}", kMaxControlPayload),
                    "control type=6 flags=0x0 stream=0 len=8"}));
}

TEST(FrameHeaderNames, ErrorCodes) {
  EXPECT_EQ(error_code_name(0), "NO_ERROR");
  EXPECT_EQ(error_code_name(1), "PROTOCOL_ERROR");
  EXPECT_EQ(error_code_name(8), "CANCEL");
  EXPECT_EQ(error_code_name(0xd), "HTTP_1_1_REQUIRED");
  EXPECT_EQ(error_code_name(0x1234), "0x1234");
}

class Fields final : public HpackDecoder::FieldSink {
 public:
  std::vector<std::string> got;
  void on_field(std::string_view n, std::string_view v) override {
    got.push_back(std::string(n) + ": " + std::string(v));
  }
};

bool decode(HpackDecoder& d, std::string_view block, Fields& f) {
  return d.feed(block, false, f) && d.feed({}, true, f);
}

TEST(HpackDecoder, IndexesAndReusesEntries) {
  Encoder enc;
  HpackDecoder dec;
  Fields f;
  const test::Fields h = {{":method", "GET"}, {"x-custom", "value-1"}};
  ASSERT_TRUE(decode(dec, enc.encode(h), f));
  EXPECT_EQ(dec.table_entries(), 1u);
  EXPECT_EQ(dec.table_size(), 8 + 7 + 32u);  // RFC 7541 4.1: name + value + 32
  const std::string again = enc.encode(h);
  EXPECT_EQ(again.size(), 2u);  // two indexed fields
  ASSERT_TRUE(decode(dec, again, f));
  EXPECT_EQ(f.got, (std::vector<std::string>{":method: GET", "x-custom: value-1", ":method: GET",
                                             "x-custom: value-1"}));
}

TEST(HpackDecoder, ResetTableRefusesOldReferencesAndDecodesNewOnes) {
  Encoder enc;
  HpackDecoder dec;
  Fields f;
  ASSERT_TRUE(decode(dec, enc.encode({{"x-old", "1"}}), f));
  dec.reset(4096);
  // Refers to x-old (now missing) and indexes x-new.
  EXPECT_FALSE(decode(dec, enc.encode({{"x-old", "1"}, {"x-new", "2"}}), f));
  dec.reset(4096);
  ASSERT_TRUE(decode(dec, enc.encode({{"x-newer", "3"}}), f));
  // x-newer is the newest entry on both sides: it resolves, to the right field.
  f.got.clear();
  ASSERT_TRUE(decode(dec, enc.encode({{"x-newer", "3"}}), f));
  EXPECT_EQ(f.got, (std::vector<std::string>{"x-newer: 3"}));
}

TEST(HpackDecoder, LowerLimitRequiresTheEncodersSizeUpdate) {
  Encoder enc;
  HpackDecoder dec;
  Fields f;
  ASSERT_TRUE(decode(dec, enc.encode({{"x-a", std::string(100, 'a')}}), f));
  dec.set_table_limit(64);
  // The real encoder applies it: its next block starts with a size update.
  enc.change_table_size(64);
  ASSERT_TRUE(decode(dec, enc.encode({{":method", "GET"}}), f));
  EXPECT_EQ(dec.table_size(), 0u);  // the 100-byte entry no longer fits
  // Without the update the decoder fails.
  HpackDecoder dec2;
  Encoder enc2;
  ASSERT_TRUE(decode(dec2, enc2.encode({{"x-a", std::string(100, 'a')}}), f));
  dec2.set_table_limit(64);
  EXPECT_FALSE(decode(dec2, enc2.encode({{":method", "GET"}}), f));
}

TEST(HpackDecoder, LimitChangeInsideABlockWaitsForItsEnd) {
  Encoder enc(65536);
  HpackDecoder dec;
  Fields f;
  enc.change_table_size(8192);
  const std::string block = enc.encode({{"x-a", "1"}});
  ASSERT_TRUE(dec.feed(block.substr(0, 1), false, f));
  dec.set_table_limit(8192);                         // applied after this block
  EXPECT_FALSE(dec.feed(block.substr(1), true, f));  // the update to 8192 exceeded 4096
  HpackDecoder dec2;
  dec2.set_table_limit(8192);
  EXPECT_TRUE(decode(dec2, block, f));
}

}  // namespace
}  // namespace qtap::http2::test
