#include "audit/redactor.h"

#include <hs.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace qtap {
namespace {

using audit::to_lower;

// Headers whose values are URLs that may carry ?access_token=... along.
constexpr std::string_view kUrlHeaders[] = {"Referer", "Location", "Content-Location"};

bool is_url_header(std::string_view name) {
  return std::any_of(std::begin(kUrlHeaders), std::end(kUrlHeaders), [&](std::string_view h) {
    return h.size() == name.size() && iequals_ascii(h, name);
  });
}

bool starts_with_icase(std::string_view s, std::string_view lower_prefix) {
  if (s.size() < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); ++i) {
    if (to_lower(s[i]) != lower_prefix[i]) return false;
  }
  return true;
}

bool is_form_body(const std::vector<Header>& headers) {
  const Header* ct = find_header(headers, "content-type");
  return ct != nullptr && starts_with_icase(ct->value, "application/x-www-form-urlencoded");
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = to_lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool is_utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

// Sorts and joins overlapping or touching spans.
void merge_spans(std::vector<std::pair<size_t, size_t>>& spans) {
  std::sort(spans.begin(), spans.end());
  size_t out = 0;
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].first <= spans[out].second) {
      spans[out].second = std::max(spans[out].second, spans[i].second);
    } else {
      spans[++out] = spans[i];
    }
  }
  if (!spans.empty()) spans.resize(out + 1);
}

// Widens `spans` over JSON text so each starts and ends on a whole character
// or escape inside one string literal. False if a span touches anything but
// string content (a quote, a key's colon, a number).
bool fit_spans_to_json_strings(std::string_view json, std::vector<std::pair<size_t, size_t>>& spans) {
  size_t next = 0;  // spans are sorted: each is fitted in one forward pass
  size_t i = 0;
  while (i < json.size() && next < spans.size()) {
    if (json[i] != '"') {
      if (spans[next].first <= i) return false;  // outside any string
      ++i;
      continue;
    }
    const size_t content = i + 1;
    size_t j = content;
    // Token boundaries inside the string: characters and whole escapes.
    while (j < json.size() && json[j] != '"') {
      const size_t token = j;
      if (json[j] == '\\') {
        j += (j + 1 < json.size() && json[j + 1] == 'u') ? 6 : 2;
      } else {
        ++j;
        while (j < json.size() && is_utf8_continuation(json[j])) ++j;
      }
      j = std::min(j, json.size());
      while (next < spans.size()) {
        auto& [a, b] = spans[next];
        if (a < content) return false;
        if (a >= j) break;
        if (a > token) a = token;
        if (b <= j) {
          if (b > token) b = j;
          ++next;
          continue;
        }
        break;  // the span goes on: its end is fitted in a later token
      }
    }
    // At the closing quote: a span still open here crosses it.
    if (next < spans.size() && spans[next].first < j) return false;
    i = j + 1;
  }
  return next == spans.size();
}

}  // namespace

Result<Redactor> Redactor::make(const RedactionSettings& settings) {
  Redactor r;
  r.enabled_ = settings.enabled;
  for (const std::string& name : settings.headers) {
    if (name.empty()) return make_error("redaction: empty header name");
  }
  for (const std::string& pattern : settings.header_patterns) {
    if (pattern.empty()) return make_error("redaction: empty header pattern");
  }
  r.sensitive_ = audit::NameMatcher(settings.headers, settings.header_patterns);
  std::vector<audit::HsPattern> patterns;
  for (size_t i = 0; i < settings.body_patterns.size(); ++i) {
    if (settings.body_patterns[i].empty()) return make_error("redaction: empty body pattern");
    patterns.push_back(
        {settings.body_patterns[i], HS_FLAG_SOM_LEFTMOST, static_cast<unsigned>(i)});
  }
  if (!patterns.empty()) {
    Result<audit::HyperscanDb> db =
        audit::HyperscanDb::compile(patterns, audit::HyperscanDb::Mode::kBlock);
    if (!db) return make_error("redaction body pattern " + db.error().message);
    r.body_db_.emplace(std::move(db).value());
  }
  return r;
}

Result<void> Redactor::check_body_pattern(std::string_view regex) {
  if (regex.empty()) return make_error("empty regex");
  return audit::HyperscanDb::check({std::string(regex), HS_FLAG_SOM_LEFTMOST, 0},
                                   audit::HyperscanDb::Mode::kBlock);
}

bool Redactor::sensitive_name(std::string_view name) const { return sensitive_.matches(name); }

bool Redactor::sensitive_param(std::string_view encoded_name) const {
  if (encoded_name.find_first_of("%+") == std::string_view::npos) {
    return sensitive_name(encoded_name);
  }
  // "pass%77ord" is "password" to the server: compare decoded names.
  char decoded[256];
  size_t n = 0;
  for (size_t i = 0; i < encoded_name.size() && n < sizeof(decoded); ++i) {
    char c = encoded_name[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%' && i + 2 < encoded_name.size() && hex_value(encoded_name[i + 1]) >= 0 &&
               hex_value(encoded_name[i + 2]) >= 0) {
      c = static_cast<char>(hex_value(encoded_name[i + 1]) * 16 + hex_value(encoded_name[i + 2]));
      i += 2;
    }
    decoded[n++] = c;
  }
  return sensitive_name(std::string_view(decoded, n)) || sensitive_name(encoded_name);
}

