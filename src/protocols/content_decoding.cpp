#include "protocols/content_decoding.h"

#include <brotli/decode.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <vector>

#include "protocols/http_model.h"

namespace qtap {

namespace {

// Decoders write into this scratch buffer and copy into the result, so the
// result never holds more than max_out bytes even when the decoder produces a
// full buffer at once; one extra byte past max_out is how "cut short" is seen.
constexpr size_t kScratch = size_t{16} * 1024;

// Appends `n` decoded bytes; false once max_out would be exceeded (the output
// is then cut at max_out).
bool append_bounded(std::string& out, const unsigned char* p, size_t n, uint64_t max_out) {
  uint64_t room = max_out - out.size();
  if (n > room) {
    out.append(reinterpret_cast<const char*>(p), room);
    return false;
  }
  out.append(reinterpret_cast<const char*>(p), n);
  return true;
}

enum class ZlibFormat { kGzip, kZlib, kRawDeflate };

std::optional<DecodedContent> inflate_all(std::string_view input, ZlibFormat format,
                                          uint64_t max_out) {
  z_stream zs{};
  int window_bits = format == ZlibFormat::kGzip   ? 16 + MAX_WBITS
                    : format == ZlibFormat::kZlib ? MAX_WBITS
                                                  : -MAX_WBITS;
  if (inflateInit2(&zs, window_bits) != Z_OK) return std::nullopt;
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);

  DecodedContent result;
  const auto* next = reinterpret_cast<const unsigned char*>(input.data());
  size_t left = input.size();
  unsigned char scratch[kScratch];
  for (;;) {
    if (zs.avail_in == 0 && left > 0) {
      // avail_in is 32 bits wide; feed very large inputs in slices.
      zs.avail_in = static_cast<uInt>(std::min<size_t>(left, UINT_MAX));
      zs.next_in = const_cast<unsigned char*>(next);
      next += zs.avail_in;
      left -= zs.avail_in;
    }
    zs.next_out = scratch;
    zs.avail_out = sizeof scratch;
    int ret = inflate(&zs, Z_NO_FLUSH);
    size_t produced = sizeof scratch - zs.avail_out;
    if (!append_bounded(result.data, scratch, produced, max_out)) return result;
    if (ret == Z_STREAM_END) {
      // A gzip body may hold several members back to back (RFC 1952 2.2).
      auto byte_at = [&](size_t k) {
        return k < zs.avail_in ? zs.next_in[k] : next[k - zs.avail_in];
      };
      if (format == ZlibFormat::kGzip && zs.avail_in + left >= 2 && byte_at(0) == 0x1f &&
          byte_at(1) == 0x8b) {
        inflateReset(&zs);
        continue;
      }
      // Bytes after the end of the stream (padding) are ignored.
      result.complete = true;
      return result;
    }
    if (ret == Z_BUF_ERROR) return result;  // input ended before the stream did
    if (ret != Z_OK) return std::nullopt;   // Z_DATA_ERROR, Z_NEED_DICT, Z_MEM_ERROR
  }
}

std::optional<DecodedContent> brotli_all(std::string_view input, uint64_t max_out) {
  std::unique_ptr<BrotliDecoderState, void (*)(BrotliDecoderState*)> state(
      BrotliDecoderCreateInstance(nullptr, nullptr, nullptr), BrotliDecoderDestroyInstance);
  if (!state) return std::nullopt;
  DecodedContent result;
  size_t avail_in = input.size();
  const auto* next_in = reinterpret_cast<const uint8_t*>(input.data());
  uint8_t scratch[kScratch];
  for (;;) {
    size_t avail_out = sizeof scratch;
    uint8_t* next_out = scratch;
    BrotliDecoderResult r = BrotliDecoderDecompressStream(state.get(), &avail_in, &next_in,
                                                          &avail_out, &next_out, nullptr);
    if (!append_bounded(result.data, scratch, sizeof scratch - avail_out, max_out)) return result;
    switch (r) {
      case BROTLI_DECODER_RESULT_SUCCESS:
        result.complete = true;
        return result;
      case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
        return result;
      case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
        continue;
      default:
        return std::nullopt;
    }
  }
}

// RFC 1950: CM = 8 in the low nibble, window <= 32K, and the 16-bit header a
// multiple of 31. A raw deflate stream passes this by chance in ~1 of 500
// cases, and its first block header would then have to be valid zlib too.
bool has_zlib_header(std::string_view in) {
  if (in.size() < 2) return false;
  auto cmf = static_cast<unsigned char>(in[0]);
  auto flg = static_cast<unsigned char>(in[1]);
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && (cmf * 256 + flg) % 31 == 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<DecodedContent> decode_one(std::string_view coding, std::string_view input,
                                         uint64_t max_out) {
  if (iequals_ascii(coding, "gzip") || iequals_ascii(coding, "x-gzip")) {
    return inflate_all(input, ZlibFormat::kGzip, max_out);
  }
  if (iequals_ascii(coding, "deflate")) {
    // "deflate" means zlib-wrapped (RFC 9110 8.4.1.2), but some servers send
    // raw deflate; browsers accept both, so do we.
    return inflate_all(input, has_zlib_header(input) ? ZlibFormat::kZlib : ZlibFormat::kRawDeflate,
                       max_out);
  }
  if (iequals_ascii(coding, "br")) return brotli_all(input, max_out);
  return std::nullopt;
}

}  // namespace

std::optional<DecodedContent> decode_content(std::string_view encoding, std::string_view input,
                                             uint64_t max_out) {
  std::vector<std::string_view> codings;
  while (!encoding.empty()) {
    size_t comma = encoding.find(',');
    std::string_view c = trim(encoding.substr(0, comma));
    if (!c.empty() && !iequals_ascii(c, "identity")) codings.push_back(c);
    encoding.remove_prefix(comma == std::string_view::npos ? encoding.size() : comma + 1);
  }
  if (codings.empty()) {
    DecodedContent same;
    same.data.assign(input.substr(0, std::min<uint64_t>(input.size(), max_out)));
    same.complete = input.size() <= max_out;
    return same;
  }
  // Codings are listed in the order they were applied: undo the last first.
  std::optional<DecodedContent> step;
  bool complete = true;
  for (size_t i = codings.size(); i-- > 0;) {
    std::string_view in = step ? std::string_view(step->data) : input;
    std::optional<DecodedContent> next = decode_one(codings[i], in, max_out);
    if (!next) return std::nullopt;
    complete = complete && next->complete;
    step = std::move(next);
  }
  step->complete = complete;
  return step;
}

}  // namespace qtap
