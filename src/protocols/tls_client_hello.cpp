#include "protocols/tls_client_hello.h"

#include <cstdint>

namespace qtap {

namespace {

// A bounds-checked big-endian reader.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool u8(uint32_t& v) { return take(1, v); }
  bool u16(uint32_t& v) { return take(2, v); }
  bool u24(uint32_t& v) { return take(3, v); }
  bool skip(size_t n) {
    if (b_.size() < n) return false;
    b_.remove_prefix(n);
    return true;
  }
  // A vector with an n-byte length prefix.
  bool vec(size_t len_bytes, std::string_view& out) {
    uint32_t n = 0;
    if (!take(len_bytes, n) || b_.size() < n) return false;
    out = b_.substr(0, n);
    b_.remove_prefix(n);
    return true;
  }
  bool empty() const { return b_.empty(); }

 private:
  bool take(size_t n, uint32_t& v) {
    if (b_.size() < n) return false;
    v = 0;
    for (size_t i = 0; i < n; ++i) v = v << 8 | static_cast<uint8_t>(b_[i]);
    b_.remove_prefix(n);
    return true;
  }
  std::string_view b_;
};

bool plausible_host(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h) {
    if (!(c == '-' || c == '.' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
          (c >= 'A' && c <= 'Z'))) {
      return false;
    }
  }
  return true;
}

SniResult sni_from_extensions(std::string_view exts, std::string& sni) {
  Reader r(exts);
  while (!r.empty()) {
    uint32_t type = 0;
    std::string_view body;
    if (!r.u16(type) || !r.vec(2, body)) return SniResult::kNotClientHello;
    if (type != 0) continue;  // server_name
    Reader names(body);
    std::string_view list;
    if (!names.vec(2, list)) return SniResult::kNotClientHello;
    Reader entries(list);
    while (!entries.empty()) {
      uint32_t name_type = 0;
      std::string_view name;
      if (!entries.u8(name_type) || !entries.vec(2, name)) return SniResult::kNotClientHello;
      if (name_type == 0 && plausible_host(name)) {
        sni.assign(name);
        return SniResult::kFound;
      }
    }
  }
  return SniResult::kNone;
}

}  // namespace

SniResult parse_client_hello_sni(std::string_view bytes, std::string& sni) {
  // TLSPlaintext: type 22 (handshake), legacy version 3.x, length.
  if (bytes.size() < 6) return bytes.empty() || bytes[0] == 22 ? SniResult::kNeedMore : SniResult::kNotClientHello;
  Reader rec(bytes);
  uint32_t type = 0, major = 0, minor = 0, len = 0, hs_type = 0, hs_len = 0;
  rec.u8(type);
  rec.u8(major);
  rec.u8(minor);
  rec.u16(len);
  if (type != 22 || major != 3 || len == 0 || len > 16384) return SniResult::kNotClientHello;
  rec.u8(hs_type);
  if (hs_type != 1) return SniResult::kNotClientHello;
  if (bytes.size() < 5 + size_t{len}) return SniResult::kNeedMore;
  // One record holds the ClientHello in practice (it is a few hundred bytes);
  // one split over records is not followed.
  Reader hello(bytes.substr(6, len - 1));
  std::string_view session, suites, compression, exts;
  if (!hello.u24(hs_len) || hs_len > len - 4) return SniResult::kNotClientHello;
  if (!hello.skip(2 + 32) || !hello.vec(1, session) || !hello.vec(2, suites) ||
      !hello.vec(1, compression)) {
    return SniResult::kNotClientHello;
  }
  if (hello.empty()) return SniResult::kNone;  // no extensions at all
  if (!hello.vec(2, exts)) return SniResult::kNotClientHello;
  return sni_from_extensions(exts, sni);
}

}  // namespace qtap
