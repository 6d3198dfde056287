// Test harness for Http2Session: real frames and real HPACK blocks (libnghttp2's deflater),
// byte fixtures as steps (data on one side, a gap, a close), a one-shot runner and a
// "stressor" runner that feeds the same bytes split at random points.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/session_feed.h"

#include "protocols/http2/http2_frame.h"
#include "protocols/http2/http2_session.h"

namespace qtap::http2::test {

using Fields = std::vector<std::pair<std::string, std::string>>;

// One direction's HPACK encoder.
class Encoder {
 public:
  // `max_table`: the largest table the encoder will ever use (nghttp2's deflate limit).
  explicit Encoder(size_t max_table = 4096);
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  std::string encode(const Fields& fields);
  // SETTINGS_HEADER_TABLE_SIZE received from the peer: the next block starts with a size update.
  void change_table_size(size_t size);
  size_t entries() const;

 private:
  nghttp2_hd_deflater* d_ = nullptr;
};

std::string frame(FrameType type, uint8_t flags, uint32_t stream, std::string_view payload);

struct HeadersOpts {
  bool end_stream = false;
  int pad = -1;           // >= 0: PADDED with this many padding bytes
  bool priority = false;  // the PRIORITY fields
  size_t split = 0;       // > 0: the block in pieces of this size, HEADERS then CONTINUATIONs
};
std::string headers(uint32_t stream, std::string_view block, HeadersOpts o = {});
std::string data(uint32_t stream, std::string_view payload, bool end_stream = false, int pad = -1);
std::string settings(const std::vector<std::pair<uint16_t, uint32_t>>& values = {});
std::string settings_ack();
std::string ping(bool ack = false);
std::string window_update(uint32_t stream, uint32_t increment);
std::string priority(uint32_t stream, uint32_t depends_on);
std::string rst_stream(uint32_t stream, uint32_t code);
std::string goaway(uint32_t last_stream, uint32_t code, std::string_view debug = {});
std::string push_promise(uint32_t stream, uint32_t promised, std::string_view block);
// The client's first bytes: preface and an empty SETTINGS.
std::string client_start();

// gRPC length-prefixed message.
std::string grpc_message(std::string_view payload, bool compressed = false);
// Protobuf wire encoding.
std::string pb_varint(uint32_t field, uint64_t v);
std::string pb_bytes(uint32_t field, std::string_view bytes);
std::string pb_fixed32(uint32_t field, uint32_t v);
std::string pb_fixed64(uint32_t field, uint64_t v);

using qtap::test::Step;

struct Fixture {
  std::string name;
  Config cfg;
  bool mid_stream = false;
  std::vector<Step> steps;

  explicit Fixture(std::string n, Config c = {}) : name(std::move(n)), cfg(c) {}
  // Each step is stamped with its own time: 1000, 2000, ...
  Fixture& client(std::string bytes) {
    return add(Step::Kind::kData, Side::kRequests, std::move(bytes), 0);
  }
  Fixture& server(std::string bytes) {
    return add(Step::Kind::kData, Side::kResponses, std::move(bytes), 0);
  }
  Fixture& gap(Side side, uint64_t len) { return add(Step::Kind::kGap, side, {}, len); }
  Fixture& close() { return add(Step::Kind::kClose, Side::kRequests, {}, 0); }

 private:
  Fixture& add(Step::Kind kind, Side side, std::string bytes, uint64_t gap) {
    steps.push_back(Step{kind, side, std::move(bytes), gap, 1000 * (steps.size() + 1)});
    return *this;
  }
};

constexpr uint64_t ts_of(size_t step) { return 1000 * (step + 1); }

// Every fixture, each also run through the stressor.
const std::vector<Fixture>& fixtures();
const Fixture& fixture(std::string_view name);

std::vector<HttpExchange> run_whole(const Fixture& f);
// The same steps, each split at random points (seeded); seed % 4 == 0 feeds byte by byte.
std::vector<HttpExchange> run_split(const Fixture& f, uint32_t seed);

// A canonical, readable text of exchanges, for comparing runs.
std::string dump(const std::vector<HttpExchange>& xs);

}  // namespace qtap::http2::test
