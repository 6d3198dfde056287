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

// ---------------------------------------------------------------------------

inline bool is_entropy_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '_' || c == '-';
}

template <typename Fn>
void for_each_high_entropy_token(std::string_view s, Fn&& fn) {
  constexpr size_t kMinLength = 32;
  size_t i = 0;
  while (i < s.size()) {
    if (!is_entropy_token_char(s[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < s.size() && is_entropy_token_char(s[i])) ++i;
    const size_t core = i;
    while (i < s.size() && s[i] == '=') ++i;
    if (core - start >= kMinLength && high_entropy_token(s.substr(start, core - start))) {
      fn(start, i - start);
    }
  }
}

}  // namespace qtap::audit
