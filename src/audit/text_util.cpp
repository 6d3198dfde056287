#include "audit/text_util.h"

#include <cstdint>
#include <cstring>

namespace qtap::audit {

size_t valid_utf8_prefix(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Bodies are mostly ASCII: eight bytes at a time until a high bit shows.
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
