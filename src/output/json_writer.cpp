#include "output/json_writer.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace qtap::json {
namespace {

constexpr uint64_t kHighs = 0x8080808080808080ull;

uint64_t load8(const unsigned char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

constexpr char kHex[] = "0123456789abcdef";

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Two output characters per 12 input bits: half the lookups of the textbook
// loop, for 8 KiB of table.
constexpr std::array<char, 8192> kBase64Pairs = [] {
  std::array<char, 8192> t{};
  for (int i = 0; i < 4096; ++i) {
    t[2 * i] = kBase64[i >> 6];
    t[2 * i + 1] = kBase64[i & 63];
  }
  return t;
}();

// Bytes a JSON string cannot hold as they are, or that need a UTF-8 check.
constexpr std::array<bool, 256> kAttention = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = c < 0x20 || c >= 0x80 || c == '"' || c == '\\';
  return t;
}();

// The letter of the two-character escapes (\n, \", ...); 0 where JSON needs
// \u00XX instead.
constexpr std::array<char, 256> kShortEscape = [] {
  std::array<char, 256> t{};
  t['"'] = '"';
  t['\\'] = '\\';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  return t;
}();

// Non-zero if some byte of `w` needs attention: below 0x20, '"', '\\', or
// non-ASCII. The lowest flagged byte (0x80 in it) is always a true one;
// borrows can only flag bytes above it.
constexpr uint64_t attention_bits(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHighs;
  const uint64_t q = w ^ (kOnes * '"');
  const uint64_t b = w ^ (kOnes * '\\');
  return (w & kHighs) | below_space | ((q - kOnes) & ~q & kHighs) | ((b - kOnes) & ~b & kHighs);
}

void store8(char* d, uint64_t w) { std::memcpy(d, &w, sizeof w); }

// Copies bytes from p[i] on to `d` until one needs attention; returns its
// index, or n. Whole blocks at a time, including the ragged end of strings of
// eight bytes or more: most strings in a record are short (header values,
// paths), and a byte loop over them was the largest cost per record. Stores
// whole blocks, so it needs 16 bytes of room past the bytes it copies.
[[gnu::always_inline]] inline size_t copy_plain(const unsigned char* p, size_t i, size_t n,
                                                char*& d) {
#if defined(__SSE2__)
  // SSE2 is part of x86-64; other targets go by eight bytes.
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  while (i + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    // Signed compare: bytes >= 0x80 are negative, so "< 0x20" flags them too.
    const __m128i hit =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                     _mm_cmplt_epi8(v, space));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d), v);
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    if (mask != 0) {
      const auto k = static_cast<unsigned>(__builtin_ctz(mask));
      d += k;
      return i + k;
    }
    d += 16;
    i += 16;
  }
#endif
  if constexpr (std::endian::native == std::endian::little) {
    while (i + 8 <= n) {
      const uint64_t w = load8(p + i);
      store8(d, w);
      if (const uint64_t a = attention_bits(w); a != 0) {
        const auto k = static_cast<size_t>(__builtin_ctzll(a)) / 8;
        d += k;
        return i + k;
      }
      d += 8;
      i += 8;
    }
    if (i < n && n >= 8) {
      // The last eight bytes of the string, less the 1..7 already copied.
      // The zero bytes shifted in count as hits, so the first hit is at
      // n - i at the latest.
      const auto shift = static_cast<unsigned>(8 * (i - (n - 8)));
      const uint64_t w = load8(p + n - 8) >> shift;
      store8(d, w);
      const auto k = static_cast<size_t>(__builtin_ctzll(attention_bits(w))) / 8;
      d += k;
      return i + k;
    }
  }
  while (i < n && !kAttention[p[i]]) *d++ = static_cast<char>(p[i++]);
  return i;
}

bool is_cont(unsigned char c) { return (c & 0xc0) == 0x80; }

