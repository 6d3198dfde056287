#include "audit/candidate_scan.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "audit/text_util.h"

#if defined(__x86_64__) || defined(__i386__)
#define QTAP_AUDIT_X86 1
#include <immintrin.h>
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

// Classifiers of a 64-byte block: one per instruction set, same result.
struct Portable {
  static BlockMasks classify(const char* p) {
    BlockMasks m;
    for (size_t i = 0; i < kBlock; ++i) {
      const uint64_t bit = uint64_t{1} << i;
      if (is_digit(p[i])) m.digit |= bit;
      if (is_upper(p[i])) m.upper |= bit;
      if (p[i] == ' ' || p[i] == '-') m.separator |= bit;
    }
    return m;
  }
};

#if defined(QTAP_AUDIT_X86) && defined(__SSE2__)
struct Sse2 {
  static BlockMasks classify(const char* p) {
    BlockMasks m;
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
    return m;
  }
};

// Every x86-64 CPU with AVX2 has BMI1/2 and LZCNT too (checked anyway).
#define QTAP_AUDIT_AVX2_TARGET __attribute__((target("avx2,bmi,bmi2,lzcnt,popcnt")))
struct Avx2 {
  QTAP_AUDIT_AVX2_TARGET static BlockMasks classify(const char* p) {
    BlockMasks m;
    const __m256i zero_char = _mm256_set1_epi8('0');
    const __m256i nine = _mm256_set1_epi8(9);
    const __m256i a_char = _mm256_set1_epi8('A');
    const __m256i twenty_five = _mm256_set1_epi8(25);
    const __m256i space = _mm256_set1_epi8(' ');
    const __m256i dash = _mm256_set1_epi8('-');
    for (int k = 0; k < 2; ++k) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * k));
      const __m256i d = _mm256_sub_epi8(v, zero_char);
      const __m256i is_digit = _mm256_cmpeq_epi8(_mm256_min_epu8(d, nine), d);
      const __m256i u = _mm256_sub_epi8(v, a_char);
      const __m256i is_upper = _mm256_cmpeq_epi8(_mm256_min_epu8(u, twenty_five), u);
      const __m256i is_sep =
          _mm256_or_si256(_mm256_cmpeq_epi8(v, space), _mm256_cmpeq_epi8(v, dash));
      const int shift = 32 * k;
      m.digit |= static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(is_digit)))
                 << shift;
      m.upper |= static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(is_upper)))
                 << shift;
      m.separator |= static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(is_sep)))
                     << shift;
    }
    return m;
  }
};

#define QTAP_AUDIT_AVX512_TARGET \
  __attribute__((target("avx512f,avx512bw,avx2,bmi,bmi2,lzcnt,popcnt")))
struct Avx512 {
  QTAP_AUDIT_AVX512_TARGET static BlockMasks classify(const char* p) {
    const __m512i v = _mm512_loadu_si512(p);
    BlockMasks m;
    m.digit =
        _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8('0')), _mm512_set1_epi8(9));
    m.upper =
        _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8('A')), _mm512_set1_epi8(25));
    m.separator = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(' ')) |
                  _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('-'));
    return m;
  }
};
#endif

int trailing_zeros(uint64_t x) { return __builtin_ctzll(x); }
int leading_zeros(uint64_t x) { return __builtin_clzll(x); }

// Length of the run of ones starting at bit 0 / ending at bit 63.
int ones_from_bottom(uint64_t x) { return ~x == 0 ? 64 : trailing_zeros(~x); }
int ones_from_top(uint64_t x) { return ~x == 0 ? 64 : leading_zeros(~x); }

// A digit, or a separator right after a digit.
bool in_digit_run(std::string_view s, size_t i) {
  return is_digit(s[i]) || ((s[i] == ' ' || s[i] == '-') && i > 0 && is_digit(s[i - 1]));
}

// IBAN starts among the 64 positions of the block at `at` (masks `b`), with
// the next block's masks `next` for the starts whose four bytes cross into
// it (zero past the end of the text).
inline __attribute__((always_inline)) void iban_starts_in(const BlockMasks& b,
                                                          const BlockMasks& next, size_t at,
                                                          SpanFn fn, void* ctx) {
  const uint64_t upper1 = (b.upper >> 1) | (next.upper << 63);
  const uint64_t digit2 = (b.digit >> 2) | (next.digit << 62);
  const uint64_t digit3 = (b.digit >> 3) | (next.digit << 61);
  uint64_t starts = b.upper & upper1 & digit2 & digit3;
  while (starts != 0) {
    const size_t pos = at + static_cast<size_t>(trailing_zeros(starts));
    fn(ctx, pos, pos + 4);
    starts &= starts - 1;
  }
}

