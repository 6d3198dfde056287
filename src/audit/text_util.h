// Small text helpers shared by the auditor and the redactor: character
// classes, UTF-8 checking, case-insensitive globs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qtap::audit {

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
inline bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
inline bool is_alpha(char c) { return is_upper(c) || is_lower(c); }
inline bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
inline bool is_word(char c) { return is_alnum(c) || c == '_'; }
inline char to_lower(char c) { return is_upper(c) ? static_cast<char>(c + 32) : c; }

// Length of the longest prefix of `s` that is well-formed UTF-8 (RFC 3629).
size_t valid_utf8_prefix(std::string_view s);

// The part of `data` to scan as text: all of it when it is well-formed UTF-8;
// when `truncated`, all but a sequence cut by the capture limit at the end;
// otherwise (binary) nothing.
std::string_view utf8_text(std::string_view data, bool truncated);

// A shell-style glob, ASCII case-insensitive: `*` any run of bytes, `?` any
// one byte, everything else itself. Compiled once: the common `*word*` shape
// becomes a substring search.
class Glob {
 public:
  explicit Glob(std::string_view pattern);
  bool matches(std::string_view s) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;  // lowercased
  std::string infix_;    // set when pattern_ is `*infix*` with no other wildcard
  bool is_infix_ = false;
};

// ASCII case-insensitive substring test; `needle` must be lowercase.
bool icontains(std::string_view haystack, std::string_view lower_needle);

// Exact names and globs over names, ASCII case-insensitive, tried together:
// one pass over the name with tables of the first two letters of the
// `*word*` globs (the usual shape), instead of one search per glob. Globs of
// other shapes are tried one by one after that. What the redactor asks for
// every header and query parameter name.
class NameMatcher {
 public:
  NameMatcher() = default;
  NameMatcher(const std::vector<std::string>& names, const std::vector<std::string>& globs);
  bool matches(std::string_view name) const;

 private:
  // Bits of first_: more `*word*` globs than this go to others_. Small
  // tables stay in a few cache lines between exchanges.
  static constexpr size_t kMaxInfixes = 8;
  std::vector<std::string> exact_;     // as given
  uint64_t exact_lengths_ = 0;         // bit n: an exact name of n bytes (n < 64)
  bool long_exact_ = false;            // an exact name of 64 bytes or more
  std::vector<std::string> infixes_;   // lowercased words of `*word*` globs
  std::array<uint8_t, 256> first_{};   // bit k: infixes_[k] starts with this byte (any case)
  std::array<uint8_t, 256> second_{};  // ... has this second byte (any; all if none)
  std::vector<Glob> others_;
};

}  // namespace qtap::audit
