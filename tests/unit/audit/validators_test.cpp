#include "audit/validators.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "audit/text_util.h"
#include "protocols/http_model.h"

namespace qtap::audit {
namespace {

TEST(Luhn, KnownNumbers) {
  EXPECT_TRUE(luhn_valid("4111111111111111"));
  EXPECT_TRUE(luhn_valid("378282246310005"));
  EXPECT_TRUE(luhn_valid("0"));
  EXPECT_FALSE(luhn_valid("4111111111111112"));
  EXPECT_FALSE(luhn_valid("79927398710"));
  EXPECT_TRUE(luhn_valid("79927398713"));
  EXPECT_FALSE(luhn_valid(""));
  EXPECT_FALSE(luhn_valid("4111 1111"));
}

TEST(CardIssuer, PrefixesAndLengths) {
  EXPECT_TRUE(card_issuer_known("4111111111111111"));   // Visa 16
  EXPECT_TRUE(card_issuer_known("4222222222222"));      // Visa 13
  EXPECT_FALSE(card_issuer_known("411111111111111"));   // Visa 15
  EXPECT_TRUE(card_issuer_known("5105105105105100"));   // Mastercard 51
  EXPECT_TRUE(card_issuer_known("2221000000000009"));   // Mastercard 2221
  EXPECT_TRUE(card_issuer_known("2720990000000000"));   // Mastercard 2720
  EXPECT_FALSE(card_issuer_known("2721000000000000"));  // past the 2-series
  EXPECT_FALSE(card_issuer_known("5600000000000000"));  // 56: not Mastercard
  EXPECT_TRUE(card_issuer_known("371449635398431"));    // Amex 15
  EXPECT_FALSE(card_issuer_known("3714496353984310"));  // Amex 16
  EXPECT_TRUE(card_issuer_known("30569309025904"));     // Diners 14
  EXPECT_TRUE(card_issuer_known("3566002020360505"));   // JCB
  EXPECT_TRUE(card_issuer_known("6200000000000005"));   // UnionPay
  EXPECT_TRUE(card_issuer_known("6445644564456445"));   // Discover 644
  EXPECT_TRUE(card_issuer_known("6759649826438453"));   // Maestro
  EXPECT_TRUE(card_issuer_known("2200000000000004"));   // Mir
  EXPECT_FALSE(card_issuer_known("1234567812345670"));
  EXPECT_FALSE(card_issuer_known("9111111111111111"));
}

// The issuer table compared as strings, the way it is written.
bool issuer_reference(std::string_view digits) {
  struct Range {
    std::string_view lo, hi;
    unsigned min_len, max_len;
    std::vector<unsigned> lengths;
  };
  static const std::vector<Range> ranges = {
      {"4", "4", 0, 0, {13, 16, 19}}, {"51", "55", 16, 16, {}},     {"2221", "2720", 16, 16, {}},
      {"34", "34", 15, 15, {}},       {"37", "37", 15, 15, {}},     {"6011", "6011", 16, 19, {}},
      {"644", "649", 16, 19, {}},     {"65", "65", 16, 19, {}},     {"300", "305", 14, 19, {}},
      {"36", "36", 14, 19, {}},       {"38", "39", 16, 19, {}},     {"3528", "3589", 16, 19, {}},
      {"62", "62", 16, 19, {}},       {"5018", "5018", 13, 19, {}}, {"5020", "5020", 13, 19, {}},
      {"5038", "5038", 13, 19, {}},   {"5893", "5893", 13, 19, {}}, {"6304", "6304", 13, 19, {}},
      {"6759", "6759", 13, 19, {}},   {"6761", "6763", 13, 19, {}}, {"2200", "2204", 16, 19, {}},
  };
  for (const Range& r : ranges) {
    const bool length_ok =
        r.lengths.empty()
            ? digits.size() >= r.min_len && digits.size() <= r.max_len
            : std::find(r.lengths.begin(), r.lengths.end(), digits.size()) != r.lengths.end();
    if (!length_ok || digits.size() < r.lo.size()) continue;
    const std::string_view prefix = digits.substr(0, r.lo.size());
    if (prefix >= r.lo && prefix <= r.hi) return true;
  }
  return false;
}

TEST(CardIssuer, MatchesTheTableAsStrings) {
  std::mt19937 rng(3);
  // Every four-digit prefix at every length a card can have, and around it.
  for (unsigned prefix = 0; prefix < 10000; ++prefix) {
    for (size_t len = 12; len <= 20; ++len) {
      std::string d = std::to_string(prefix);
      d.insert(0, 4 - d.size(), '0');
      while (d.size() < len) d.push_back(static_cast<char>('0' + rng() % 10));
      ASSERT_EQ(card_issuer_known(d), issuer_reference(d)) << d;
    }
  }
}

// count_cards as first written (every piece read, then checked), to check
// the shortcut over pieces no issuer can start.
size_t count_cards_reference(std::string_view buf, size_t start, size_t end) {
  size_t cards = 0;
  size_t i = start;
  while (i < end) {
    if (!is_digit(buf[i])) {
      ++i;
      continue;
    }
    const size_t piece_start = i;
    std::string digits;
    char separator = 0;
    bool mixed = false;
    while (true) {
      digits.push_back(buf[i]);
      ++i;
      if (i < end && is_digit(buf[i])) continue;
      if (i + 1 < end && (buf[i] == ' ' || buf[i] == '-') && is_digit(buf[i + 1])) {
        if (separator != 0 && separator != buf[i]) mixed = true;
        separator = buf[i];
        ++i;
        continue;
      }
      break;
    }
    if (digits.size() < 13 || digits.size() > 19 || mixed) continue;
    bool bounded = true;
    if (piece_start > 0) {
      const char c = buf[piece_start - 1];
      if (is_word(c) ||
          ((c == '.' || c == ',') && piece_start >= 2 && is_digit(buf[piece_start - 2]))) {
        bounded = false;
      }
    }
    if (i < buf.size()) {
      const char c = buf[i];
      if (is_word(c) || ((c == '.' || c == ',') && i + 1 < buf.size() && is_digit(buf[i + 1]))) {
        bounded = false;
      }
    }
    if (bounded && issuer_reference(digits) && luhn_valid(digits)) ++cards;
  }
  return cards;
}

TEST(CountCards, MatchesTheFirstVersionOnRandomRuns) {
  std::mt19937 rng(9);
  const std::vector<std::string> pieces = {"4111111111111111",
                                           "5500000000000004",
                                           "1700000000000",
                                           "4111 1111 1111 1111",
                                           "4111-1111-1111-1111",
                                           "371449635398431",
                                           "6011111111111117",
                                           " ",
                                           "-",
                                           "  ",
                                           "x",
                                           ".",
                                           ",",
                                           "7",
                                           "41",
                                           "3530111333300000"};
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    const size_t n = 1 + rng() % 6;
    for (size_t k = 0; k < n; ++k) s += pieces[rng() % pieces.size()];
    ASSERT_EQ(count_cards(s, 0, s.size()), count_cards_reference(s, 0, s.size())) << s;
  }
  // Millisecond timestamps and ids that pass Luhn: not cards.
  ASSERT_TRUE(luhn_valid("1700000000004"));
  ASSERT_TRUE(luhn_valid("9111111111111110"));
  EXPECT_EQ(count_cards("1700000000004", 0, 13), 0u);
  const std::string s = "ts 1700000000004 and 9111111111111110";
  EXPECT_EQ(count_cards(s, 0, s.size()), 0u);
}

TEST(CountCards, PiecesOfARun) {
  const std::string s = "x 4111 1111 1111 1111  5500000000000004 ";
  EXPECT_EQ(count_cards(s, 2, s.size()), 2u);
  EXPECT_EQ(count_cards("4111-1111-1111-1111-", 0, 20), 1u);
  EXPECT_EQ(count_cards("4111-1111-1111-1111-1", 0, 21), 0u);  // 17 digits
}

TEST(Iban, CountryLengths) {
  EXPECT_EQ(iban_length('D', 'E'), 22u);
  EXPECT_EQ(iban_length('G', 'B'), 22u);
  EXPECT_EQ(iban_length('F', 'R'), 27u);
  EXPECT_EQ(iban_length('N', 'O'), 15u);
  EXPECT_EQ(iban_length('L', 'C'), 32u);
  EXPECT_EQ(iban_length('R', 'U'), 33u);
  EXPECT_EQ(iban_length('U', 'S'), 0u);
  EXPECT_EQ(iban_length('d', 'e'), 0u);
}

TEST(Iban, Checksum) {
  EXPECT_TRUE(iban_checksum_ok("DE89370400440532013000"));
  EXPECT_TRUE(iban_checksum_ok("GB82WEST12345698765432"));
  EXPECT_TRUE(iban_checksum_ok("NO9386011117947"));
  EXPECT_FALSE(iban_checksum_ok("DE89370400440532013001"));
  EXPECT_FALSE(iban_checksum_ok("GB82WEST12345698765423"));  // swapped digits
  EXPECT_FALSE(iban_checksum_ok("GB82 WEST"));
}

TEST(Iban, MatchReturnsTheEnd) {
  const std::string s = "to DE89 3704 0044 0532 0130 00, thanks";
  EXPECT_EQ(match_iban(s, 3), 30u);
  EXPECT_EQ(match_iban(s, 4), 0u);
  EXPECT_EQ(match_iban("NO9386011117947", 0), 15u);
  EXPECT_EQ(match_iban("NO9386011117947", 1), 0u);
}

TEST(Email, Validator) {
  const std::string s = "to: a.b+c@mail.example.org;";
  EXPECT_TRUE(email_valid(s, 9, 26, false));
  EXPECT_FALSE(email_valid(s, 9, 25, false));  // the match must end the domain
  const std::string enc = "e=bob%40example.com&x";
  EXPECT_TRUE(email_valid(enc, 5, 19, true));
  EXPECT_FALSE(email_valid("@example.com", 0, 12, false));
  const std::string long_local = std::string(65, 'a') + "@example.com";
  EXPECT_FALSE(email_valid(long_local, 65, long_local.size(), false));
}

TEST(Jwt, JsonChecker) {
  EXPECT_TRUE(json_object_has_string_member(R"({"alg":"HS256","typ":"JWT"})", "alg"));
  EXPECT_TRUE(json_object_has_string_member(
      R"( { "kid" : [1, -2.5e3, true, null, {"a": "\u00e9\n"}], "alg" : "RS256" } )", "alg"));
  EXPECT_FALSE(json_object_has_string_member(R"({"alg":1})", "alg"));
  EXPECT_FALSE(json_object_has_string_member(R"({"x":{"alg":"HS256"}})", "alg"));
  EXPECT_FALSE(json_object_has_string_member(R"({"alg":"HS256"} x)", "alg"));
  EXPECT_FALSE(json_object_has_string_member(R"({"alg":"HS256",})", "alg"));
  EXPECT_FALSE(json_object_has_string_member(R"({"alg":"HS\x256"})", "alg"));
  EXPECT_FALSE(json_object_has_string_member(R"(["alg"])", "alg"));
  EXPECT_FALSE(json_object_has_string_member(R"({"alg":01})", "alg"));
  EXPECT_FALSE(json_object_has_string_member(std::string(100, '[') + "]", "alg"));
  EXPECT_FALSE(json_object_has_string_member("{\"alg\":\"a\xff\"}", "alg"));  // not UTF-8
}

TEST(Jwt, Validator) {
  const std::string jwt = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.";
  EXPECT_TRUE(jwt_valid(jwt, 0, jwt.size()));
  const std::string glued = "-" + jwt;
  EXPECT_FALSE(jwt_valid(glued, 1, glued.size()));
  const std::string bad_length = "eyJhbGciOiJub25lIn0.eyJzd.x";  // payload of 5: not base64
  EXPECT_FALSE(jwt_valid(bad_length, 0, bad_length.size()));
}

TEST(Tokens, Boundaries) {
  EXPECT_TRUE(starts_token("x AKIA", 2));
  EXPECT_FALSE(starts_token("x_AKIA", 2));
  EXPECT_TRUE(starts_token("AKIA", 0));
  EXPECT_TRUE(ends_token("AKIA.", 4));
  EXPECT_TRUE(ends_token("AKIA_", 4));
  EXPECT_FALSE(ends_token("AKIA1", 4));
  EXPECT_TRUE(ends_token("AKIA", 4));
}

TEST(Entropy, Shannon) {
  EXPECT_DOUBLE_EQ(shannon_entropy(""), 0.0);
  EXPECT_DOUBLE_EQ(shannon_entropy("aaaa"), 0.0);
  EXPECT_DOUBLE_EQ(shannon_entropy("abab"), 1.0);
  EXPECT_DOUBLE_EQ(shannon_entropy("abcdefgh"), 3.0);
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_DOUBLE_EQ(shannon_entropy(all), 8.0);
  // Counts beyond the table (over 256 of one character).
  EXPECT_NEAR(shannon_entropy(std::string(300, 'a') + std::string(300, 'b')), 1.0, 1e-12);
}

TEST(Entropy, Tokens) {
  EXPECT_TRUE(high_entropy_token("Zx8Qp3LmT7vN2bK9wR4sY6uH1jD5fG0aE8cV3nXq"));
  EXPECT_TRUE(high_entropy_token("Zx8Qp3LmT7vN2bK9wR4sY6uH1jD5fG0a=="));       // 32 + padding
  EXPECT_FALSE(high_entropy_token("Zx8Qp3LmT7vN2bK9wR4sY6uH1jD5fG0=="));       // 31
  EXPECT_TRUE(high_entropy_token("2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"));  // 40 hex
  EXPECT_FALSE(high_entropy_token("5d41402abc4b2a76b9719d911017c592"));         // 32 hex
  EXPECT_FALSE(high_entropy_token("550e8400-e29b-41d4-a716-446655440000"));     // UUID
  EXPECT_FALSE(high_entropy_token("deadbeefdeadbeefdeadbeefdeadbeefdeadbeef"));  // hex, low
  EXPECT_FALSE(high_entropy_token("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"));  // no digits
  EXPECT_FALSE(high_entropy_token("com/api/v1/users/12345/orders/67890/items"));
  EXPECT_FALSE(high_entropy_token("v1_2024_01_15_release_candidate_build_7"));
  EXPECT_FALSE(high_entropy_token("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa11"));
}

TEST(Entropy, TokensInText) {
  std::vector<std::pair<size_t, size_t>> found;
  const std::string s = "sid=Zx8Qp3LmT7vN2bK9wR4sY6uH1jD5fG0aE8cV3nXq==; a=b; t=2fd4e1c67a2d28fced849ee1bb76e7391b93eb12";
  for_each_high_entropy_token(s, [&](size_t off, size_t len) { found.emplace_back(off, len); });
  EXPECT_EQ(found, (std::vector<std::pair<size_t, size_t>>{{4, 42}, {55, 40}}));
}

// The skip-ahead search against the plain definition: every maximal run of
// [A-Za-z0-9+/_-] of 32 or more, with its '=' padding.
TEST(Entropy, CandidatesMatchTheByteByByteDefinition) {
  auto reference = [](std::string_view s) {
    std::vector<std::tuple<size_t, size_t, size_t>> out;
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
      if (core - start >= 32) out.emplace_back(start, i - start, core - start);
    }
    return out;
  };
  std::mt19937 rng(5);
  const std::string alphabet = "aZ09+/_-= ;.&";
  for (int round = 0; round < 3000; ++round) {
    std::string s(rng() % 400, ' ');
    for (char& c : s) c = rng() % 8 == 0 ? alphabet[rng() % alphabet.size()] : "aZ09"[rng() % 4];
    std::vector<std::tuple<size_t, size_t, size_t>> found;
    for_each_entropy_candidate(
        s, [&](size_t off, size_t len, size_t core) { found.emplace_back(off, len, core); });
    ASSERT_EQ(found, reference(s)) << s;
  }
}

