// The hand-written shapes against the regexes they stand for: for every
// place a literal prefix occurs, shape_match_end must be the end of the
// longest match Hyperscan finds for the anchored regex from there.
#include "audit/shapes.h"

#include <gtest/gtest.h>
#include <hs.h>

#include <random>
#include <string>
#include <vector>

#include "audit/hyperscan_db.h"

namespace qtap::audit {
namespace {

struct ShapeDef {
  Shape shape;
  const char* regex;
  std::vector<std::string> literals;
};

const std::vector<ShapeDef>& shapes() {
  static const std::vector<ShapeDef> defs = {
      {Shape::kEmail, R"(@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})", {"@"}},
      {Shape::kEmailEncoded, R"(%40[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})", {"%40"}},
      {Shape::kJwt, R"(eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)", {"eyJ"}},
      {Shape::kPrivateKey,
       R"(-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)",
       {"-----BEGIN"}},
      {Shape::kAwsAccessKey, R"((?:AKIA|ASIA)[A-Z0-9]{16})", {"AKIA", "ASIA"}},
      {Shape::kGithubToken,
       R"(gh[pousr]_[A-Za-z0-9]{36,251})",
       {"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}},
      {Shape::kGithubPat, R"(github_pat_[A-Za-z0-9]{20,}_[A-Za-z0-9]{40,})", {"github_pat_"}},
      {Shape::kGitlabToken, R"(glpat-[A-Za-z0-9_-]{20,})", {"glpat-"}},
      {Shape::kSlackToken,
       R"(xox[abprs]-[A-Za-z0-9-]{10,})",
       {"xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-"}},
      {Shape::kSlackWebhook,
       R"(hooks\.slack\.com/services/[A-Za-z0-9_]+/[A-Za-z0-9_]+/[A-Za-z0-9_]+)",
       {"hooks.slack.com/services/"}},
  };
  return defs;
}

// The end of the longest match of `def`'s regex starting at s[at], or 0.
size_t regex_end(const HyperscanDb& anchored, std::string_view s, size_t at) {
  size_t longest = 0;
  anchored.scan(
      s.substr(at),
      [](unsigned, uint64_t, uint64_t to, void* ctx) {
        auto* l = static_cast<size_t*>(ctx);
        *l = std::max<size_t>(*l, to);
      },
      &longest);
  return longest == 0 ? 0 : at + longest;
}

class ShapeVsRegex : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const ShapeDef& d : shapes()) {
      const HsPattern p{std::string("^") + d.regex, 0, 0};
      Result<HyperscanDb> db = HyperscanDb::compile(std::span(&p, 1), HyperscanDb::Mode::kBlock);
      ASSERT_TRUE(db.ok()) << d.regex;
      dbs_.push_back(std::move(db).value());
    }
  }

  // Every literal occurrence in `s`, every shape.
  void check(const std::string& s) {
    for (size_t k = 0; k < shapes().size(); ++k) {
      const ShapeDef& d = shapes()[k];
      for (const std::string& lit : d.literals) {
        for (size_t at = s.find(lit); at != std::string::npos; at = s.find(lit, at + 1)) {
          ASSERT_EQ(shape_match_end(d.shape, s, at, lit.size()), regex_end(dbs_[k], s, at))
              << d.regex << " at " << at << " in: " << s;
          ++checked_;
        }
      }
    }
  }

  std::vector<HyperscanDb> dbs_;
  size_t checked_ = 0;
};

TEST_F(ShapeVsRegex, CraftedCases) {
  const std::vector<std::string> cases = {
      "a@b.co",
      "x@example.com2",
      "x@example.comx1",
      "@a.bc1.de",
      "@a..com",
      "@-a.com",
      "@a.c",
      "@a.b.c.d.ef",
      "u@host",
      "u@1.2.3.4",
      "%40example.org",
      "%40x",
      "a@b.c-d.ef-",
      "@@a.bc",
      "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
      "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0",
      "eyJa.b.c",
      "eyJab.c.d.e.f",
      "eyJab..c",
      "eyJab.eyJcd.ef.gh",
      "eyJ",
      "eyJab",
      "-----BEGIN RSA PRIVATE KEY-----",
      "-----BEGIN PRIVATE KEY-----",
      "-----BEGIN PGP PRIVATE KEY BLOCK-----",
      "-----BEGIN PRIVATE KEY BLOCK-----x",
      "-----BEGIN " + std::string(40, 'A') + "PRIVATE KEY-----",
      "-----BEGIN " + std::string(41, 'A') + "PRIVATE KEY-----",
      "-----BEGIN PRIVATE KEY PRIVATE KEY-----",
      "-----BEGIN PUBLIC KEY-----",
      "AKIAIOSFODNN7EXAMPLE",
      "AKIAIOSFODNN7EXAMPL",
      "AKIAIOSFODNN7EXAMPLE1",
      "ASIAakiaAKIA",
      "AKIAAKIAIOSFODNN7EXAMPLE",
      "ghp_" + std::string(36, 'a'),
      "ghp_" + std::string(35, 'a'),
      "ghs_" + std::string(300, 'b'),
      "gho_" + std::string(251, 'c') + "_",
      "github_pat_" + std::string(20, 'a') + "_" + std::string(40, 'b'),
      "github_pat_" + std::string(19, 'a') + "_" + std::string(40, 'b'),
      "github_pat_" + std::string(20, 'a') + "_" + std::string(39, 'b'),
      "github_pat_" + std::string(20, 'a') + "__" + std::string(40, 'b'),
      "glpat-" + std::string(20, '_'),
      "glpat-" + std::string(19, 'x'),
      "xoxb-1234567890",
      "xoxp-123456789",
      "xoxs----------",
      "xoxa-abc def",
      "hooks.slack.com/services/a/b/c",
      "hooks.slack.com/services/a/b/",
      "hooks.slack.com/services/a//c",
      "hooks.slack.com/services/",
      "hooks.slack.com/services/T0/B0/X_y-z"};
  for (const std::string& c : cases) check(c);
  for (const std::string& c : cases) check("pre " + c + " post");
  EXPECT_GT(checked_, cases.size());
}

TEST_F(ShapeVsRegex, RandomText) {
  std::mt19937 rng(11);
  // Characters the classes split on, with the literals dropped in often.
  const std::string alphabet = "aAzZ09-_. @/%4Jey\n+=~KIS";
  std::vector<std::string> literals;
  for (const ShapeDef& d : shapes()) {
    for (const std::string& l : d.literals) literals.push_back(l);
  }
  literals.push_back("PRIVATE KEY-----");
  literals.push_back(" BLOCK-----");
  literals.push_back(".com");
  for (int round = 0; round < 3000; ++round) {
    std::string s;
    const size_t pieces = 1 + rng() % 12;
    for (size_t p = 0; p < pieces; ++p) {
      if (rng() % 3 == 0) {
        s += literals[rng() % literals.size()];
      } else {
        const size_t n = rng() % 60;
        for (size_t i = 0; i < n; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
      }
    }
    check(s);
  }
  EXPECT_GT(checked_, 3000u);
}

}  // namespace
}  // namespace qtap::audit
