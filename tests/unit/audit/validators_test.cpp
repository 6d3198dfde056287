#include "audit/validators.h"

#include <gtest/gtest.h>

#include <string>

#include "audit/text_util.h"

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

}  // namespace
}  // namespace qtap::audit
