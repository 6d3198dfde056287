#include "audit/validators.h"

#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "audit/text_util.h"

namespace qtap::audit {
namespace {

// --- credit_card ---------------------------------------------------------

constexpr uint32_t len_bits(unsigned lo, unsigned hi) {
  uint32_t bits = 0;
  for (unsigned n = lo; n <= hi; ++n) bits |= 1u << n;
  return bits;
}

constexpr unsigned digits_value(std::string_view digits) {
  unsigned v = 0;
  for (char c : digits) v = v * 10 + static_cast<unsigned>(c - '0');
  return v;
}

struct IssuerRange {
  constexpr IssuerRange(std::string_view lo_digits, std::string_view hi_digits, uint32_t l)
      : lo(lo_digits),
        lo_value(digits_value(lo_digits)),
        hi_value(digits_value(hi_digits)),
        lengths(l) {}
  std::string_view lo;  // first digits, inclusive range; lo and hi have the same length (<= 4)
  unsigned lo_value;    // lo and hi as numbers
  unsigned hi_value;
  uint32_t lengths;     // bit n set: n digits is a length this issuer uses
};

// Issuer identification numbers (ISO/IEC 7812 prefixes) as the networks
// publish them. A number without a known prefix is not reported: most digit
// runs that pass Luhn by chance (one in ten) are ids and timestamps, which
// start with other digits or have other lengths.
constexpr IssuerRange kIssuers[] = {
    {"4", "4", len_bits(13, 13) | len_bits(16, 16) | len_bits(19, 19)},  // Visa
    {"51", "55", len_bits(16, 16)},                                      // Mastercard
    {"2221", "2720", len_bits(16, 16)},                                  // Mastercard
    {"34", "34", len_bits(15, 15)},                                      // American Express
    {"37", "37", len_bits(15, 15)},                                      // American Express
    {"6011", "6011", len_bits(16, 19)},                                  // Discover
    {"644", "649", len_bits(16, 19)},                                    // Discover
    {"65", "65", len_bits(16, 19)},                                      // Discover
    {"300", "305", len_bits(14, 19)},                                    // Diners Club
    {"36", "36", len_bits(14, 19)},                                      // Diners Club
    {"38", "39", len_bits(16, 19)},                                      // Diners Club
    {"3528", "3589", len_bits(16, 19)},                                  // JCB
    {"62", "62", len_bits(16, 19)},                                      // UnionPay
    {"5018", "5018", len_bits(13, 19)},                                  // Maestro
    {"5020", "5020", len_bits(13, 19)},                                  // Maestro
    {"5038", "5038", len_bits(13, 19)},                                  // Maestro
    {"5893", "5893", len_bits(13, 19)},                                  // Maestro
    {"6304", "6304", len_bits(13, 19)},                                  // Maestro
    {"6759", "6759", len_bits(13, 19)},                                  // Maestro
    {"6761", "6763", len_bits(13, 19)},                                  // Maestro
    {"2200", "2204", len_bits(16, 19)},                                  // Mir
};

static_assert(
    [] {
      for (const IssuerRange& r : kIssuers) {
        if (r.lo[0] < '2' || r.lo[0] > '6') return false;
      }
      return true;
    }(),
    "card_issuer_known() rejects numbers that do not start with 2 to 6");

bool is_card_separator(char c) { return c == ' ' || c == '-'; }

bool card_piece_bounded(std::string_view buf, size_t start, size_t end) {
  if (start > 0) {
    const char c = buf[start - 1];
    if (is_word(c)) return false;
    if ((c == '.' || c == ',') && start >= 2 && is_digit(buf[start - 2])) return false;
  }
  if (end < buf.size()) {
    const char c = buf[end];
    if (is_word(c)) return false;
    if ((c == '.' || c == ',') && end + 1 < buf.size() && is_digit(buf[end + 1])) return false;
  }
  return true;
}

// --- iban ----------------------------------------------------------------

struct IbanCountry {
  char code[3];
  uint8_t length;
};

// SWIFT IBAN registry: country code and total IBAN length.
constexpr IbanCountry kIbanCountries[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16},
    {"BG", 22}, {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22},
    {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20},
    {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22},
    {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HN", 28}, {"HR", 21},
    {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30},
    {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20},
    {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20},
    {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23},
    {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22},
    {"RU", 33}, {"SA", 24}, {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24},
    {"SM", 27}, {"SO", 23}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26},
    {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
};

// 26x26 table built once from the list above: a lookup per candidate.
struct IbanLengthTable {
  std::array<uint8_t, 26 * 26> length{};
  IbanLengthTable() {
    for (const IbanCountry& c : kIbanCountries) {
      length[static_cast<size_t>((c.code[0] - 'A') * 26 + (c.code[1] - 'A'))] = c.length;
    }
  }
};

constexpr size_t kMaxIbanLength = 34;

// --- email ---------------------------------------------------------------

bool is_local_part_char(char c) {
  return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

// Image and web file names look like addresses: "logo@2x.png", "app@1.2.js".
constexpr std::string_view kFileExtensions[] = {"png", "jpg",  "jpeg", "gif", "svg", "webp",
                                                "ico", "bmp",  "tif",  "tiff", "css", "js",
                                                "json", "html", "htm", "txt", "xml", "pdf"};

bool iequals_lower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (to_lower(s[i]) != lower[i]) return false;
  }
  return true;
}

bool domain_valid(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  size_t label_start = 0;
  std::string_view last;
  for (size_t i = 0; i <= domain.size(); ++i) {
    if (i < domain.size() && domain[i] != '.') {
      if (!is_alnum(domain[i]) && domain[i] != '-') return false;
      continue;
    }
    const std::string_view label = domain.substr(label_start, i - label_start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    last = label;
    label_start = i + 1;
  }
  if (domain.find('.') == std::string_view::npos) return false;
  if (last.size() < 2 || last.size() > 24) return false;
  for (char c : last) {
    if (!is_alpha(c)) return false;
  }
  for (std::string_view ext : kFileExtensions) {
    if (iequals_lower(last, ext)) return false;
  }
  return true;
}

// --- jwt -----------------------------------------------------------------

bool is_base64url_char(char c) { return is_alnum(c) || c == '-' || c == '_'; }

int base64url_value(char c) {
  if (is_upper(c)) return c - 'A';
  if (is_lower(c)) return c - 'a' + 26;
  if (is_digit(c)) return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Unpadded base64url to bytes in `out` (room for in.size() * 3 / 4 bytes);
// the number of bytes, or -1 on a character outside the alphabet or an
// impossible length.
ptrdiff_t base64url_decode(std::string_view in, char* out) {
  if (in.size() % 4 == 1) return -1;
  uint32_t acc = 0;
  int bits = 0;
  ptrdiff_t n = 0;
  for (char c : in) {
    const int v = base64url_value(c);
    if (v < 0) return -1;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return n;
}

class JsonChecker {
 public:
  explicit JsonChecker(std::string_view s) : s_(s) {}

  // One object and nothing after it; sets `found` if member `key` is a string.
  bool top_object(std::string_view key, bool& found) {
    ws();
    if (!object(key, &found)) return false;
    ws();
    return i_ == s_.size();
  }

 private:
  static constexpr int kMaxDepth = 32;

  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }
  bool peek(char c) const { return i_ < s_.size() && s_[i_] == c; }

  bool value() {
    if (i_ >= s_.size()) return false;
    switch (s_[i_]) {
      case '{':
        return object({}, nullptr);
      case '[':
        return array();
      case '"':
        return string(nullptr);
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }

  bool object(std::string_view key, bool* found) {
    if (!peek('{') || ++depth_ > kMaxDepth) return false;
    ++i_;
    ws();
    if (peek('}')) {
      ++i_;
      --depth_;
      return true;
    }
    while (true) {
      ws();
      std::string_view name;
      if (!string(&name)) return false;
      ws();
      if (!peek(':')) return false;
      ++i_;
      ws();
      const bool is_string = peek('"');
      if (!value()) return false;
      if (found != nullptr && is_string && name == key) *found = true;
      ws();
      if (peek(',')) {
        ++i_;
        continue;
      }
      if (peek('}')) {
        ++i_;
        --depth_;
        return true;
      }
      return false;
    }
  }

  bool array() {
    if (++depth_ > kMaxDepth) return false;
    ++i_;  // '['
    ws();
    if (peek(']')) {
      ++i_;
      --depth_;
      return true;
    }
    while (true) {
      ws();
      if (!value()) return false;
      ws();
      if (peek(',')) {
        ++i_;
        continue;
      }
      if (peek(']')) {
        ++i_;
        --depth_;
        return true;
      }
      return false;
    }
  }

  // The raw text between the quotes goes to `raw` (escapes not decoded).
  bool string(std::string_view* raw) {
    if (!peek('"')) return false;
    const size_t start = ++i_;
    while (i_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        if (raw != nullptr) *raw = s_.substr(start, i_ - start);
        ++i_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++i_ >= s_.size()) return false;
        const char e = s_[i_];
        if (e == 'u') {
          for (int k = 0; k < 4; ++k) {
            if (++i_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[i_]))) {
              return false;
            }
          }
        } else if (std::strchr("\"\\/bfnrt", e) == nullptr || e == '\0') {
          return false;
        }
      }
      ++i_;
    }
    return false;
  }

