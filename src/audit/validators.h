// The checks a candidate match must pass before it becomes a finding. Each
// takes the buffer the candidate was found in (boundaries are part of the
// check) and is exposed for the unit tests.
#pragma once

#include <cstddef>
#include <string_view>

namespace qtap::audit {

// --- credit_card ---------------------------------------------------------

// Luhn (mod 10) over a string of digits.
bool luhn_valid(std::string_view digits);
// A known issuer prefix (IIN) with a length that issuer uses: Visa,
// Mastercard, American Express, Discover, Diners Club, JCB, UnionPay, Maestro,
// Mir.
bool card_issuer_known(std::string_view digits);
// Card numbers in buf[start, end), a run of digits in which single spaces or
// dashes may separate digits (as found by find_digit_runs). A run splits at
// any other separator (two in a row, one at an end); each piece is a card when
// it holds 13 to 19 digits, uses one kind of separator, has a known issuer
// and passes Luhn, and is not glued to a word or to a decimal number
// ("x4111...", "3.4111...").
size_t count_cards(std::string_view buf, size_t start, size_t end);

// --- iban ----------------------------------------------------------------

// IBAN length for an ISO 3166 country code, 0 if the country has no IBAN.
size_t iban_length(char c1, char c2);
// ISO 13616 check: the compact IBAN (no spaces) rearranged, mod 97 == 1.
bool iban_checksum_ok(std::string_view compact);
// The end of the IBAN that starts at buf[pos] ("CCdd" then the BBAN, compact
// or in space-separated groups of four), or 0 if none does. Uppercase only.
size_t match_iban(std::string_view buf, size_t pos);

// --- email ---------------------------------------------------------------

// buf[at] is '@' (or the '%' of "%40" when `encoded`), buf[at..end) what
// Hyperscan matched of the domain. True for local@domain with a plausible
// local part and a domain whose top-level label is letters and not a file
// extension ("logo@2x.png").
bool email_valid(std::string_view buf, size_t at, size_t end, bool encoded);

// --- jwt -----------------------------------------------------------------

// buf[start, end) is header.payload.signature in base64url. True when the
// token is not glued to more base64url text and its header decodes to a JSON
// object with a string "alg".
bool jwt_valid(std::string_view buf, size_t start, size_t end);
// True if `json` is exactly one JSON object whose top-level member `key` is a
// string. A strict RFC 8259 check (depth-limited).
bool json_object_has_string_member(std::string_view json, std::string_view key);

// --- tokens ------------------------------------------------------------

// Not glued to a preceding word: buf[start-1] is not a letter, digit or `_`.
bool starts_token(std::string_view buf, size_t start);
// Not followed by more of a token: buf[end] is not a letter or digit.
bool ends_token(std::string_view buf, size_t end);

// --- high_entropy ------------------------------------------------------

// Shannon entropy in bits per character of `s` (0 for empty).
double shannon_entropy(std::string_view s);
// A random-looking secret (see docs/audit.md): at least 32 characters of the
// base64/base64url alphabet (trailing '=' not counted), with digits and
// letters, and entropy >= 4.0 bits/char; a pure hex token needs 40 characters
// and 3.0 bits/char (shorter hex is a hash or an id). Paths and slugs
// ("a/b/c/d", "v1_2024_01_rc") are not.
bool high_entropy_token(std::string_view token);
// Calls fn(offset, length) for every run of token characters
// [A-Za-z0-9+/_-] in `s` (with its '=' padding) that is a high_entropy_token.
template <typename Fn>
void for_each_high_entropy_token(std::string_view s, Fn&& fn);
// The same runs before the entropy test, long enough to be tested:
// fn(offset, length with padding, length without). For a caller that can
// rule some out more cheaply than high_entropy_token.
template <typename Fn>
void for_each_entropy_candidate(std::string_view s, Fn&& fn);

// ---------------------------------------------------------------------------

namespace detail {
struct EntropyTokenChars {
  bool v[256] = {};
  constexpr EntropyTokenChars() {
    for (int c = 0; c < 256; ++c) {
      v[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '+' || c == '/' || c == '_' || c == '-';
    }
  }
};
inline constexpr EntropyTokenChars kEntropyTokenChars{};
}  // namespace detail

inline bool is_entropy_token_char(char c) {
  return detail::kEntropyTokenChars.v[static_cast<unsigned char>(c)];
}

template <typename Fn>
void for_each_entropy_candidate(std::string_view s, Fn&& fn) {
  constexpr size_t kMinLength = 32;
  const size_t n = s.size();
  // s[i - 1] is not a token character. A token of kMinLength or more that
  // starts in [i, i + kMinLength) covers s[i + kMinLength - 1]: when that byte
  // is not a token character, no such token starts there, and the search
  // jumps kMinLength bytes at a time through ordinary text.
  size_t i = 0;
  while (i + kMinLength <= n) {
    const size_t probe = i + kMinLength - 1;
    if (!is_entropy_token_char(s[probe])) {
      i = probe + 1;
      continue;
    }
    size_t start = probe;
    while (start > i && is_entropy_token_char(s[start - 1])) --start;
    size_t core = probe + 1;
    while (core < n && is_entropy_token_char(s[core])) ++core;
    size_t end = core;
    while (end < n && s[end] == '=') ++end;
    if (core - start >= kMinLength) fn(start, end - start, core - start);
    i = end == core ? core + 1 : end;  // s[core] (or the last '=') is not a token character
  }
}

template <typename Fn>
void for_each_high_entropy_token(std::string_view s, Fn&& fn) {
  for_each_entropy_candidate(s, [&](size_t offset, size_t length, size_t core) {
    if (high_entropy_token(s.substr(offset, core))) fn(offset, length);
  });
}

}  // namespace qtap::audit
