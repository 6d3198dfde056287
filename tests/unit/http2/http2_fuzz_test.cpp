// Hostile input: random bytes, random frames, fixtures mutated and cut by gaps. Nothing may
// crash or hang, and memory must stay within what the Config allows.
#include <gtest/gtest.h>

#include <random>

#include "unit/http2/http2_harness.h"

namespace qtap::http2::test {
namespace {

Config tight() {
  Config c;
  c.max_body = 2048;
  c.max_streams = 8;
  c.max_header_block = 1024;
  c.max_grpc_messages_kept = 4;
  c.max_grpc_message_decode = 512;
  return c;
}

constexpr size_t kMaxPiece = 4000;

// Everything a session may hold: per open stream two bodies, header fields (each costs a
// Header and two strings: at most ~4x what max_header_block counts), trailers, kept gRPC
// messages with their JSON (at most ~8 bytes per input byte), notes; per side a header block
// being decoded and the framing buffers (a resync window of two frame headers and a
// 16 KiB frame, the last piece fed, a control payload).
size_t memory_bound(const Config& c) {
  const size_t headers = 4 * c.max_header_block;
  const size_t grpc = c.max_grpc_messages_kept * (8 * c.max_grpc_message_decode + 128);
  const size_t stream = 2 * c.max_body + 3 * headers + 2 * grpc + 4096;
  const size_t side = headers + 3 * (16384 + 18 + kMaxPiece) + 1024;
  return (c.max_streams + 1) * stream + 2 * side;
}

void feed(Http2Session& s, Side side, std::string_view bytes, std::mt19937& rng, uint64_t& ts,
          const Config& cfg) {
  while (!bytes.empty()) {
    const size_t n = std::min<size_t>(bytes.size(), 1 + rng() % 300);
    if (rng() % 60 == 0) {
      s.on_gap(side, 1 + rng() % 3000, ts++);
    } else {
      s.on_data(side, bytes.substr(0, n), ts++);
    }
    bytes.remove_prefix(n);
    s.take_exchanges();
    ASSERT_LE(s.buffered_bytes(), memory_bound(cfg));
  }
}

// Frames with valid headers (so the parser goes deep) and random payloads.
std::string random_frames(std::mt19937& rng, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    const auto type = static_cast<FrameType>(rng() % 11);
    const uint8_t flags = static_cast<uint8_t>(rng() % 2 == 0 ? rng() % 64 : flag::kEndHeaders);
    const uint32_t stream = rng() % 4 == 0 ? 0 : 1 + rng() % 12;
    std::string payload(rng() % 64, '\0');
    for (char& c : payload) c = static_cast<char>(rng());
    out += frame(type, flags, stream, payload);
  }
  return out;
}

TEST(Http2Fuzz, RandomBytesAndFrames) {
  const Config cfg = tight();
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    std::mt19937 rng(seed);
    Http2Session s(cfg, seed % 2 == 0);
    uint64_t ts = 1;
    for (int round = 0; round < 20; ++round) {
      const Side side = rng() % 2 == 0 ? Side::kRequests : Side::kResponses;
      std::string b;
      if (seed % 3 == 0) {
        b.resize(1 + rng() % kMaxPiece);
        for (char& c : b) c = static_cast<char>(rng());
      } else {
        b = random_frames(rng, 1 + rng() % 40);
      }
      feed(s, side, b, rng, ts, cfg);
      if (HasFatalFailure()) return;
    }
    s.on_close(ts);
    s.take_exchanges();
  }
}

TEST(Http2Fuzz, MutatedFixtures) {
  Config cfg = tight();
  for (const Fixture& f : fixtures()) {
    for (uint32_t seed = 1; seed <= 12; ++seed) {
      std::mt19937 rng(seed);
      Http2Session s(cfg, seed % 3 == 0 || f.mid_stream);
      uint64_t ts = 1;
      for (const Step& st : f.steps) {
        if (st.kind == Step::Kind::kClose) {
          s.on_close(ts++);
          continue;
        }
        if (st.kind == Step::Kind::kGap) {
          s.on_gap(st.side, st.gap, ts++);
          continue;
        }
        std::string b = st.bytes;
        const int flips = static_cast<int>(rng() % 6);
        for (int i = 0; i < flips && !b.empty(); ++i)
          b[rng() % b.size()] = static_cast<char>(rng());
        if (rng() % 4 == 0 && !b.empty()) b.resize(rng() % b.size());
        feed(s, st.side, b, rng, ts, cfg);
        if (HasFatalFailure()) return;
      }
      s.on_close(ts);
      s.take_exchanges();
    }
  }
}

TEST(Http2Fuzz, EndlessStreamsAndHeadersStayBounded) {
  const Config cfg = tight();
  Encoder enc;
  Http2Session s(cfg);
  std::mt19937 rng(7);
  uint64_t ts = 1;
  feed(s, Side::kRequests, client_start(), rng, ts, cfg);
  size_t emitted = 0;
  for (uint32_t id = 1; id < 4000; id += 2) {
    // Streams never ended, each with a header block larger than the limit.
    Fields f = {{":method", "POST"}, {":path", "/x"}, {"x-pad", std::string(rng() % 3000, 'p')}};
    s.on_data(Side::kRequests, headers(id, enc.encode(f)) + data(id, std::string(3000, 'd')), ts++);
    emitted += s.take_exchanges().size();
    ASSERT_LE(s.buffered_bytes(), memory_bound(cfg));
  }
  EXPECT_EQ(emitted, 2000u - cfg.max_streams);
}

TEST(Http2Fuzz, EndlessInterimResponsesAndLossesAddNotesOnce) {
  const Config cfg = tight();
  Encoder client, server;
  Http2Session s(cfg);
  s.on_data(Side::kRequests,
            client_start() + headers(1, client.encode({{":method", "GET"}, {":path", "/"}}),
                                     {.end_stream = true}),
            1);
  for (int i = 0; i < 1000; ++i) {
    s.on_data(Side::kResponses, headers(1, server.encode({{":status", "103"}})), 2);
  }
  s.on_close(3);
  const auto xs = s.take_exchanges();
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_EQ(xs[0].notes, (std::vector<std::string>{"103 Early Hints",
                                                   "connection closed before the stream ended"}));
}

}  // namespace
}  // namespace qtap::http2::test