void put_digits(char* p, uint32_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
// civil_from_days): no gmtime_r, no locale, no time zone files.
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

#if defined(__x86_64__)
// Base64 of 24 bytes per step into 32 characters, with AVX2 (the
// multiply-shift unpacking and pshufb alphabet lookup of Mula and Lemire's
// "Faster Base64 Encoding and Decoding using AVX2 Instructions", 2018).
// Reads 28 bytes per step (two overlapping 16-byte loads); returns how many
// input bytes it encoded, a multiple of 24, leaving the rest to the caller.
[[gnu::target("avx2")]] size_t base64_avx2(const unsigned char* p, size_t n, char* d) {
  // Each 32-bit word gets the 3 bytes b, a, c, b of its group (a, b, c).
  const __m256i spread = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,  //
                                          1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
  // Per alphabet range (chosen by the byte index below): what to add to a 6-bit value.
  const __m256i offsets = _mm256_setr_epi8(
      'a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
      '0' - 52, '0' - 52, '+' - 62, '/' - 63, 'A', 0, 0,  //
      'a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
      '0' - 52, '0' - 52, '+' - 62, '/' - 63, 'A', 0, 0);
  size_t i = 0;
  for (; i + 28 <= n; i += 24, d += 32) {
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 12));
    const __m256i in = _mm256_shuffle_epi8(_mm256_set_m128i(hi, lo), spread);
    // Four 6-bit values per word, each in its own byte.
    const __m256i t0 = _mm256_mulhi_epu16(_mm256_and_si256(in, _mm256_set1_epi32(0x0fc0fc00)),
                                          _mm256_set1_epi32(0x04000040));
    const __m256i t1 = _mm256_mullo_epi16(_mm256_and_si256(in, _mm256_set1_epi32(0x003f03f0)),
                                          _mm256_set1_epi32(0x01000010));
    const __m256i v = _mm256_or_si256(t0, t1);
    // Range index: 0 for a-z (26..51), 1..12 for 52..63, 13 for A-Z (0..25).
    __m256i idx = _mm256_subs_epu8(v, _mm256_set1_epi8(51));
    idx = _mm256_or_si256(idx, _mm256_and_si256(_mm256_cmpgt_epi8(_mm256_set1_epi8(26), v),
                                                _mm256_set1_epi8(13)));
    const __m256i out = _mm256_add_epi8(v, _mm256_shuffle_epi8(offsets, idx));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), out);
  }
  return i;
}

// Static initialisation runs before libgcc's own CPU detection may have.
const bool kHaveAvx2 = (__builtin_cpu_init(), __builtin_cpu_supports("avx2"));
#endif

}  // namespace

size_t utf8_sequence_length(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  const unsigned char c = p[0];
  if (c < 0x80) return 1;
  if (c < 0xc2) return 0;  // continuation byte, or overlong 2-byte lead
  if (c < 0xe0) return n >= 2 && is_cont(p[1]) ? 2 : 0;
  if (c < 0xf0) {
    if (n < 3 || !is_cont(p[2])) return 0;
    const unsigned char c1 = p[1];
    if (c == 0xe0) return c1 >= 0xa0 && c1 <= 0xbf ? 3 : 0;  // no overlongs
    if (c == 0xed) return c1 >= 0x80 && c1 <= 0x9f ? 3 : 0;  // no surrogates
    return is_cont(c1) ? 3 : 0;
  }
  if (c > 0xf4 || n < 4 || !is_cont(p[2]) || !is_cont(p[3])) return 0;
  const unsigned char c1 = p[1];
  if (c == 0xf0) return c1 >= 0x90 && c1 <= 0xbf ? 4 : 0;  // no overlongs
  if (c == 0xf4) return c1 >= 0x80 && c1 <= 0x8f ? 4 : 0;  // <= U+10FFFF
  return is_cont(c1) ? 4 : 0;
}

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    while (i + 8 <= n && (load8(p + i) & kHighs) == 0) i += 8;
    if (i >= n) break;
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const size_t len = utf8_sequence_length(s.substr(i));
    if (len == 0) return false;
    i += len;
  }
  return true;
}

