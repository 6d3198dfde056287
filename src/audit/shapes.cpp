#include "audit/shapes.h"

#include <algorithm>

#include "audit/text_util.h"

namespace qtap::audit {
namespace {

// The patterns' character classes, one bit each in a table: one load per
// byte whatever the class.
enum ClassBit : uint8_t {
  kAlpha = 1,        // [A-Za-z]
  kAlnum = 2,        // [A-Za-z0-9]
  kLabel = 4,        // [A-Za-z0-9-]
  kB64url = 8,       // [A-Za-z0-9_-]
  kWord = 16,        // [A-Za-z0-9_]
  kUpperDigit = 32,  // [A-Z0-9]
  kKeyLabel = 64,    // [A-Z0-9 ]
};

struct ClassTable {
  uint8_t bits[256] = {};
  constexpr ClassTable() {
    for (int c = 0; c < 256; ++c) {
      const bool upper = c >= 'A' && c <= 'Z';
      const bool lower = c >= 'a' && c <= 'z';
      const bool digit = c >= '0' && c <= '9';
      uint8_t b = 0;
      if (upper || lower) b |= kAlpha;
      if (upper || lower || digit) b |= kAlnum | kLabel | kB64url | kWord;
      if (c == '-') b |= kLabel | kB64url;
      if (c == '_') b |= kB64url | kWord;
      if (upper || digit) b |= kUpperDigit | kKeyLabel;
      if (c == ' ') b |= kKeyLabel;
      bits[c] = b;
    }
  }
};
constexpr ClassTable kClasses{};

template <uint8_t kBit>
bool in_class(char c) {
  return (kClasses.bits[static_cast<unsigned char>(c)] & kBit) != 0;
}

constexpr auto is_alpha_c = in_class<kAlpha>;
constexpr auto is_alnum_c = in_class<kAlnum>;
constexpr auto is_label = in_class<kLabel>;
constexpr auto is_b64url = in_class<kB64url>;
constexpr auto is_word_c = in_class<kWord>;
constexpr auto is_upper_digit = in_class<kUpperDigit>;
constexpr auto is_key_label = in_class<kKeyLabel>;

// End of the run of `in` characters starting at buf[i].
template <typename Pred>
size_t run_end(std::string_view buf, size_t i, Pred in) {
  while (i < buf.size() && in(buf[i])) ++i;
  return i;
}

bool at_char(std::string_view buf, size_t i, char c) { return i < buf.size() && buf[i] == c; }

// Domain labels separated by single dots, the last one's letters the TLD:
// the longest match ends after the letters that start the last label that
// has two or more (a TLD may stop inside a label: "example.comx1" matches
// up to "comx", and the e-mail check then refuses the '1' after it).
size_t email_end(std::string_view buf, size_t p) {
  size_t best = 0;
  bool first = true;
  while (true) {
    const size_t label_end = run_end(buf, p, is_label);
    if (label_end == p) break;
    if (!first) {
      const size_t letters = run_end(buf, p, is_alpha_c) - p;
      if (letters >= 2) best = p + letters;
    }
    first = false;
    if (!at_char(buf, label_end, '.')) break;
    p = label_end + 1;
  }
  return best;
}

// header.payload.signature: the classes exclude '.', so each part is a
// whole run.
size_t jwt_end(std::string_view buf, size_t p) {
  const size_t header_end = run_end(buf, p, is_b64url);
  if (header_end - p < 2 || !at_char(buf, header_end, '.')) return 0;
  const size_t payload_end = run_end(buf, header_end + 1, is_b64url);
  if (payload_end == header_end + 1 || !at_char(buf, payload_end, '.')) return 0;
  return run_end(buf, payload_end + 1, is_b64url);
}

size_t private_key_end(std::string_view buf, size_t p) {
  constexpr std::string_view kKey = "PRIVATE KEY-----";
  constexpr std::string_view kBlock = "PRIVATE KEY BLOCK-----";
  size_t best = 0;
  // "PRIVATE KEY" is itself made of [A-Z0-9 ]: try every label length.
  for (size_t k = 0; k <= 40; ++k) {
    if (k > 0 && (p + k > buf.size() || !is_key_label(buf[p + k - 1]))) break;
    const std::string_view rest = buf.substr(std::min(p + k, buf.size()));
    if (rest.starts_with(kBlock)) best = std::max(best, p + k + kBlock.size());
    if (rest.starts_with(kKey)) best = std::max(best, p + k + kKey.size());
  }
  return best;
}

// At least `min` then at most `max` characters of a class: the longest match
// stops at the run's end, or after `max` of it.
template <typename Pred>
size_t bounded_run_end(std::string_view buf, size_t p, size_t min, size_t max, Pred in) {
  const size_t end = run_end(buf, p, in);
  if (end - p < min) return 0;
  return p + std::min(end - p, max);
}

size_t github_pat_end(std::string_view buf, size_t p) {
  const size_t first = run_end(buf, p, is_alnum_c);
  if (first - p < 20 || !at_char(buf, first, '_')) return 0;
  const size_t second = run_end(buf, first + 1, is_alnum_c);
  return second - (first + 1) >= 40 ? second : 0;
}

size_t slack_webhook_end(std::string_view buf, size_t p) {
  for (int part = 0; part < 3; ++part) {
    const size_t end = run_end(buf, p, is_word_c);
    if (end == p) return 0;
    if (part == 2) return end;
    if (!at_char(buf, end, '/')) return 0;
    p = end + 1;
  }
  return 0;
}

}  // namespace

size_t shape_match_end(Shape shape, std::string_view buf, size_t at, size_t prefix) {
  const size_t p = at + prefix;
  if (p > buf.size()) return 0;
  constexpr size_t kUnbounded = ~size_t{0};
  switch (shape) {
    case Shape::kEmail:
    case Shape::kEmailEncoded:
      return email_end(buf, p);
    case Shape::kJwt:
      return jwt_end(buf, p);
    case Shape::kPrivateKey:
      return private_key_end(buf, p);
    case Shape::kAwsAccessKey:
      return bounded_run_end(buf, p, 16, 16, is_upper_digit);
    case Shape::kGithubToken:
      return bounded_run_end(buf, p, 36, 251, is_alnum_c);
    case Shape::kGithubPat:
      return github_pat_end(buf, p);
    case Shape::kGitlabToken:
      return bounded_run_end(buf, p, 20, kUnbounded, is_b64url);
    case Shape::kSlackToken:
      return bounded_run_end(buf, p, 10, kUnbounded, is_label);
    case Shape::kSlackWebhook:
      return slack_webhook_end(buf, p);
  }
  return 0;
}

}  // namespace qtap::audit