// The block at s[i]; past the end of `s` reads as zero bytes, which are in
// no class.
template <typename Isa>
inline __attribute__((always_inline)) BlockMasks classify_at(std::string_view s, size_t i) {
  if (s.size() - i >= kBlock) return Isa::classify(s.data() + i);
  char tail[kBlock] = {};
  std::memcpy(tail, s.data() + i, s.size() - i);
  return Isa::classify(tail);
}
template <typename Isa>
inline __attribute__((always_inline)) void scan_blocks(std::string_view s, SpanFn on_run,
                                                       SpanFn on_iban, void* ctx) {
  // Blocks at multiples of 64, each classified once. Digit runs: `carry` is
  // the length of the run ending just before the block; once a run is
  // reported, the bits before its end are cleared (`resume`) so the rest of
  // the block is searched for the next one.
  const size_t n = s.size();
  size_t resume = 0;
  size_t carry = 0;
  bool last_was_digit = false;
  BlockMasks prev;
  for (size_t i = 0; i < n; i += kBlock) {
    const BlockMasks m = classify_at<Isa>(s, i);
    if (on_iban != nullptr && i > 0) iban_starts_in(prev, m, i - kBlock, on_iban, ctx);
    if (on_run != nullptr) {
      uint64_t run = m.digit | (m.separator & ((m.digit << 1) | (last_was_digit ? 1 : 0)));
      last_was_digit = (m.digit >> 63) != 0;
      while (true) {
        if (resume > i) run &= resume - i >= kBlock ? 0 : ~((uint64_t{1} << (resume - i)) - 1);
        // Bit k of `y`: bits k..k+12 of `run` are all set, a run of 13 inside the block.
        uint64_t y = run & (run >> 1);
        y &= y >> 2;
        y &= y >> 4;
        y &= y >> 5;
        size_t hit;
        if (carry > 0 && carry + static_cast<size_t>(ones_from_bottom(run)) >= kMinRun) {
          hit = i - carry;
        } else if (y != 0) {
          hit = i + static_cast<size_t>(trailing_zeros(y));
        } else {
          break;
        }
        // `hit` is where the run starts: the lowest 13-window (a window one
        // lower would be set in `y` too), or the run carried into the block.
        // It ends at the first clear bit of `run` after it, or further on
        // when it reaches the end of the block.
        const size_t start = hit;
        const unsigned bit = hit >= i ? static_cast<unsigned>(hit - i) : 0;
        const uint64_t clear = ~run >> bit;
        size_t end;
        if (clear != 0) {
          end = i + bit + static_cast<size_t>(trailing_zeros(clear));
        } else {
          end = i + kBlock;
          while (end < n && in_digit_run(s, end)) ++end;
        }
        on_run(ctx, start, end);
        resume = end;  // s[end] is outside any run
        carry = 0;
      }
      const int top = ones_from_top(run);
      carry = top == 64 ? carry + kBlock : static_cast<size_t>(top);
    }
    prev = m;
  }
  if (on_iban != nullptr && n > 0) {
    iban_starts_in(prev, BlockMasks{}, (n - 1) / kBlock * kBlock, on_iban, ctx);
  }
}

// One instance of the loop per instruction set, with everything inlined
// into it (flatten), so the classifier is compiled for that set.
using ScanFn = void (*)(std::string_view, SpanFn, SpanFn, void*);

__attribute__((flatten)) void scan_portable(std::string_view s, SpanFn on_run, SpanFn on_iban,
                                            void* ctx) {
  scan_blocks<Portable>(s, on_run, on_iban, ctx);
}

#if defined(QTAP_AUDIT_X86) && defined(__SSE2__)
__attribute__((flatten)) void scan_sse2(std::string_view s, SpanFn on_run, SpanFn on_iban,
                                        void* ctx) {
  scan_blocks<Sse2>(s, on_run, on_iban, ctx);
}

QTAP_AUDIT_AVX2_TARGET __attribute__((flatten)) void scan_avx2(std::string_view s, SpanFn on_run,
                                                               SpanFn on_iban, void* ctx) {
  scan_blocks<Avx2>(s, on_run, on_iban, ctx);
}

QTAP_AUDIT_AVX512_TARGET __attribute__((flatten)) void scan_avx512(std::string_view s,
                                                                   SpanFn on_run, SpanFn on_iban,
                                                                   void* ctx) {
  scan_blocks<Avx512>(s, on_run, on_iban, ctx);
}

bool has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}

bool has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
         __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("lzcnt") &&
         __builtin_cpu_supports("popcnt");
}
#endif

ScanFn scan_for(std::string_view isa) {
  if (isa == "portable") return scan_portable;
#if defined(QTAP_AUDIT_X86) && defined(__SSE2__)
  if (isa == "sse2") return scan_sse2;
  if (isa == "avx2") return has_avx2() ? scan_avx2 : nullptr;
  if (isa == "avx512") return has_avx2() && has_avx512() ? scan_avx512 : nullptr;
#endif
  return nullptr;
}

struct Chosen {
  std::string_view isa;
  ScanFn fn;
};

const Chosen& chosen() {
  static const Chosen c = [] {
    const char* forced = std::getenv("QTAP_AUDIT_ISA");
    if (forced != nullptr) {
      if (ScanFn fn = scan_for(forced)) return Chosen{forced, fn};
    }
    for (std::string_view isa : {"avx512", "avx2", "sse2", "portable"}) {
      if (ScanFn fn = scan_for(isa)) return Chosen{isa, fn};
    }
    return Chosen{"portable", scan_portable};
  }();
  return c;
}

}  // namespace

void find_digit_candidates(std::string_view s, SpanFn on_run, SpanFn on_iban, void* ctx) {
  chosen().fn(s, on_run, on_iban, ctx);
}

std::string_view digit_scan_isa() { return chosen().isa; }

bool find_digit_candidates_with(std::string_view isa, std::string_view s, SpanFn on_run,
                                SpanFn on_iban, void* ctx) {
  const ScanFn fn = scan_for(isa);
  if (fn == nullptr) return false;
  fn(s, on_run, on_iban, ctx);
  return true;
}

void find_digit_runs(std::string_view s, SpanFn fn, void* ctx) {
  find_digit_candidates(s, fn, nullptr, ctx);
}

void find_iban_starts(std::string_view s, SpanFn fn, void* ctx) {
  find_digit_candidates(s, nullptr, fn, ctx);
}

}  // namespace qtap::audit