void Writer::grow(size_t n) {
  const size_t used = static_cast<size_t>(pos_ - data_.get());
  const size_t cap = static_cast<size_t>(end_ - data_.get());
  const size_t want = std::max({cap * 2, used + n, size_t{4096}});
  auto bigger = std::make_unique_for_overwrite<char[]>(want);
  if (used != 0) std::memcpy(bigger.get(), data_.get(), used);
  data_ = std::move(bigger);
  pos_ = data_.get() + used;
  end_ = data_.get() + want;
}

void Writer::release_if_larger(size_t max_keep) {
  if (static_cast<size_t>(end_ - data_.get()) <= max_keep) return;
  data_.reset();
  pos_ = nullptr;
  end_ = nullptr;
  need_comma_ = false;
}

template <bool kStrict>
bool Writer::escape(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  // Invariant: room for the rest of `s` copied as is plus the 16 bytes
  // copy_plain may store past it; an escape (up to six bytes for one) renews
  // it. `d` is a local cursor: a store through char* may alias pos_.
  reserve(n + 16);
  char* d = pos_;
  size_t i = 0;
  while ((i = copy_plain(p, i, n, d)) < n) {
    const unsigned char c = p[i];
    if (c >= 0x80) {
      size_t len;
      if (c >= 0xc2 && c < 0xe0 && i + 1 < n && is_cont(p[i + 1])) {
        len = 2;  // the common case (Latin, Greek, Cyrillic... text) without a call
      } else {
        len = utf8_sequence_length(s.substr(i));
      }
      if (len != 0) {
        for (size_t j = 0; j < len; ++j) d[j] = static_cast<char>(p[i + j]);
        d += len;
        i += len;
        continue;
      }
      if constexpr (kStrict) return false;  // the caller rewinds
    }
    if (const size_t need = n - i + 6 + 16; static_cast<size_t>(end_ - d) < need) {
      pos_ = d;
      grow(need);
      d = pos_;
    }
    if (const char letter = kShortEscape[c]; letter != 0) {
      d[0] = '\\';
      d[1] = letter;
      d += 2;
    } else {
      // Other controls, and bytes outside UTF-8 read as Latin-1.
      const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      std::memcpy(d, esc, sizeof esc);
      d += 6;
    }
    ++i;
  }
  pos_ = d;
  return true;
}

template bool Writer::escape<false>(std::string_view s);
template bool Writer::escape<true>(std::string_view s);

Writer& Writer::uint(uint64_t v) {
  reserve(24);
  separate();
  pos_ = std::to_chars(pos_, pos_ + 21, v).ptr;
  need_comma_ = true;
  return *this;
}

Writer& Writer::sint(int64_t v) {
  reserve(24);
  separate();
  pos_ = std::to_chars(pos_, pos_ + 21, v).ptr;
  need_comma_ = true;
  return *this;
}

Writer& Writer::number(double v) {
  if (!std::isfinite(v)) return null();
  reserve(40);
  separate();
  // Shortest round-trip form is at most 24 characters ("-2.2250738585072014e-308").
  pos_ = std::to_chars(pos_, pos_ + 32, v).ptr;
  need_comma_ = true;
  return *this;
}

Writer& Writer::number_3dp(double v) {
  // Beyond 2^53 thousandths a double has no third decimal to round.
  if (!std::isfinite(v) || std::fabs(v) >= 9e12) return number(v);
  const int64_t thousandths = std::llround(v * 1000.0);
  reserve(32);
  separate();
  uint64_t mag;
  if (thousandths < 0) {
    put('-');
    mag = static_cast<uint64_t>(-thousandths);
  } else {
    mag = static_cast<uint64_t>(thousandths);
  }
  pos_ = std::to_chars(pos_, pos_ + 21, mag / 1000).ptr;
  uint32_t frac = static_cast<uint32_t>(mag % 1000);
  if (frac != 0) {
    int digits = 3;
    while (frac % 10 == 0) {
      frac /= 10;
      --digits;
    }
    put('.');
    put_digits(pos_, frac, digits);
    pos_ += digits;
  }
  need_comma_ = true;
  return *this;
}

