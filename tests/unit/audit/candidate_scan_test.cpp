#include "audit/candidate_scan.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

namespace qtap::audit {
namespace {

using Spans = std::vector<std::pair<size_t, size_t>>;

void collect(void* ctx, size_t start, size_t end) {
  static_cast<Spans*>(ctx)->emplace_back(start, end);
}

Spans digit_runs(std::string_view s) {
  Spans out;
  find_digit_runs(s, collect, &out);
  return out;
}

Spans iban_starts(std::string_view s) {
  Spans out;
  find_iban_starts(s, collect, &out);
  return out;
}

// The definitions, byte by byte.
bool in_run(std::string_view s, size_t i) {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  return digit(s[i]) || ((s[i] == ' ' || s[i] == '-') && i > 0 && digit(s[i - 1]));
}

Spans reference_digit_runs(std::string_view s) {
  Spans out;
  size_t i = 0;
  while (i < s.size()) {
    if (!in_run(s, i)) {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < s.size() && in_run(s, i)) ++i;
    if (i - start >= 13) out.emplace_back(start, i);
  }
  return out;
}

Spans reference_iban_starts(std::string_view s) {
  Spans out;
  const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  for (size_t i = 0; i + 4 <= s.size(); ++i) {
    if (upper(s[i]) && upper(s[i + 1]) && digit(s[i + 2]) && digit(s[i + 3])) {
      out.emplace_back(i, i + 4);
    }
  }
  return out;
}

TEST(DigitRuns, Simple) {
  EXPECT_EQ(digit_runs("card 4111 1111 1111 1111 ok"), (Spans{{5, 25}}));
  EXPECT_EQ(digit_runs("1234567890123"), (Spans{{0, 13}}));
  EXPECT_EQ(digit_runs("123456789012"), Spans{});
  // Separators count only after a digit: a run never starts with one.
  EXPECT_EQ(digit_runs("             "), Spans{});
  EXPECT_EQ(digit_runs(" - 1-2-3-4-5-6-7"), (Spans{{3, 16}}));
  EXPECT_EQ(digit_runs(""), Spans{});
}

TEST(DigitRuns, EveryBlockOffset) {
  for (size_t pad = 0; pad < 200; ++pad) {
    const std::string s = std::string(pad, 'x') + "4111 1111 1111 1111" + std::string(pad % 70, 'y');
    EXPECT_EQ(digit_runs(s), (Spans{{pad, pad + 19}})) << pad;
  }
  // A run longer than a block.
  const std::string long_run = "a" + std::string(150, '7') + "b";
  EXPECT_EQ(digit_runs(long_run), (Spans{{1, 151}}));
}

TEST(IbanStarts, EveryBlockOffset) {
  for (size_t pad = 0; pad < 200; ++pad) {
    const std::string s = std::string(pad, 'x') + "DE89" + std::string(pad % 70, 'y');
    EXPECT_EQ(iban_starts(s), (Spans{{pad, pad + 4}})) << pad;
  }
  EXPECT_EQ(iban_starts("AB1"), Spans{});
  EXPECT_EQ(iban_starts("AB12CD34"), (Spans{{0, 4}, {4, 8}}));
}

TEST(CandidateScan, MatchesTheByteByByteDefinitionOnRandomText) {
  std::mt19937 rng(7);
  const std::string alphabet = "0123456789 -ABZaz.";
  for (int round = 0; round < 2000; ++round) {
    std::string s(rng() % 300, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    ASSERT_EQ(digit_runs(s), reference_digit_runs(s)) << s;
    ASSERT_EQ(iban_starts(s), reference_iban_starts(s)) << s;
  }
}

}  // namespace
}  // namespace qtap::audit