  bool digits() {
    const size_t start = i_;
    while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
    return i_ > start;
  }

  bool number() {
    if (peek('-')) ++i_;
    if (peek('0')) {
      ++i_;
    } else if (!digits()) {
      return false;
    }
    if (peek('.')) {
      ++i_;
      if (!digits()) return false;
    }
    if (peek('e') || peek('E')) {
      ++i_;
      if (peek('+') || peek('-')) ++i_;
      if (!digits()) return false;
    }
    return true;
  }

  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
};

// --- high_entropy ------------------------------------------------------

// c * log2(c) for the counts a token of up to 256 characters can have.
struct CLog2CTable {
  std::array<double, 257> v{};
  CLog2CTable() {
    for (size_t c = 1; c < v.size(); ++c) v[c] = static_cast<double>(c) * std::log2(c);
  }
};

}  // namespace

// --- credit_card ---------------------------------------------------------

bool luhn_valid(std::string_view digits) {
  if (digits.empty()) return false;
  unsigned sum = 0;
  bool twice = false;
  for (size_t i = digits.size(); i-- > 0;) {
    if (!is_digit(digits[i])) return false;
    unsigned d = static_cast<unsigned>(digits[i] - '0');
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool card_issuer_known(std::string_view digits) {
  // Every issuer's numbers start with 2 to 6: timestamps (1...) and most
  // other ids are out at once.
  if (digits.size() > 31 || digits.empty() || digits[0] < '2' || digits[0] > '6') return false;
  const uint32_t length_bit = 1u << digits.size();
  // The first one to four digits as numbers: a compare per issuer, no string
  // comparisons (this runs on every 13-19 digit number of a body).
  unsigned prefix[5] = {};
  for (size_t k = 0; k < 4 && k < digits.size(); ++k) {
    if (!is_digit(digits[k])) return false;
    prefix[k + 1] = prefix[k] * 10 + static_cast<unsigned>(digits[k] - '0');
  }
  for (const IssuerRange& r : kIssuers) {
    if ((r.lengths & length_bit) == 0 || digits.size() < r.lo.size()) continue;
    const unsigned p = prefix[r.lo.size()];
    if (p >= r.lo_value && p <= r.hi_value) return true;
  }
  return false;
}

size_t count_cards(std::string_view buf, size_t start, size_t end) {
  constexpr size_t kMinDigits = 13;
  constexpr size_t kMaxDigits = 19;
  size_t cards = 0;
  size_t i = start;
  while (i < end) {
    if (!is_digit(buf[i])) {
      ++i;
      continue;
    }
    // One piece: digit (separator? digit)*, a single separator between digits.
    if (buf[i] < '2' || buf[i] > '6') {
      // No issuer's numbers start with this digit (card_issuer_known): step
      // over the piece (a millisecond timestamp, an id) without reading it.
      while (true) {
        ++i;
        if (i < end && is_digit(buf[i])) continue;
        if (i + 1 < end && is_card_separator(buf[i]) && is_digit(buf[i + 1])) {
          ++i;
          continue;
        }
        break;
      }
      continue;
    }
    const size_t piece_start = i;
    char digits[kMaxDigits];
    size_t n = 0;
    char separator = 0;
    bool mixed = false;
    while (true) {
      if (n < kMaxDigits) digits[n] = buf[i];
      ++n;
      ++i;
      if (i < end && is_digit(buf[i])) continue;
      if (i + 1 < end && is_card_separator(buf[i]) && is_digit(buf[i + 1])) {
        if (separator != 0 && separator != buf[i]) mixed = true;
        separator = buf[i];
        ++i;
        continue;
      }
      break;
    }
    if (n < kMinDigits || n > kMaxDigits || mixed) continue;
    const std::string_view number(digits, n);
    if (card_piece_bounded(buf, piece_start, i) && card_issuer_known(number) &&
        luhn_valid(number)) {
      ++cards;
    }
  }
  return cards;
}

// --- iban ----------------------------------------------------------------

size_t iban_length(char c1, char c2) {
  static const IbanLengthTable table;
  if (!is_upper(c1) || !is_upper(c2)) return 0;
  return table.length[static_cast<size_t>((c1 - 'A') * 26 + (c2 - 'A'))];
}

bool iban_checksum_ok(std::string_view compact) {
  if (compact.size() < 5 || compact.size() > kMaxIbanLength) return false;
  unsigned r = 0;
  auto feed = [&r](char c) {
    if (is_digit(c)) {
      r = (r * 10 + static_cast<unsigned>(c - '0')) % 97;
      return true;
    }
    if (is_upper(c)) {
      r = (r * 100 + static_cast<unsigned>(c - 'A' + 10)) % 97;
      return true;
    }
    return false;
  };
  for (size_t i = 4; i < compact.size(); ++i) {
    if (!feed(compact[i])) return false;
  }
  for (size_t i = 0; i < 4; ++i) {
    if (!feed(compact[i])) return false;
  }
  return r == 1;
}

size_t match_iban(std::string_view buf, size_t pos) {
  if (pos + 4 > buf.size() || !starts_token(buf, pos)) return 0;
  const size_t length = iban_length(buf[pos], buf[pos + 1]);
  if (length == 0 || !is_digit(buf[pos + 2]) || !is_digit(buf[pos + 3])) return 0;
  char compact[kMaxIbanLength];
  size_t k = 0;
  size_t j = pos;
  bool spaced = false;
  while (k < length) {
    if (j >= buf.size()) return 0;
    if (k > 0 && k % 4 == 0) {
      // Printed IBANs group by four: a space at every group boundary, or none.
      if (k == 4) spaced = buf[j] == ' ';
      if (spaced) {
        if (buf[j] != ' ') return 0;
        if (++j >= buf.size()) return 0;
      }
    }
    const char c = buf[j];
    if (!is_upper(c) && !is_digit(c)) return 0;
    compact[k++] = c;
    ++j;
  }
  if (!ends_token(buf, j)) return 0;
  return iban_checksum_ok(std::string_view(compact, length)) ? j : 0;
}

// --- email ---------------------------------------------------------------

bool email_valid(std::string_view buf, size_t at, size_t end, bool encoded) {
  constexpr size_t kMaxLocalPart = 64;
  const size_t domain_start = at + (encoded ? 3 : 1);
  if (domain_start >= end || end > buf.size()) return false;
  size_t local_start = at;
  while (local_start > 0 && at - local_start <= kMaxLocalPart &&
         is_local_part_char(buf[local_start - 1])) {
    --local_start;
  }
  const std::string_view local = buf.substr(local_start, at - local_start);
  if (local.empty() || local.size() > kMaxLocalPart) return false;
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  // Where Hyperscan's match stopped must be where the domain ends.
  if (end < buf.size() && (is_alnum(buf[end]) || buf[end] == '-')) return false;
  return domain_valid(buf.substr(domain_start, end - domain_start));
}

// --- jwt -----------------------------------------------------------------

bool json_object_has_string_member(std::string_view json, std::string_view key) {
  if (valid_utf8_prefix(json) != json.size()) return false;
  bool found = false;
  JsonChecker checker(json);
  return checker.top_object(key, found) && found;
}

bool jwt_valid(std::string_view buf, size_t start, size_t end) {
  if (start > 0 && is_base64url_char(buf[start - 1])) return false;
  const std::string_view token = buf.substr(start, end - start);
  const size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return false;
  const size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return false;
  const std::string_view header = token.substr(0, dot1);
  const std::string_view payload = token.substr(dot1 + 1, dot2 - dot1 - 1);
  if (payload.empty() || payload.size() % 4 == 1) return false;
  // Headers are a few dozen bytes: decoded on the stack when they fit.
  char small[384];
  std::string large;
  char* out = small;
  if (header.size() * 3 / 4 > sizeof(small)) {
    large.resize(header.size() * 3 / 4);
    out = large.data();
  }
  const ptrdiff_t n = base64url_decode(header, out);
  return n >= 0 &&
         json_object_has_string_member(std::string_view(out, static_cast<size_t>(n)), "alg");
}

// --- tokens ------------------------------------------------------------

bool starts_token(std::string_view buf, size_t start) {
  return start == 0 || start > buf.size() || !is_word(buf[start - 1]);
}

bool ends_token(std::string_view buf, size_t end) { return end >= buf.size() || !is_alnum(buf[end]); }

// --- high_entropy ------------------------------------------------------

double shannon_entropy(std::string_view s) {
  if (s.empty()) return 0;
  static const CLog2CTable table;
  // All zero between calls: each count is cleared below once added, which
  // saves clearing 1 KiB per call.
  thread_local uint32_t counts[256] = {};
  for (char c : s) ++counts[static_cast<unsigned char>(c)];
  // Each distinct character once, found through the text (tokens use a few
  // dozen of the 256).
  double sum = 0;
  for (char ch : s) {
    uint32_t& c = counts[static_cast<unsigned char>(ch)];
    if (c == 0) continue;
    sum += c < table.v.size() ? table.v[c] : static_cast<double>(c) * std::log2(c);
    c = 0;
  }
  const auto n = static_cast<double>(s.size());
  return std::log2(n) - sum / n;
}

bool high_entropy_token(std::string_view token) {
  constexpr size_t kMinLength = 32;
  constexpr size_t kMinHexLength = 40;
  constexpr double kMinEntropy = 4.0;
  constexpr double kMinHexEntropy = 3.0;
  while (!token.empty() && token.back() == '=') token.remove_suffix(1);
  if (token.size() < kMinLength) return false;
  size_t digits = 0;
  size_t letters = 0;
  size_t separators = 0;  // '/', '_', '-'
  bool hex = true;
  for (char c : token) {
    if (is_digit(c)) {
      ++digits;
    } else if (is_alpha(c)) {
      ++letters;
      if (!((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) hex = false;
    } else {
      if (c != '+') ++separators;
      if (c != '-') hex = false;  // hex with dashes: UUIDs, trace ids
    }
  }
  // Random text of this length has both; words and identifiers lack digits.
  if (digits < 2 || letters == 0) return false;
  // Base64 and base64url have each of '/', '_', '-' once in 64 characters;
  // paths and slugs ("a/b/c", "release_2024_01_rc") have one every few.
  if (separators >= 3 && separators * 10 > token.size()) return false;
  const double h = shannon_entropy(token);
  if (hex) return token.size() >= kMinHexLength && h >= kMinHexEntropy;
  return h >= kMinEntropy;
}

}  // namespace qtap::audit