Writer& Writer::rfc3339_micros(int64_t unix_ns) {
  constexpr int64_t kNsPerSec = 1'000'000'000;
  int64_t secs = unix_ns / kNsPerSec;
  int64_t sub = unix_ns % kNsPerSec;
  if (sub < 0) {
    sub += kNsPerSec;
    --secs;
  }
  if (secs != time_sec_) {
    int64_t days = secs / 86400;
    int64_t sod = secs % 86400;
    if (sod < 0) {
      sod += 86400;
      --days;
    }
    int64_t year;
    unsigned month, day;
    civil_from_days(days, year, month, day);
    // int64 nanoseconds span the years 1677..2262: always four digits.
    char* t = time_text_;
    std::memcpy(t, "0000-00-00T00:00:00", 19);
    put_digits(t, static_cast<uint32_t>(year), 4);
    put_digits(t + 5, month, 2);
    put_digits(t + 8, day, 2);
    put_digits(t + 11, static_cast<uint32_t>(sod / 3600), 2);
    put_digits(t + 14, static_cast<uint32_t>(sod / 60 % 60), 2);
    put_digits(t + 17, static_cast<uint32_t>(sod % 60), 2);
    time_sec_ = secs;
  }
  reserve(32);
  separate();
  put('"');
  put(std::string_view(time_text_, 19));
  put('.');
  put_digits(pos_, static_cast<uint32_t>(sub / 1000), 6);
  pos_ += 6;
  put("Z\"");
  need_comma_ = true;
  return *this;
}

Writer& Writer::base64(std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t n = data.size();
  reserve((n + 2) / 3 * 4 + 3);
  separate();
  put('"');
  char* d = pos_;
  size_t i = 0;
#if defined(__x86_64__)
  if (kHaveAvx2 && n >= 28) {
    i = base64_avx2(p, n, d);
    d += i / 3 * 4;
  }
#endif
  if constexpr (std::endian::native == std::endian::little) {
    // Six bytes per step from one 8-byte load.
    for (; i + 8 <= n; i += 6, d += 8) {
      const uint64_t w = __builtin_bswap64(load8(p + i));
      std::memcpy(d, &kBase64Pairs[2 * ((w >> 52) & 0xfff)], 2);
      std::memcpy(d + 2, &kBase64Pairs[2 * ((w >> 40) & 0xfff)], 2);
      std::memcpy(d + 4, &kBase64Pairs[2 * ((w >> 28) & 0xfff)], 2);
      std::memcpy(d + 6, &kBase64Pairs[2 * ((w >> 16) & 0xfff)], 2);
    }
  }
  for (; i + 3 <= n; i += 3, d += 4) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    std::memcpy(d, &kBase64Pairs[2 * (v >> 12)], 2);
    std::memcpy(d + 2, &kBase64Pairs[2 * (v & 0xfff)], 2);
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{p[i]} << 16;
    d[0] = kBase64[v >> 18];
    d[1] = kBase64[(v >> 12) & 63];
    d[2] = '=';
    d[3] = '=';
    d += 4;
  } else if (n - i == 2) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    d[0] = kBase64[v >> 18];
    d[1] = kBase64[(v >> 12) & 63];
    d[2] = kBase64[(v >> 6) & 63];
    d[3] = '=';
    d += 4;
  }
  pos_ = d;
  put('"');
  need_comma_ = true;
  return *this;
}

}  // namespace qtap::json