void Redactor::redact_params(std::string& s, size_t begin, size_t end) const {
  // Right to left, so a replacement leaves the offsets still to visit alone.
  size_t pos = end;
  while (pos > begin) {
    const size_t amp = s.rfind('&', pos - 1);
    const size_t start = (amp == std::string::npos || amp < begin) ? begin : amp + 1;
    const std::string_view param(s.data() + start, pos - start);
    const size_t eq = param.find('=');
    if (eq != std::string_view::npos && eq + 1 < param.size() &&
        param.substr(eq + 1) != kRedacted && sensitive_param(param.substr(0, eq))) {
      s.replace(start + eq + 1, param.size() - eq - 1, kRedacted);
    }
    if (start == begin) break;
    pos = amp;
  }
}

void Redactor::redact_url(std::string& url) const {
  const size_t query = url.find('?');
  if (query != std::string::npos) {
    const size_t fragment = url.find('#', query);
    redact_params(url, query + 1, fragment == std::string::npos ? url.size() : fragment);
  }
  // scheme://user:password@host/...
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return;
  const size_t authority = scheme_end + 3;
  if (url.find_first_of("/?#") < scheme_end) return;
  const size_t authority_end = std::min(url.find_first_of("/?#", authority), url.size());
  const size_t at = url.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
  if (at == std::string::npos || at < authority) return;
  const size_t colon = url.find(':', authority);
  if (colon == std::string::npos || colon > at || colon + 1 == at) return;
  if (std::string_view(url).substr(colon + 1, at - colon - 1) == kRedacted) return;
  url.replace(colon + 1, at - colon - 1, kRedacted);
}

bool Redactor::sensitive_header(std::string_view name) const {
  constexpr size_t kMaxLen = sizeof(NameVerdict::name);
  if (name.empty() || name.size() > kMaxLen) return sensitive_name(name);
  // Length and the bytes at both ends pick the slot; the slot holds the
  // whole name, so a collision only costs a recomputation.
  const auto* p = reinterpret_cast<const unsigned char*>(name.data());
  const size_t n = name.size();
  const size_t h = (n * 31 + p[0] * 7 + p[n / 2] * 13 + p[n - 1]) % kVerdicts;
  NameVerdict& v = verdicts_[h];
  if (v.len == n && std::memcmp(v.name, p, n) == 0) return v.sensitive;
  v.sensitive = sensitive_name(name);
  std::memcpy(v.name, p, n);
  v.len = static_cast<uint8_t>(n);
  return v.sensitive;
}

void Redactor::redact_headers(std::vector<Header>& headers) const {
  for (Header& h : headers) {
    if (sensitive_header(h.name)) {
      // assign() reuses the value's storage: no allocation.
      if (!h.value.empty() && h.value != kRedacted) h.value.assign(kRedacted);
    } else if (is_url_header(h.name)) {
      redact_url(h.value);
    }
  }
}

void Redactor::redact_text(std::string& text, bool json) const {
  if (!body_db_ || text.empty()) return;
  spans_.clear();
  body_db_->scan(
      text,
      [](unsigned, uint64_t from, uint64_t to, void* ctx) {
        auto& spans = *static_cast<std::vector<Span>*>(ctx);
        // Leftmost starts: the ends of one match overlap its first report.
        if (!spans.empty() && from <= spans.back().second && from >= spans.back().first) {
          spans.back().second = std::max<size_t>(spans.back().second, to);
        } else {
          spans.emplace_back(from, to);
        }
      },
      &spans_);
  if (spans_.empty()) return;
  // Whole UTF-8 characters: a cut one would turn a text body into bytes.
  for (auto& [a, b] : spans_) {
    while (a > 0 && a < text.size() && is_utf8_continuation(text[a])) --a;
    while (b < text.size() && is_utf8_continuation(text[b])) ++b;
  }
  merge_spans(spans_);
  if (json) {
    if (!fit_spans_to_json_strings(text, spans_)) {
      // A match across the structure of a decoded message: redacting pieces
      // would leave invalid JSON, so the whole message goes.
      text.assign("\"[REDACTED]\"");
      return;
    }
    merge_spans(spans_);  // widened spans may now touch
  }
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const auto& [a, b] : spans_) {
    out.append(text, pos, a - pos);
    out.append(kRedacted);
    pos = b;
  }
  out.append(text, pos, std::string::npos);
  text = std::move(out);
}

void Redactor::apply(HttpExchange& ex) const {
  if (!enabled_) return;
  if (ex.request) {
    HttpRequest& req = *ex.request;
    redact_headers(req.headers);
    redact_url(req.target);
    if (is_form_body(req.headers)) redact_params(req.body.data, 0, req.body.data.size());
    redact_text(req.body.data, false);
  }
  if (ex.response) {
    redact_headers(ex.response->headers);
    redact_text(ex.response->body.data, false);
  }
  redact_headers(ex.trailers);
  if (ex.grpc && body_db_) {
    for (GrpcMessage& m : ex.grpc->requests) redact_text(m.decoded_json, true);
    for (GrpcMessage& m : ex.grpc->responses) redact_text(m.decoded_json, true);
  }
}

}  // namespace qtap
