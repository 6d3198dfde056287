#include "unit/http2/http2_harness.h"

#include <fmt/format.h>

#include <random>
#include <stdexcept>

namespace qtap::http2::test {

Encoder::Encoder(size_t max_table) {
  if (nghttp2_hd_deflate_new(&d_, max_table) != 0) throw std::runtime_error("deflate_new");
}

Encoder::~Encoder() { nghttp2_hd_deflate_del(d_); }

std::string Encoder::encode(const Fields& fields) {
  std::vector<nghttp2_nv> nva;
  for (const auto& [n, v] : fields) {
    nva.push_back(nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())),
                             reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), n.size(),
                             v.size(), NGHTTP2_NV_FLAG_NONE});
  }
  std::string out(nghttp2_hd_deflate_bound(d_, nva.data(), nva.size()), '\0');
  const ssize_t n = nghttp2_hd_deflate_hd(d_, reinterpret_cast<uint8_t*>(out.data()), out.size(),
                                          nva.data(), nva.size());
  if (n < 0) throw std::runtime_error("deflate_hd");
  out.resize(static_cast<size_t>(n));
  return out;
}

void Encoder::change_table_size(size_t size) {
  if (nghttp2_hd_deflate_change_table_size(d_, size) != 0)
    throw std::runtime_error("change_table_size");
}

size_t Encoder::entries() const { return nghttp2_hd_deflate_get_num_table_entries(d_) - 61; }

std::string frame(FrameType type, uint8_t flags, uint32_t stream, std::string_view payload) {
  std::string f;
  const size_t len = payload.size();
  f.push_back(static_cast<char>(len >> 16));
  f.push_back(static_cast<char>(len >> 8));
  f.push_back(static_cast<char>(len));
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  f.push_back(static_cast<char>(stream >> 24));
  f.push_back(static_cast<char>(stream >> 16));
  f.push_back(static_cast<char>(stream >> 8));
  f.push_back(static_cast<char>(stream));
  f.append(payload);
  return f;
}

namespace {

using qtap::test::apply;
using qtap::test::dump_body;
using qtap::test::dump_headers;
using qtap::test::escape;
using qtap::test::Piece;
using qtap::test::split;

std::string be32(uint32_t v) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>(v >> shift));
  return s;
}

std::string varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}

std::string padding(int pad) { return std::string(static_cast<size_t>(pad), '\0'); }

}  // namespace

std::string headers(uint32_t stream, std::string_view block, HeadersOpts o) {
  std::string_view first = block;
  if (o.split > 0 && block.size() > o.split) first = block.substr(0, o.split);
  const bool continued = first.size() < block.size();
  uint8_t flags = o.end_stream ? flag::kEndStream : 0;
  if (!continued) flags |= flag::kEndHeaders;
  std::string payload;
  if (o.pad >= 0) {
    flags |= flag::kPadded;
    payload.push_back(static_cast<char>(o.pad));
  }
  if (o.priority) {
    flags |= flag::kPriority;
    payload += be32(0x80000000u | 0);           // exclusive, on stream 0
    payload.push_back(static_cast<char>(200));  // weight
  }
  payload.append(first);
  if (o.pad >= 0) payload += padding(o.pad);
  std::string out = frame(FrameType::kHeaders, flags, stream, payload);
  std::string_view rest = block.substr(first.size());
  while (!rest.empty()) {
    const std::string_view piece = rest.substr(0, o.split);
    rest.remove_prefix(piece.size());
    out += frame(FrameType::kContinuation, rest.empty() ? flag::kEndHeaders : 0, stream, piece);
  }
  return out;
}

std::string data(uint32_t stream, std::string_view payload, bool end_stream, int pad) {
  uint8_t flags = end_stream ? flag::kEndStream : 0;
  if (pad < 0) return frame(FrameType::kData, flags, stream, payload);
  flags |= flag::kPadded;
  std::string p(1, static_cast<char>(pad));
  p.append(payload);
  p += padding(pad);
  return frame(FrameType::kData, flags, stream, p);
}

std::string settings(const std::vector<std::pair<uint16_t, uint32_t>>& values) {
  std::string p;
  for (const auto& [id, v] : values) {
    p.push_back(static_cast<char>(id >> 8));
    p.push_back(static_cast<char>(id));
    p += be32(v);
  }
  return frame(FrameType::kSettings, 0, 0, p);
}

std::string settings_ack() { return frame(FrameType::kSettings, flag::kAck, 0, {}); }

std::string ping(bool ack) { return frame(FrameType::kPing, ack ? flag::kAck : 0, 0, "pingpong"); }

std::string window_update(uint32_t stream, uint32_t increment) {
  return frame(FrameType::kWindowUpdate, 0, stream, be32(increment));
}