TEST(TextUtil, Utf8) {
  EXPECT_EQ(valid_utf8_prefix("plain ascii text, long enough for the word loop"), 47u);
  EXPECT_EQ(valid_utf8_prefix("caf\xc3\xa9"), 5u);
  EXPECT_EQ(valid_utf8_prefix("caf\xc3"), 3u);
  EXPECT_EQ(valid_utf8_prefix("\xc0\xaf"), 0u);          // overlong
  EXPECT_EQ(valid_utf8_prefix("a\xed\xa0\x80"), 1u);      // surrogate
  EXPECT_EQ(valid_utf8_prefix("\xf4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(valid_utf8_prefix("\xf0\x9f\x98\x80!"), 5u);
  EXPECT_EQ(utf8_text("caf\xc3\xa9", false), "caf\xc3\xa9");
  EXPECT_EQ(utf8_text("caf\xc3", true), "caf");
  EXPECT_EQ(utf8_text("caf\xc3", false), "");
  EXPECT_EQ(utf8_text("caf\xff", true), "");
  EXPECT_EQ(utf8_text(std::string("\xff") + "abcd", true), "");
}

TEST(TextUtil, Globs) {
  EXPECT_TRUE(Glob("*token*").matches("X-Auth-Token"));
  EXPECT_TRUE(Glob("*token*").matches("token"));
  EXPECT_FALSE(Glob("*token*").matches("tokes"));
  EXPECT_TRUE(Glob("*API-KEY*").matches("x-api-key"));
  EXPECT_TRUE(Glob("x-*-id").matches("X-Request-ID"));
  EXPECT_FALSE(Glob("x-*-id").matches("X-Request-IDs"));
  EXPECT_TRUE(Glob("se?ret").matches("SECRET"));
  EXPECT_FALSE(Glob("se?ret").matches("seret"));
  EXPECT_TRUE(Glob("*").matches(""));
  EXPECT_TRUE(Glob("a*b*c").matches("aXbYbZc"));
  EXPECT_FALSE(Glob("a*b*c").matches("aXbYbZ"));
  EXPECT_TRUE(Glob("authorization").matches("Authorization"));
  EXPECT_FALSE(Glob("authorization").matches("authorization2"));
}

TEST(TextUtil, NameMatcherIsEveryNameAndGlobTriedInTurn) {
  std::mt19937 rng(17);
  const std::string letters = "aAbBtTkK-_*?xo";
  auto random_word = [&](size_t max) {
    std::string w;
    const size_t n = rng() % max;
    for (size_t i = 0; i < n; ++i) w.push_back(letters[rng() % letters.size()]);
    return w;
  };
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string> names;
    std::vector<std::string> globs;
    for (size_t k = rng() % 4; k > 0; --k) names.push_back(random_word(6) + "x");
    // Up to 40 globs: past 8 `*word*` ones, the rest are tried one by one.
    for (size_t k = rng() % 41; k > 0; --k) {
      std::string w = random_word(5);
      if (rng() % 2 == 0) w = "*" + w + "*";
      if (!w.empty()) globs.push_back(w);
    }
    const NameMatcher m(names, globs);
    for (int probe = 0; probe < 200; ++probe) {
      const std::string name = random_word(12);
      bool expected = false;
      for (const std::string& n : names) expected = expected || iequals_ascii(n, name);
      for (const std::string& g : globs) expected = expected || Glob(g).matches(name);
      ASSERT_EQ(m.matches(name), expected) << name;
    }
  }
  // The defaults, as the redactor has them.
  const NameMatcher defaults({"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"},
                             {"*token*", "*secret*", "*api-key*", "*password*"});
  EXPECT_TRUE(defaults.matches("authorization"));
  EXPECT_TRUE(defaults.matches("X-Auth-TOKEN"));
  EXPECT_TRUE(defaults.matches("x-client-secret"));
  EXPECT_TRUE(defaults.matches("X-Api-Key"));
  EXPECT_TRUE(defaults.matches("db_PassWord"));
  EXPECT_FALSE(defaults.matches("Authorizations"));
  EXPECT_FALSE(defaults.matches("Content-Type"));
  EXPECT_FALSE(defaults.matches("tokes"));
  EXPECT_FALSE(defaults.matches(""));
}

}  // namespace
}  // namespace qtap::audit
