// The token detectors as a literal prefix plus a shape checked here. Hyperscan
// finds only the literals (a pure multi-literal database: no regex engine, no
// start-of-match tracking, about 10 GB/s even on text full of candidates);
// each hit is then extended by hand to the end of the longest match the
// pattern below would have had starting there. Measured: the same patterns
// as regexes with HS_FLAG_SOM_LEFTMOST cost 40 times more on a header holding
// a JWT (a match at every byte of its signature, each tracked from its start).
//
//   kEmail          @[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}
//   kEmailEncoded   %40[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}
//   kJwt            eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*
//   kPrivateKey     -----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----
//   kAwsAccessKey   (?:AKIA|ASIA)[A-Z0-9]{16}
//   kGithubToken    gh[pousr]_[A-Za-z0-9]{36,251}
//   kGithubPat      github_pat_[A-Za-z0-9]{20,}_[A-Za-z0-9]{40,}
//   kGitlabToken    glpat-[A-Za-z0-9_-]{20,}
//   kSlackToken     xox[abprs]-[A-Za-z0-9-]{10,}
//   kSlackWebhook   hooks\.slack\.com/services/[A-Za-z0-9_]+/[A-Za-z0-9_]+/[A-Za-z0-9_]+
//
// No shape matches a '\n', so texts joined with '\n' between them cannot
// produce a match across two of them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace qtap::audit {

enum class Shape : uint8_t {
  kEmail,
  kEmailEncoded,
  kJwt,
  kPrivateKey,
  kAwsAccessKey,
  kGithubToken,
  kGithubPat,
  kGitlabToken,
  kSlackToken,
  kSlackWebhook,
};

// buf[at] starts one of the shape's literal prefixes (`prefix` bytes long).
// Returns the end of the longest match of the shape's pattern starting at
// `at`, or 0 when there is none.
size_t shape_match_end(Shape shape, std::string_view buf, size_t at, size_t prefix);

}  // namespace qtap::audit
