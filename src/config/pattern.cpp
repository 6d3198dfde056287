#include "config/pattern.h"

#include <fmt/format.h>
#include <re2/re2.h>

namespace qtap::config {

namespace {

constexpr std::string_view kRegexTag = "re:";
constexpr std::string_view kExactTag = "exact:";

inline char fold(char c, bool icase) {
  return icase && c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

bool equal(std::string_view a, std::string_view b, bool icase) {
  if (a.size() != b.size()) return false;
  if (!icase) return a == b;
  for (size_t i = 0; i < a.size(); ++i) {
    if (fold(a[i], true) != fold(b[i], true)) return false;
  }
  return true;
}

bool contains(std::string_view hay, std::string_view needle, bool icase) {
  if (!icase) return hay.find(needle) != std::string_view::npos;
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (equal(hay.substr(i, needle.size()), needle, true)) return true;
  }
  return false;
}

// '*' and '?' wildcards. Greedy with one backtrack point (the last '*'):
// O(pattern * value) at worst, no recursion, no allocation.
bool glob_match(std::string_view pat, std::string_view val, bool icase) {
  size_t p = 0, v = 0;
  size_t star = std::string_view::npos, mark = 0;
  while (v < val.size()) {
    if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = v;
    } else if (p < pat.size() && (pat[p] == '?' || fold(pat[p], icase) == fold(val[v], icase))) {
      ++p;
      ++v;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

}  // namespace

Result<std::shared_ptr<const re2::RE2>> compile_regex(std::string_view regex, Pattern::Case c) {
  if (regex.empty()) return make_error("empty regex after \"re:\"");
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_case_sensitive(c == Pattern::Case::kSensitive);
  auto re = std::make_shared<const RE2>(re2::StringPiece(regex.data(), regex.size()), opts);
  if (!re->ok()) {
    return make_error(fmt::format("invalid regex \"{}\": {}", regex, re->error()));
  }
  return std::shared_ptr<const RE2>(std::move(re));
}

Result<Pattern> Pattern::parse(std::string_view text, Case c) {
  Pattern p;
  p.case_ = c;
  p.text_ = std::string(text);
  if (text.empty()) return make_error("expected a non-empty pattern");
  if (text.starts_with(kRegexTag)) {
    std::string_view body = text.substr(kRegexTag.size());
    auto re = compile_regex(body, c);
    if (!re) return re.error();
    p.kind_ = Kind::kRegex;
    p.literal_ = std::string(body);
    p.re_ = std::move(*re);
    return p;
  }
  if (text.starts_with(kExactTag)) {
    std::string_view body = text.substr(kExactTag.size());
    if (body.empty()) return make_error("expected a value after \"exact:\"");
    p.kind_ = Kind::kExact;
    p.literal_ = std::string(body);
    return p;
  }
  p.literal_ = p.text_;
  if (text.find_first_of("*?") == std::string_view::npos) {
    p.kind_ = Kind::kExact;
    return p;
  }
  // A literal between optional leading/trailing '*' runs as a plain comparison.
  size_t lead = text.find_first_not_of('*');
  size_t tail = text.find_last_not_of('*');
  if (lead == std::string_view::npos) {  // "*", "**": anything
    p.kind_ = Kind::kPrefix;
    p.literal_.clear();
    return p;
  }
  std::string_view mid = text.substr(lead, tail - lead + 1);
  if (mid.find_first_of("*?") != std::string_view::npos) {
    p.kind_ = Kind::kGlob;
    return p;
  }
  bool star_front = lead > 0, star_back = tail + 1 < text.size();
  p.literal_ = std::string(mid);
  p.kind_ = star_front && star_back ? Kind::kContains : star_front ? Kind::kSuffix : Kind::kPrefix;
  return p;
}

bool Pattern::matches(std::string_view value) const {
  bool icase = case_ == Case::kInsensitive;
  std::string_view lit = literal_;
  switch (kind_) {
    case Kind::kExact:
      return equal(value, lit, icase);
    case Kind::kPrefix:
      return value.size() >= lit.size() && equal(value.substr(0, lit.size()), lit, icase);
    case Kind::kSuffix:
      return value.size() >= lit.size() &&
             equal(value.substr(value.size() - lit.size()), lit, icase);
    case Kind::kContains:
      return contains(value, lit, icase);
    case Kind::kGlob:
      return glob_match(lit, value, icase);
    case Kind::kRegex:
      return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *re_);
  }
  return false;
}

std::string_view host_without_port(std::string_view host) {
  if (host.starts_with('[')) {
    size_t close = host.find(']');
    return close == std::string_view::npos ? host.substr(1) : host.substr(1, close - 1);
  }
  // One ':' is host:port; more is a bare IPv6 literal, kept whole.
  size_t colon = host.find(':');
  if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (host.ends_with('.')) host.remove_suffix(1);
  return host;
}

}  // namespace qtap::config
