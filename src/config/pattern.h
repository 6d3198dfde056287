// A configured string pattern, compiled once at load and matched per
// transaction without allocating. Syntax (docs/config.md, "Patterns"):
//
//   nginx            exact: the whole value equals the text
//   /usr/bin/*       glob: '*' any run of characters ('/' and '.' included),
//   *.example.com          '?' exactly one character; no other metacharacters
//   re:^py(thon)?3   regex (RE2 syntax), must match the WHOLE value
//   exact:a*b        the text after "exact:" taken literally (for a '*' or '?'
//                    that is part of the value, or a value starting "re:")
//
// Globs that are a literal with '*' only at the ends run as prefix / suffix /
// substring comparisons.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace re2 {
class RE2;
}

namespace qtap::config {

class Pattern {
 public:
  enum class Kind : uint8_t { kExact, kPrefix, kSuffix, kContains, kGlob, kRegex };
  enum class Case : uint8_t { kSensitive, kInsensitive };  // insensitive: ASCII letters only

  // Errors are the sentence after "path: " in a config error.
  static Result<Pattern> parse(std::string_view text, Case c = Case::kSensitive);

  bool matches(std::string_view value) const;

  Kind kind() const { return kind_; }
  bool case_insensitive() const { return case_ == Case::kInsensitive; }
  const std::string& text() const { return text_; }  // as written in the config
  // kExact: the value; kPrefix/kSuffix/kContains: the literal part; kGlob: the
  // glob; kRegex: the regex.
  const std::string& literal() const { return literal_; }
  // The compiled regex (kRegex only, else null). Immutable and thread-safe:
  // copies of a Pattern share it.
  const re2::RE2* regex() const { return re_.get(); }

 private:
  Kind kind_ = Kind::kExact;
  Case case_ = Case::kSensitive;
  std::string text_;
  std::string literal_;
  std::shared_ptr<const re2::RE2> re_;
};

// Compiles an RE2 regex for searching anywhere in a text (redaction of bodies
// and such); errors as for Pattern::parse.
Result<std::shared_ptr<const re2::RE2>> compile_regex(std::string_view regex, Pattern::Case c);

// The bare host of an HTTP Host / :authority value or a TLS SNI: the port and
// a trailing dot removed, brackets of an IPv6 literal removed. No allocation.
//   "Example.com:8080" -> "Example.com", "[::1]:443" -> "::1", "a.b." -> "a.b"
std::string_view host_without_port(std::string_view host);

}  // namespace qtap::config
