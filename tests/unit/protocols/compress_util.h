// Encoders that build compressed fixtures at test time (zlib for gzip and
// deflate, libbrotlienc for br). Shared by unit_protocols and unit_http1.
#pragma once

#include <brotli/encode.h>
#include <zlib.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

namespace qtap::test {

enum class Wrap { kGzip, kZlib, kRaw };

inline std::string deflate_bytes(std::string_view in, Wrap wrap, int level = 6) {
  z_stream zs{};
  int bits = wrap == Wrap::kGzip ? 16 + MAX_WBITS : wrap == Wrap::kZlib ? MAX_WBITS : -MAX_WBITS;
  if (deflateInit2(&zs, level, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2");
  }
  std::string out(deflateBound(&zs, in.size()) + 16, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int ret = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (ret != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(zs.total_out);
  return out;
}

inline std::string gzip(std::string_view in) { return deflate_bytes(in, Wrap::kGzip); }

// Fixtures are compressed at test time (the encoder is linked into the unit
// tests only; qtap itself only decodes).
inline std::string brotli(std::string_view in, int quality = 5) {
  size_t size = in.size() + in.size() / 2 + 1024;
  std::string out(size, '\0');
  if (!BrotliEncoderCompress(quality, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, in.size(),
                reinterpret_cast<const uint8_t*>(in.data()), &size,
                reinterpret_cast<uint8_t*>(out.data()))) {
    throw std::runtime_error("BrotliEncoderCompress failed");
  }
  out.resize(size);
  return out;
}

// Text that compresses well but not trivially.
inline std::string sample_text(size_t n, uint32_t seed = 1) {
  static constexpr std::string_view kWords[] = {"alpha ",  "beta ", "gamma ", "delta\n",
                                                "{\"k\":", "42, ",  "qtap ",  "http "};
  std::mt19937 rng(seed);
  std::string s;
  s.reserve(n + 8);
  while (s.size() < n) s += kWords[rng() % 8];
  s.resize(n);
  return s;
}

// Bytes that do not compress.
inline std::string random_bytes(size_t n, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

}  // namespace qtap::test
