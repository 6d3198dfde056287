// What the HTTP/1 and HTTP/2 session harnesses share: fixture steps, feeding
// a session whole or in random pieces, and a canonical text of exchanges.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/http1/http1_session.h"  // Side
#include "protocols/http_model.h"

namespace qtap::test {

using http1::Side;

// One step of a fixture: bytes on one side, a hole, or the close.
struct Step {
  enum class Kind : uint8_t { kData, kGap, kClose };
  Kind kind = Kind::kData;
  Side side = Side::kRequests;
  std::string bytes;
  uint64_t gap = 0;
  uint64_t ts = 0;
};

// A step, or part of one, as fed to a session.
struct Piece {
  Step::Kind kind;
  Side side;
  std::string_view bytes;
  uint64_t gap;
  uint64_t ts;
};

template <class Session>
void apply(Session& s, const Piece& p) {
  switch (p.kind) {
    case Step::Kind::kData:
      s.on_data(p.side, p.bytes, p.ts);
      break;
    case Step::Kind::kGap:
      s.on_gap(p.side, p.gap, p.ts);
      break;
    case Step::Kind::kClose:
      s.on_close(p.ts);
      break;
  }
}

// A step cut at random points: mostly small pieces, sometimes large ones;
// `bytewise`, one byte at a time.
inline std::vector<Piece> split(const Step& st, std::mt19937& rng, bool bytewise) {
  if (st.kind != Step::Kind::kData) return {Piece{st.kind, st.side, {}, st.gap, st.ts}};
  std::vector<Piece> out;
  std::string_view rest = st.bytes;
  static constexpr size_t kMaxPiece[] = {3, 17, 200, 5000};
  const size_t max_piece = bytewise ? 1 : kMaxPiece[rng() % 4];
  while (!rest.empty()) {
    const size_t n = std::min(rest.size(), 1 + rng() % max_piece);
    out.push_back(Piece{st.kind, st.side, rest.substr(0, n), 0, st.ts});
    rest.remove_prefix(n);
  }
  return out;
}

inline std::string escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

inline std::string dump_body(const Body& b) {
  // Long bodies by length and hash; enough to tell any difference.
  std::string data = b.data.size() <= 120
                         ? escape(b.data)
                         : fmt::format("{}...#{:016x}", escape(b.data.substr(0, 40)),
                                       std::hash<std::string>{}(b.data));
  return fmt::format("size={} wire={} captured={} truncated={} encoding={} decoded={} data=\"{}\"",
                     b.size, b.wire_size, b.captured, b.truncated,
                     b.content_encoding ? *b.content_encoding : "-", b.content_decoded, data);
}

inline std::string dump_headers(const std::vector<Header>& hs) {
  std::string out;
  for (const Header& h : hs) out += fmt::format("    {}: {}\n", escape(h.name), escape(h.value));
  return out;
}

}  // namespace qtap::test
