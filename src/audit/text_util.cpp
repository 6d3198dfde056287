#include "audit/text_util.h"

#include <cstdint>
#include <cstring>

#include "protocols/http_model.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace qtap::audit {

size_t valid_utf8_prefix(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Bodies are mostly ASCII: 64 bytes, then eight at a time, until a high
    // bit shows.
#if defined(__SSE2__)
    while (i + 64 <= n) {
      const auto* v = reinterpret_cast<const __m128i*>(p + i);
      const __m128i any =
          _mm_or_si128(_mm_or_si128(_mm_loadu_si128(v), _mm_loadu_si128(v + 1)),
                       _mm_or_si128(_mm_loadu_si128(v + 2), _mm_loadu_si128(v + 3)));
      if (_mm_movemask_epi8(any) != 0) break;
      i += 64;
    }
#endif
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;  // overlong
      if (c == 0xed) hi = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;  // overlong
      if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
    } else {
      return i;
    }
    if (i + len > n) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return i;
    }
    i += len;
  }
  return n;
}

std::string_view utf8_text(std::string_view data, bool truncated) {
  const size_t valid = valid_utf8_prefix(data);
  if (valid == data.size()) return data;
  // A capture cut inside a sequence leaves at most three bytes of it; they
  // must at least look like the start of one.
  if (truncated && data.size() - valid < 4) {
    const auto lead = static_cast<unsigned char>(data[valid]);
    bool plausible = lead >= 0xc2 && lead <= 0xf4;
    for (size_t k = valid + 1; k < data.size(); ++k) {
      plausible = plausible && (static_cast<unsigned char>(data[k]) & 0xc0) == 0x80;
    }
    if (plausible) return data.substr(0, valid);
  }
  return {};
}

bool icontains(std::string_view haystack, std::string_view lower_needle) {
  if (lower_needle.empty()) return true;
  if (haystack.size() < lower_needle.size()) return false;
  const size_t last = haystack.size() - lower_needle.size();
  for (size_t i = 0; i <= last; ++i) {
    if (to_lower(haystack[i]) != lower_needle[0]) continue;
    size_t k = 1;
    while (k < lower_needle.size() && to_lower(haystack[i + k]) == lower_needle[k]) ++k;
    if (k == lower_needle.size()) return true;
  }
  return false;
}

Glob::Glob(std::string_view pattern) {
  pattern_.reserve(pattern.size());
  for (char c : pattern) pattern_.push_back(to_lower(c));
  if (pattern_.size() >= 2 && pattern_.front() == '*' && pattern_.back() == '*') {
    const std::string_view inner = std::string_view(pattern_).substr(1, pattern_.size() - 2);
    if (inner.find_first_of("*?") == std::string_view::npos) {
      infix_ = inner;
      is_infix_ = true;
    }
  }
}

bool Glob::matches(std::string_view s) const {
  if (is_infix_) return icontains(s, infix_);
  // Iterative matching with one backtrack point (the last `*`): linear for
  // patterns with a single star, O(n*m) at worst, and these are header names.
  const std::string_view p = pattern_;
  size_t si = 0;
  size_t pi = 0;
  size_t star = std::string_view::npos;
  size_t star_si = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == to_lower(s[si]))) {
      ++si;
      ++pi;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      star_si = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++star_si;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace qtap::audit

namespace qtap::audit {
namespace {

struct LowerTable {
  char v[256] = {};
  constexpr LowerTable() {
    for (int c = 0; c < 256; ++c) v[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
};
constexpr LowerTable kLower{};

char lower_of(char c) { return kLower.v[static_cast<unsigned char>(c)]; }

}  // namespace

NameMatcher::NameMatcher(const std::vector<std::string>& names,
                         const std::vector<std::string>& globs) {
  for (const std::string& n : names) {
    exact_.push_back(n);
    if (n.size() < 64) {
      exact_lengths_ |= uint64_t{1} << n.size();
    } else {
      long_exact_ = true;
    }
  }
  for (const std::string& g : globs) {
    const bool infix = g.size() >= 3 && g.front() == '*' && g.back() == '*' &&
                       g.substr(1, g.size() - 2).find_first_of("*?") == std::string::npos;
    if (!infix || infixes_.size() == kMaxInfixes) {
      others_.emplace_back(g);
      continue;
    }
    std::string word;
    for (char c : std::string_view(g).substr(1, g.size() - 2)) word.push_back(lower_of(c));
    // Both cases of the first letter: the table is read with the name's bytes as they are.
    const auto bit = static_cast<uint8_t>(1u << infixes_.size());
    auto set = [bit](std::array<uint8_t, 256>& table, char c) {
      table[static_cast<unsigned char>(c)] |= bit;
      if (is_lower(c)) table[static_cast<unsigned char>(c - 32)] |= bit;
    };
    set(first_, word[0]);
    if (word.size() >= 2) {
      set(second_, word[1]);
    } else {
      for (uint8_t& m : second_) m |= bit;  // any byte, or none, may follow
    }
    infixes_.push_back(std::move(word));
  }
}

bool NameMatcher::matches(std::string_view name) const {
  const bool maybe_exact =
      name.size() < 64 ? ((exact_lengths_ >> name.size()) & 1) != 0 : long_exact_;
  if (maybe_exact) {
    for (const std::string& n : exact_) {
      if (n.size() == name.size() && lower_of(n[0]) == lower_of(name[0]) &&
          iequals_ascii(n, name)) {
        return true;
      }
    }
  }
  if (!infixes_.empty() && !name.empty()) {
    // Both first bytes of a word must fit before the rest is compared (rare).
    auto at = [&](size_t i, unsigned starting) {
      while (starting != 0) {
        const std::string& word = infixes_[static_cast<size_t>(__builtin_ctz(starting))];
        starting &= starting - 1;
        if (word.size() > name.size() - i) continue;
        size_t k = 1;
        while (k < word.size() && lower_of(name[i + k]) == word[k]) ++k;
        if (k == word.size()) return true;
      }
      return false;
    };
    const auto* p = reinterpret_cast<const unsigned char*>(name.data());
    const size_t last = name.size() - 1;
    for (size_t i = 0; i < last; ++i) {
      const unsigned starting = first_[p[i]] & second_[p[i + 1]];
      if (starting != 0 && at(i, starting)) return true;
    }
    if (at(last, first_[p[last]] & second_[0])) return true;
  }
  for (const Glob& g : others_) {
    if (g.matches(name)) return true;
  }
  return false;
}

}  // namespace qtap::audit
