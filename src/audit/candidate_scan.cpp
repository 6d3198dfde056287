#include "audit/candidate_scan.h"

#include <cstdint>
#include <cstring>

#include "audit/text_util.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace qtap::audit {
namespace {

constexpr size_t kBlock = 64;
constexpr size_t kMinRun = 13;  // the shortest card number

// One bit per byte of a 64-byte block.
struct BlockMasks {
  uint64_t digit = 0;
  uint64_t upper = 0;
  uint64_t separator = 0;  // ' ' or '-'
};

BlockMasks classify(const char* p) {
  BlockMasks m;
#if defined(__SSE2__)
  const __m128i zero_char = _mm_set1_epi8('0');
  const __m128i nine = _mm_set1_epi8(9);
  const __m128i a_char = _mm_set1_epi8('A');
  const __m128i twenty_five = _mm_set1_epi8(25);
  const __m128i space = _mm_set1_epi8(' ');
  const __m128i dash = _mm_set1_epi8('-');
  for (int k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    // x - lo <= span as unsigned bytes: min(x - lo, span) == x - lo.
    const __m128i d = _mm_sub_epi8(v, zero_char);
    const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(d, nine), d);
    const __m128i u = _mm_sub_epi8(v, a_char);
    const __m128i is_upper = _mm_cmpeq_epi8(_mm_min_epu8(u, twenty_five), u);
    const __m128i is_sep = _mm_or_si128(_mm_cmpeq_epi8(v, space), _mm_cmpeq_epi8(v, dash));
    const int shift = 16 * k;
    m.digit |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(is_digit))) << shift;
    m.upper |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(is_upper))) << shift;
    m.separator |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(is_sep)))
                   << shift;
  }
#else
  for (size_t i = 0; i < kBlock; ++i) {
    const uint64_t bit = uint64_t{1} << i;
    if (is_digit(p[i])) m.digit |= bit;
    if (is_upper(p[i])) m.upper |= bit;
    if (p[i] == ' ' || p[i] == '-') m.separator |= bit;
  }
#endif
  return m;
}

// The block at s[i]; past the end of `s` reads as zero bytes, which are in
// no class.
BlockMasks classify_at(std::string_view s, size_t i) {
  if (s.size() - i >= kBlock) return classify(s.data() + i);
  char tail[kBlock] = {};
  std::memcpy(tail, s.data() + i, s.size() - i);
  return classify(tail);
}

int trailing_zeros(uint64_t x) { return __builtin_ctzll(x); }
int leading_zeros(uint64_t x) { return __builtin_clzll(x); }

// Length of the run of ones starting at bit 0 / ending at bit 63.
int ones_from_bottom(uint64_t x) { return ~x == 0 ? 64 : trailing_zeros(~x); }
int ones_from_top(uint64_t x) { return ~x == 0 ? 64 : leading_zeros(~x); }

// A digit, or a separator right after a digit.
bool in_digit_run(std::string_view s, size_t i) {
  return is_digit(s[i]) || ((s[i] == ' ' || s[i] == '-') && i > 0 && is_digit(s[i - 1]));
}

}  // namespace

void find_digit_runs(std::string_view s, SpanFn fn, void* ctx) {
  size_t i = 0;
  size_t carry = 0;            // run length ending just before s[i]
  bool last_was_digit = false;  // s[i - 1] is a digit
  while (i < s.size()) {
    const BlockMasks m = classify_at(s, i);
    const uint64_t run = m.digit | (m.separator & ((m.digit << 1) | (last_was_digit ? 1 : 0)));
    // Bit k of `y`: bits k..k+12 of `run` are all set, a run of 13 inside the block.
    uint64_t y = run & (run >> 1);
    y &= y >> 2;
    y &= y >> 4;
    y &= y >> 5;
    size_t hit = SIZE_MAX;
    if (carry > 0 && carry + static_cast<size_t>(ones_from_bottom(run)) >= kMinRun) {
      hit = i - carry;
    } else if (y != 0) {
      hit = i + static_cast<size_t>(trailing_zeros(y));
    }
    if (hit != SIZE_MAX) {
      size_t start = hit;
      while (start > 0 && in_digit_run(s, start - 1)) --start;
      size_t end = hit;
      while (end < s.size() && in_digit_run(s, end)) ++end;
      fn(ctx, start, end);
      // s[end] is outside any run: start afresh there.
      i = end;
      carry = 0;
      last_was_digit = false;
      continue;
    }
    if (s.size() - i <= kBlock) break;
    const int top = ones_from_top(run);
    carry = top == 64 ? carry + kBlock : static_cast<size_t>(top);
    last_was_digit = (m.digit >> 63) != 0;
    i += kBlock;
  }
}

void find_iban_starts(std::string_view s, SpanFn fn, void* ctx) {
  // Each block reports starts at bits 0..60 only, whose four bytes are all in
  // the block; the next block begins at bit 61.
  constexpr size_t kStep = kBlock - 3;
  constexpr uint64_t kStarts = (uint64_t{1} << kStep) - 1;
  for (size_t i = 0; i + 4 <= s.size(); i += kStep) {
    const BlockMasks m = classify_at(s, i);
    uint64_t starts = m.upper & (m.upper >> 1) & (m.digit >> 2) & (m.digit >> 3) & kStarts;
    while (starts != 0) {
      const size_t pos = i + static_cast<size_t>(trailing_zeros(starts));
      fn(ctx, pos, pos + 4);
      starts &= starts - 1;
    }
  }
}

}  // namespace qtap::audit