std::string priority(uint32_t stream, uint32_t depends_on) {
  return frame(FrameType::kPriority, 0, stream, be32(depends_on) + std::string(1, '\x0f'));
}

std::string rst_stream(uint32_t stream, uint32_t code) {
  return frame(FrameType::kRstStream, 0, stream, be32(code));
}

std::string goaway(uint32_t last_stream, uint32_t code, std::string_view debug) {
  return frame(FrameType::kGoaway, 0, 0, be32(last_stream) + be32(code) + std::string(debug));
}

std::string push_promise(uint32_t stream, uint32_t promised, std::string_view block) {
  return frame(FrameType::kPushPromise, flag::kEndHeaders, stream,
               be32(promised) + std::string(block));
}

std::string client_start() { return std::string(kConnectionPreface) + settings(); }

std::string grpc_message(std::string_view payload, bool compressed) {
  std::string m(1, compressed ? '\1' : '\0');
  m += be32(static_cast<uint32_t>(payload.size()));
  m.append(payload);
  return m;
}

std::string pb_varint(uint32_t field, uint64_t v) {
  return varint(uint64_t{field} << 3) + varint(v);
}

std::string pb_bytes(uint32_t field, std::string_view bytes) {
  return varint((uint64_t{field} << 3) | 2) + varint(bytes.size()) + std::string(bytes);
}

std::string pb_fixed32(uint32_t field, uint32_t v) {
  std::string s = varint((uint64_t{field} << 3) | 5);
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}

std::string pb_fixed64(uint32_t field, uint64_t v) {
  std::string s = varint((uint64_t{field} << 3) | 1);
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}

namespace {

std::string dump_messages(std::string_view mark, const std::vector<GrpcMessage>& ms) {
  std::string out;
  for (const GrpcMessage& m : ms) {
    out += fmt::format("    {} size={} compressed={} truncated={} json={}\n", mark, m.size,
                       m.compressed, m.truncated, m.decoded_json.empty() ? "-" : m.decoded_json);
  }
  return out;
}

}  // namespace

std::vector<HttpExchange> run_whole(const Fixture& f) {
  Http2Session s(f.cfg, f.mid_stream);
  std::vector<HttpExchange> out;
  for (const Step& st : f.steps) {
    apply(s, Piece{st.kind, st.side, st.bytes, st.gap, st.ts});
    for (HttpExchange& x : s.take_exchanges()) out.push_back(std::move(x));
  }
  return out;
}

std::vector<HttpExchange> run_split(const Fixture& f, uint32_t seed) {
  std::mt19937 rng(seed);
  const bool bytewise = seed % 4 == 0;
  Http2Session s(f.cfg, f.mid_stream);
  std::vector<HttpExchange> out;
  for (const Step& st : f.steps) {
    for (const Piece& p : split(st, rng, bytewise)) apply(s, p);
    for (HttpExchange& x : s.take_exchanges()) out.push_back(std::move(x));
  }
  return out;
}

std::string dump(const std::vector<HttpExchange>& xs) {
  std::string out;
  for (const HttpExchange& x : xs) {
    out += fmt::format("exchange {} stream={} error={}\n", x.version, x.stream_id,
                       x.error ? *x.error : "-");
    for (const std::string& n : x.notes) out += fmt::format("  note: {}\n", n);
    if (x.request) {
      const HttpRequest& r = *x.request;
      out += fmt::format("  request: {} {} {} start={} end={}\n", escape(r.method),
                         escape(r.target), r.version, r.start_ns, r.end_ns);
      out += dump_headers(r.headers);
      out += fmt::format("    body: {}\n", dump_body(r.body));
    }
    if (x.response) {
      const HttpResponse& r = *x.response;
      out += fmt::format("  response: {} {} start={} end={}\n", r.status, r.version, r.start_ns,
                         r.end_ns);
      out += dump_headers(r.headers);
      out += fmt::format("    body: {}\n", dump_body(r.body));
    }
    if (!x.trailers.empty()) out += "  trailers:\n" + dump_headers(x.trailers);
    if (x.grpc) {
      const GrpcCall& g = *x.grpc;
      out += fmt::format("  grpc: {}/{} status={} message=\"{}\" requests={} responses={}\n",
                         g.service, g.method, g.status_code ? std::to_string(*g.status_code) : "-",
                         escape(g.status_message), g.request_messages, g.response_messages);
      out += dump_messages(">", g.requests);
      out += dump_messages("<", g.responses);
    }
  }
  return out;
}

const Fixture& fixture(std::string_view name) {
  for (const Fixture& f : fixtures()) {
    if (f.name == name) return f;
  }
  throw std::invalid_argument(fmt::format("no fixture {}", name));
}

}  // namespace qtap::http2::test
