#include "audit/candidate_scan.h"

#include <gtest/gtest.h>

#include <algorithm>
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

// Every classifier this CPU has (and the portable one) finds the same runs
// and IBAN starts as the byte-by-byte definition, one pass for both or one
// each, on texts long enough for many blocks, with runs across blocks.
TEST(CandidateScan, EveryInstructionSetMatchesTheDefinition) {
  struct Both {
    Spans runs;
    Spans ibans;
  };
  auto on_run = [](void* ctx, size_t a, size_t b) {
    static_cast<Both*>(ctx)->runs.emplace_back(a, b);
  };
  auto on_iban = [](void* ctx, size_t a, size_t b) {
    static_cast<Both*>(ctx)->ibans.emplace_back(a, b);
  };
  std::vector<std::string> isas;
  for (const char* isa : {"portable", "sse2", "avx2", "avx512"}) {
    Both probe;
    if (find_digit_candidates_with(isa, "x", on_run, on_iban, &probe)) isas.emplace_back(isa);
  }
  ASSERT_FALSE(isas.empty());
  EXPECT_NE(std::find(isas.begin(), isas.end(), std::string(digit_scan_isa())), isas.end());

  std::mt19937 rng(23);
  const std::string alphabet = "0123456789 -ABZaz.\n";
  for (int round = 0; round < 1500; ++round) {
    std::string s(rng() % 700, ' ');
    // Runs of digits of random lengths, some crossing 64-byte blocks.
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    for (int k = 0; k < 3; ++k) {
      const size_t at = s.empty() ? 0 : rng() % s.size();
      const size_t len = rng() % 90;
      for (size_t i = at; i < s.size() && i < at + len; ++i)
        s[i] = static_cast<char>('0' + rng() % 10);
    }
    const Spans runs = reference_digit_runs(s);
    const Spans ibans = reference_iban_starts(s);
    for (const std::string& isa : isas) {
      Both both;
      ASSERT_TRUE(find_digit_candidates_with(isa, s, on_run, on_iban, &both));
      ASSERT_EQ(both.runs, runs) << isa << ": " << s;
      ASSERT_EQ(both.ibans, ibans) << isa << ": " << s;
      Both only_runs;
      find_digit_candidates_with(isa, s, on_run, nullptr, &only_runs);
      ASSERT_EQ(only_runs.runs, runs) << isa;
      ASSERT_TRUE(only_runs.ibans.empty());
      Both only_ibans;
      find_digit_candidates_with(isa, s, nullptr, on_iban, &only_ibans);
      ASSERT_EQ(only_ibans.ibans, ibans) << isa;
      ASSERT_TRUE(only_ibans.runs.empty());
    }
  }
}

TEST(CandidateScan, UnknownInstructionSet) {
  EXPECT_FALSE(find_digit_candidates_with("neon", "123", collect, collect, nullptr));
}

}  // namespace
}  // namespace qtap::audit
