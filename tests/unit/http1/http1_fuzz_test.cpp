// Hostile input: random bytes, and fixtures truncated, mutated and cut by
// gaps. Nothing may crash or hang, and memory must stay within what the
// Config allows.
#include <gtest/gtest.h>

#include <random>

#include "protocols/http1/http1_session.h"
#include "unit/http1/http1_harness.h"

namespace qtap::http1::test {
namespace {

Config tight() {
  Config c;
  c.max_body = 2048;
  c.max_head_bytes = 512;
  c.max_pending = 8;
  return c;
}

// Everything a session may hold: per pending entry a request and a
// response (head fields with their per-field overhead, one body each), plus
// both parsers' buffers.
size_t memory_bound(const Config& c) {
  size_t head = c.max_head_bytes * 40;  // a 2-byte field line costs ~80 bytes of std::string/vector
  size_t message = head + c.max_body * 2;  // body data, and its decoded copy while decoding
  return (c.max_pending + 2) * 2 * message;
}

void feed_randomly(Http1Session& s, const std::vector<std::pair<Side, std::string>>& parts,
                   std::mt19937& rng, const Config& cfg) {
  uint64_t ts = 1;
  for (const auto& [side, bytes] : parts) {
    std::string_view rest = bytes;
    while (!rest.empty()) {
      size_t n = std::min<size_t>(rest.size(), 1 + rng() % 300);
      if (rng() % 50 == 0) {
        s.on_gap(side, 1 + rng() % 2000, ts++);
      } else {
        s.on_data(side, rest.substr(0, n), ts++);
      }
      rest.remove_prefix(n);
      s.take_exchanges();
      ASSERT_LE(s.buffered_bytes(), memory_bound(cfg));
    }
  }
  s.on_close(ts);
  s.take_exchanges();
}

TEST(Http1Fuzz, RandomBytes) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    std::vector<std::pair<Side, std::string>> parts;
    for (int i = 0; i < 20; ++i) {
      std::string b(1 + rng() % 4000, '\0');
      // Some seeds use an alphabet rich in HTTP syntax, so that parsing goes deep.
      static constexpr std::string_view kAlphabet = "GET HTTP/1.1 200\r\n:;0123456789abcdef\t ";
      for (char& c : b) {
        c = seed % 2 ? static_cast<char>(rng()) : kAlphabet[rng() % kAlphabet.size()];
      }
      parts.emplace_back(i % 2 ? Side::kResponses : Side::kRequests, std::move(b));
    }
    Config cfg = tight();
    Http1Session s(cfg);
    feed_randomly(s, parts, rng, cfg);
  }
}

TEST(Http1Fuzz, MutatedFixtures) {
  for (const Fixture& f : fixtures()) {
    for (uint32_t seed = 1; seed <= 30; ++seed) {
      std::mt19937 rng(seed);
      std::vector<std::pair<Side, std::string>> parts;
      for (const Step& st : f.steps) {
        if (st.kind != Step::Kind::kData) continue;
        std::string b = st.bytes;
        switch (rng() % 4) {
          case 0:  // truncate
            b.resize(rng() % (b.size() + 1));
            break;
          case 1:  // flip bytes
            for (int i = 0; i < 3 && !b.empty(); ++i)
              b[rng() % b.size()] = static_cast<char>(rng());
            break;
          case 2:  // duplicate a slice
            if (!b.empty()) {
              size_t at = rng() % b.size();
              b.insert(at, b.substr(at, rng() % 64));
            }
            break;
          default:  // change a digit (lengths, chunk sizes, statuses)
            for (char& c : b) {
              if (c >= '0' && c <= '9' && rng() % 4 == 0) c = static_cast<char>('0' + rng() % 10);
            }
            break;
        }
        parts.emplace_back(st.side, std::move(b));
      }
      Config cfg = tight();
      Http1Session s(cfg);
      feed_randomly(s, parts, rng, cfg);
    }
  }
}

TEST(Http1Fuzz, EndlessHeadAndBodyStayBounded) {
  Config cfg = tight();
  Http1Session s(cfg);
  s.on_data(Side::kRequests, "GET / HTTP/1.1\r\n", 1);
  for (int i = 0; i < 10000; ++i) s.on_data(Side::kRequests, "X-A: b\r\n", 2);
  s.on_data(Side::kResponses, "HTTP/1.1 200 OK\r\n\r\n", 3);  // close-delimited
  for (int i = 0; i < 10000; ++i) s.on_data(Side::kResponses, std::string(1000, 'x'), 4);
  EXPECT_LE(s.buffered_bytes(), memory_bound(cfg));
  s.on_data(Side::kRequests, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 5);
  for (int i = 0; i < 10000; ++i)
    s.on_data(Side::kRequests, "3e8\r\n" + std::string(1000, 'y') + "\r\n", 6);
  EXPECT_LE(s.buffered_bytes(), memory_bound(cfg));
  s.on_close(7);
  auto xs = s.take_exchanges();
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_FALSE(xs[0].request);  // its head was too large
  ASSERT_TRUE(xs[0].response);
  EXPECT_EQ(xs[0].response->body.wire_size, 10000u * 1000u);
  EXPECT_EQ(xs[0].response->body.captured, 2048u);
  ASSERT_TRUE(xs[1].request);
  EXPECT_EQ(xs[1].request->body.wire_size, 10000u * 1000u);
  EXPECT_EQ(xs[1].request->body.captured, 2048u);
  EXPECT_FALSE(xs[1].response);
}

TEST(Http1Fuzz, ManyPipelinedRequestsWithoutResponses) {
  Config cfg = tight();
  Http1Session s(cfg);
  size_t emitted = 0;
  for (int i = 0; i < 5000; ++i) {
    s.on_data(Side::kRequests,
              "POST / HTTP/1.1\r\nContent-Length: 3000\r\n\r\n" + std::string(3000, 'p'), 1);
    emitted += s.take_exchanges().size();
    ASSERT_LE(s.buffered_bytes(), memory_bound(cfg));
  }
  EXPECT_EQ(emitted, 5000u - cfg.max_pending);
}

}  // namespace
}  // namespace qtap::http1::test
