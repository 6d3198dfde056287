// Small text helpers shared by the auditor and the redactor: character
// classes, UTF-8 checking, case-insensitive globs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

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

}  // namespace qtap::audit
