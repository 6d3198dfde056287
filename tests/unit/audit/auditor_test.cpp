#include "audit/auditor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "unit/audit/audit_fixtures.h"

namespace qtap {
namespace {

using test::exchange;
using test::request_body;
using Findings = std::vector<Finding>;

const Auditor& auditor() {
  static Auditor a = [] {
    Result<Auditor> r = Auditor::make({});
    EXPECT_TRUE(r.ok()) << (r ? "" : r.error().message);
    return std::move(r).value();
  }();
  return a;
}

Findings scan(const HttpExchange& ex) { return auditor().scan(ex); }

// Count of one detector in a request body holding `text`.
uint32_t count_in_body(std::string_view detector, std::string text) {
  uint32_t n = 0;
  for (const Finding& f : scan(request_body(std::move(text)))) {
    if (f.detector == detector) {
      EXPECT_EQ(f.location, "request.body");
      n += f.count;
    }
  }
  return n;
}

// No field of any finding holds the secret or a piece of it.
void expect_secret_absent(const Findings& findings, std::string_view secret) {
  constexpr size_t kPiece = 5;
  for (const Finding& f : findings) {
    for (size_t i = 0; i + kPiece <= secret.size(); ++i) {
      const std::string_view piece = secret.substr(i, kPiece);
      EXPECT_EQ(f.detector.find(piece), std::string::npos) << piece;
      EXPECT_EQ(f.location.find(piece), std::string::npos) << piece;
    }
  }
}

// --- credit_card ---------------------------------------------------------

TEST(Auditor, CreditCardsOfEachFormAndIssuer) {
  EXPECT_EQ(count_in_body("credit_card", "4111111111111111"), 1u);
  EXPECT_EQ(count_in_body("credit_card", "card: 4111 1111 1111 1111."), 1u);
  EXPECT_EQ(count_in_body("credit_card", "{\"pan\":\"5500-0000-0000-0004\"}"), 1u);
  EXPECT_EQ(count_in_body("credit_card", "amex 3782 822463 10005"), 1u);
  EXPECT_EQ(count_in_body("credit_card", "6011111111111117"), 1u);    // Discover
  EXPECT_EQ(count_in_body("credit_card", "3530111333300000"), 1u);    // JCB
  EXPECT_EQ(count_in_body("credit_card", "5555555555554444"), 1u);    // Mastercard
  EXPECT_EQ(count_in_body("credit_card", "4222222222222"), 1u);       // Visa, 13 digits
  EXPECT_EQ(count_in_body("credit_card", "a=4111111111111111&b=5500000000000004"), 2u);
  EXPECT_EQ(count_in_body("credit_card", "4111111111111111\n4012888888881881\n"), 2u);
}

TEST(Auditor, CreditCardNearMisses) {
  EXPECT_EQ(count_in_body("credit_card", "4111111111111112"), 0u);      // Luhn fails
  EXPECT_EQ(count_in_body("credit_card", "4111 1111 1111 1121"), 0u);   // Luhn fails
  EXPECT_EQ(count_in_body("credit_card", "1234567812345670"), 0u);      // Luhn ok, no issuer
  EXPECT_EQ(count_in_body("credit_card", "411111111111111"), 0u);       // Visa has no 15
  EXPECT_EQ(count_in_body("credit_card", "41111111111111111111"), 0u);  // 20 digits
  EXPECT_EQ(count_in_body("credit_card", "4111 1111-1111 1111"), 0u);   // mixed separators
  EXPECT_EQ(count_in_body("credit_card", "4111  1111 1111 1111"), 0u);  // pieces of 4 and 12
  EXPECT_EQ(count_in_body("credit_card", "id4111111111111111"), 0u);    // glued to a word
  EXPECT_EQ(count_in_body("credit_card", "4111111111111111x"), 0u);
  EXPECT_EQ(count_in_body("credit_card", "pi 3.4111111111111111"), 0u);  // decimals
  EXPECT_EQ(count_in_body("credit_card", "4111111111111111.5"), 0u);
  EXPECT_EQ(count_in_body("credit_card", "7 4111 1111 1111 1111"), 0u);  // 17 digits
  EXPECT_EQ(count_in_body("credit_card", "ts 1700000000000 1700000000001"), 0u);
  EXPECT_EQ(count_in_body("credit_card", "+49 30 1234 5678 9012 34"), 0u);
}

// --- iban ----------------------------------------------------------------

TEST(Auditor, Ibans) {
  EXPECT_EQ(count_in_body("iban", "IBAN: DE89 3704 0044 0532 0130 00 EUR"), 1u);
  EXPECT_EQ(count_in_body("iban", "GB82WEST12345698765432"), 1u);
  EXPECT_EQ(count_in_body("iban", "{\"iban\":\"NL91ABNA0417164300\"}"), 1u);
  EXPECT_EQ(count_in_body("iban", "FR1420041010050500013M02606"), 1u);
  EXPECT_EQ(count_in_body("iban", "NL91 ABNA 0417 1643 00, GB82 WEST 1234 5698 7654 32"), 2u);
}

TEST(Auditor, IbanNearMisses) {
  EXPECT_EQ(count_in_body("iban", "DE89 3704 0044 0532 0130 01"), 0u);  // mod 97 fails
  EXPECT_EQ(count_in_body("iban", "DE88370400440532013000"), 0u);       // check digits
  EXPECT_EQ(count_in_body("iban", "DE8937040044053201300"), 0u);        // 21 < 22
  EXPECT_EQ(count_in_body("iban", "DE893704004405320130000"), 0u);      // 23 > 22
  EXPECT_EQ(count_in_body("iban", "DE89370400440532013000EUR"), 0u);    // glued
  EXPECT_EQ(count_in_body("iban", "XDE89370400440532013000"), 0u);
  EXPECT_EQ(count_in_body("iban", "XX89370400440532013000"), 0u);  // no such country
  EXPECT_EQ(count_in_body("iban", "de89370400440532013000"), 0u);  // lowercase
  EXPECT_EQ(count_in_body("iban", "DE89 37040044 0532 0130 00"), 0u);  // groups of four
}

// --- email ---------------------------------------------------------------

TEST(Auditor, EmailsInOddPlaces) {
  HttpExchange ex = exchange("/users/dave@example.com/profile?cc=erin%40example.org",
                             {{"From", "Bob <bob.smith+tag@mail.example.co.uk>"},
                              {"Cookie", "last=frank@example.net; theme=dark"}},
                             "{\"to\":[\"carol@example.org\",\"gina@example.org\"]}",
                             {{"X-Owner", "mailto:hank@example.io"}}, "Contact: ivan@example.com.");
  EXPECT_EQ(scan(ex), (Findings{{"email", "request.url", 2, false},
                                {"email", "request.header:From", 1, false},
                                {"email", "request.header:Cookie", 1, false},
                                {"email", "request.body", 2, false},
                                {"email", "response.header:X-Owner", 1, false},
                                {"email", "response.body", 1, false}}));
}

TEST(Auditor, EmailLookalikes) {
  EXPECT_EQ(count_in_body("email", "<img src=\"logo@2x.png\">"), 0u);
  EXPECT_EQ(count_in_body("email", "app.js@1.2.3 and style@2x.css"), 0u);
  EXPECT_EQ(count_in_body("email", "@app.route('/x')"), 0u);
  EXPECT_EQ(count_in_body("email", "user@localhost"), 0u);
  EXPECT_EQ(count_in_body("email", "a..b@example.com"), 0u);
  EXPECT_EQ(count_in_body("email", ".a@example.com"), 0u);
  EXPECT_EQ(count_in_body("email", "x@example.com2"), 0u);
  EXPECT_EQ(count_in_body("email", "x@-example.com"), 0u);
  EXPECT_EQ(count_in_body("email", "x@example.c"), 0u);
  EXPECT_EQ(count_in_body("email", "npm i @scope/pkg@1.2.3"), 0u);
  EXPECT_EQ(count_in_body("email", "x@example.com y@example.com,z@example.com"), 3u);
}

// --- jwt -----------------------------------------------------------------

TEST(Auditor, Jwts) {
  HttpExchange ex = exchange("/cb?id_token=" + test::kJwt, {{"Authorization", "Bearer " + test::kJwt}},
                             "{\"token\":\"" + test::kJwt + "\"}");
  EXPECT_EQ(scan(ex), (Findings{{"jwt", "request.url", 1, false},
                                {"jwt", "request.header:Authorization", 1, false},
                                {"jwt", "request.body", 1, false}}));
  // Unsecured: {"alg":"none"}, empty signature.
  EXPECT_EQ(count_in_body("jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."), 1u);
}

TEST(Auditor, JwtLookalikes) {
  // {"not json
  EXPECT_EQ(count_in_body("jwt", "eyJub3QganNvbg.eyJzdWIiOiIxIn0.c2ln"), 0u);
  // {"typ":"JWT"}: JSON, no alg
  EXPECT_EQ(count_in_body("jwt", "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.c2ln"), 0u);
  // {"alg":256}: alg is not a string
  EXPECT_EQ(count_in_body("jwt", "eyJhbGciOjI1Nn0.eyJzdWIiOiIxIn0.c2ln"), 0u);
  // Glued to more base64: the header would be decoded from the wrong offset.
  EXPECT_EQ(count_in_body("jwt", "x" + test::kJwt), 0u);
  // Two segments only.
  EXPECT_EQ(count_in_body("jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0"), 0u);
}

// --- keys and tokens -----------------------------------------------------

TEST(Auditor, PrivateKeys) {
  EXPECT_EQ(count_in_body("private_key",
                          "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n"
                          "-----END RSA PRIVATE KEY-----\n"),
            1u);
  EXPECT_EQ(count_in_body("private_key",
                          "{\"key\":\"-----BEGIN PRIVATE KEY-----\\nMIIE\\n\"}"
                          "-----BEGIN OPENSSH PRIVATE KEY-----"
                          "-----BEGIN EC PRIVATE KEY-----"
                          "-----BEGIN ENCRYPTED PRIVATE KEY-----"
                          "-----BEGIN PGP PRIVATE KEY BLOCK-----"),
            5u);
  EXPECT_EQ(count_in_body("private_key",
                          "-----BEGIN PUBLIC KEY-----\n-----BEGIN CERTIFICATE-----\n"
                          "-----END RSA PRIVATE KEY-----"),
            0u);
}

TEST(Auditor, CloudAndChatTokens) {
  EXPECT_EQ(count_in_body("aws_access_key", "id=" + test::kAwsKey), 1u);
  EXPECT_EQ(count_in_body("aws_access_key", "ASIAY34FZKBOKMUTVV7A"), 1u);
  EXPECT_EQ(count_in_body("aws_access_key", "AKIAIOSFODNN7EXAMPL"), 0u);    // 19
  EXPECT_EQ(count_in_body("aws_access_key", "AKIAIOSFODNN7EXAMPLE1"), 0u);  // 21
  EXPECT_EQ(count_in_body("aws_access_key", "xAKIAIOSFODNN7EXAMPLE"), 0u);
  EXPECT_EQ(count_in_body("aws_access_key", "AIDAIOSFODNN7EXAMPLE"), 0u);  // a user id
  EXPECT_EQ(count_in_body("aws_access_key", "akiaiosfodnn7example"), 0u);

  EXPECT_EQ(count_in_body("github_token", test::kGithubToken), 1u);
  EXPECT_EQ(count_in_body("github_token",
                          "gho_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5 ghu_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5 "
                          "ghs_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5 ghr_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"),
            4u);
  EXPECT_EQ(count_in_body("github_token", "github_pat_11ABCDEFG0123456789abc_" +
                                              std::string("aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5") +
                                              "aB3dE5gH7jK9mN1pQ3sT5vW"),
            1u);
  EXPECT_EQ(count_in_body("github_token", "ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG"), 0u);  // 35
  EXPECT_EQ(count_in_body("github_token", "ghx_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"), 0u);
  EXPECT_EQ(count_in_body("github_token", "xghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"), 0u);

  EXPECT_EQ(count_in_body("gitlab_token", "PRIVATE-TOKEN: " + test::kGitlabToken), 1u);
  EXPECT_EQ(count_in_body("gitlab_token", "glpat-xY7_zQ2-wE9rT4yU1iO"), 0u);  // 19

  EXPECT_EQ(count_in_body("slack_token", test::kSlackToken), 1u);
  EXPECT_EQ(count_in_body("slack_token", "xoxp-1234567890-abc xoxa-2-abcdefghij xoxr-abcdefghij1 "
                                         "xoxs-0123456789"),
            4u);
  EXPECT_EQ(count_in_body("slack_token", "{\"url\":\"" + test::kSlackWebhook + "\"}"), 1u);
  EXPECT_EQ(count_in_body("slack_token", "xoxz-1234567890abc xoxb-short"), 0u);
  EXPECT_EQ(count_in_body("slack_token", "https://hooks.slack.com/services/"), 0u);
}

// --- high_entropy --------------------------------------------------------

TEST(Auditor, HighEntropyInUrlParametersAndHeaderValues) {
  HttpExchange ex = exchange("/dl?sig=" + test::kRandomToken + "&n=1",
                             {{"X-Session", test::kRandomToken}},
                             "body " + test::kRandomToken,  // bodies: not searched
                             {{"Set-Cookie", "sid=" + test::kRandomToken + "; Path=/"}});
  EXPECT_EQ(scan(ex), (Findings{{"high_entropy", "request.url", 1, false},
                                {"high_entropy", "request.header:X-Session", 1, false},
                                {"high_entropy", "response.header:Set-Cookie", 1, false}}));
}

TEST(Auditor, HighEntropyLeavesHashesIdsAndTextAlone) {
  HttpExchange ex = exchange(
      // A path is not a parameter; UUIDs and MD5s are ids; a slug has separators.
      "/objects/" + test::kRandomToken +
          "?id=550e8400-e29b-41d4-a716-446655440000&md5=5d41402abc4b2a76b9719d911017c592"
          "&v=v1_2024_01_15_release_candidate_build_7&q=how+to+write+a+very+long+query+string",
      {{"User-Agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36"},
       {"Referer", "https://example.com/api/v1/users/12345/orders/67890/items"},
       {"Content-Type", "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW"},
       {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
       {"X-Amz-Content-Sha256",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
       {"X-Name", "ThisIsNotASecretButALongCamelCaseName1"},
       {"X-Repeat", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa11"}},
      "", {{"ETag", "\"2fd4e1c67a2d28fced849ee1bb76e7391b93eb12\""}});
  EXPECT_EQ(scan(ex), Findings{});
}

TEST(Auditor, HighEntropyDoesNotRecountAnotherDetectorsToken) {
  HttpExchange ex = exchange("/?access_token=" + test::kGithubToken,
                             {{"Authorization", "Bearer " + test::kJwt}});
  EXPECT_EQ(scan(ex), (Findings{{"github_token", "request.url", 1, false},
                                {"jwt", "request.header:Authorization", 1, false}}));
}

// --- where, how often, and never what --------------------------------------

TEST(Auditor, LocationsCountsAndOrder) {
  HttpExchange ex = exchange(
      "/pay?email=" + test::kEmail, {{"Authorization", "Bearer " + test::kJwt}},
      "card " + test::kVisa + " and 5500 0000 0000 0004, iban " + test::kIban + ", " + test::kEmail,
      {{"Set-Cookie", "a=" + test::kEmail}, {"Set-Cookie", "b=" + test::kEmail}},
      "-----BEGIN RSA PRIVATE KEY-----\n" + test::kAwsKey);
  ex.trailers = {{"x-gitlab", test::kGitlabToken}};
  EXPECT_EQ(scan(ex), (Findings{{"email", "request.url", 1, false},
                                {"jwt", "request.header:Authorization", 1, false},
                                {"credit_card", "request.body", 2, false},
                                {"iban", "request.body", 1, false},
                                {"email", "request.body", 1, false},
                                {"email", "response.header:Set-Cookie", 2, false},
                                {"private_key", "response.body", 1, false},
                                {"aws_access_key", "response.body", 1, false},
                                {"gitlab_token", "response.trailer:x-gitlab", 1, false}}));
}

TEST(Auditor, Http2HeaderNamesAsSent) {
  HttpExchange ex = exchange("/", {{":authority", "api.example.com"}, {"authorization", "Bearer " + test::kJwt}},
                             "", {{"set-cookie", "e=" + test::kEmail}});
  ex.version = "HTTP/2";
  EXPECT_EQ(scan(ex), (Findings{{"jwt", "request.header:authorization", 1, false},
                                {"email", "response.header:set-cookie", 1, false}}));
}

TEST(Auditor, FindingsNeverHoldTheSecret) {
  const std::vector<std::string> secrets = {
      test::kJwt,         test::kAwsKey,       test::kGithubToken, test::kGitlabToken,
      // The webhook's secret is its path; "slack" is in the detector's name.
      test::kSlackToken,  "services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
      test::kRandomToken, test::kVisa,
      test::kIban,        test::kEmail,        "-----BEGIN RSA PRIVATE KEY-----"};
  std::string all;
  for (const std::string& s : secrets) all += s + "\n";
  HttpExchange ex = exchange("/?t=" + test::kRandomToken + "&e=" + test::kEmail,
                             {{"X-Secret", test::kRandomToken}, {"Authorization", test::kJwt}}, all,
                             {}, all);
  const Findings findings = scan(ex);
  ASSERT_EQ(findings.size(), 22u);
  for (const std::string& s : secrets) expect_secret_absent(findings, s);
}

TEST(Auditor, BinaryBodiesAreSkippedTruncatedTextIsNot) {
  HttpExchange ex = request_body(std::string("\x1f\x8b\x08\x00", 4) + test::kAwsKey);
  EXPECT_EQ(scan(ex), Findings{});
  // Cut by the capture limit inside "é": still text.
  ex = request_body(test::kAwsKey + " caf\xc3");
  ex.request->body.truncated = true;
  ex.request->body.size = 100;
  EXPECT_EQ(scan(ex), (Findings{{"aws_access_key", "request.body", 1, false}}));
  // The same bytes without truncation are not UTF-8.
  ex.request->body.truncated = false;
  EXPECT_EQ(scan(ex), Findings{});
}

TEST(Auditor, GrpcMessagesInsteadOfTheirBody) {
  HttpExchange ex = exchange("/users.v1.Users/Create", {{"content-type", "application/grpc"}},
                             std::string("\x00\x00\x00\x00\x14", 5) + test::kEmail, {}, "");
  ex.version = "HTTP/2";
  GrpcCall& g = ex.grpc.emplace();
  g.service = "users.v1.Users";
  g.method = "Create";
  g.requests = {GrpcMessage{20, false, false, "{\"1\":\"" + test::kEmail + "\",\"2\":\"" + test::kVisa + "\"}"},
                GrpcMessage{20, false, false, "{\"1\":\"" + test::kEmail + "\"}"}};
  g.responses = {GrpcMessage{5, false, false, "{\"1\":\"" + test::kAwsKey + "\"}"}};
  EXPECT_EQ(scan(ex), (Findings{{"credit_card", "grpc.request", 1, false},
                                {"email", "grpc.request", 2, false},
                                {"aws_access_key", "grpc.response", 1, false}}));
  // Nothing decoded (compressed, or application/grpc+json): the body is
  // searched when it is text.
  g.requests = {GrpcMessage{20, true, false, ""}};
  g.responses.clear();
  EXPECT_EQ(scan(ex), (Findings{{"email", "request.body", 1, false}}));
}

TEST(Auditor, NoRequestOrNoResponse) {
  HttpExchange ex = exchange("/", {}, "", {}, test::kEmail);
  ex.request.reset();
  EXPECT_EQ(scan(ex), (Findings{{"email", "response.body", 1, false}}));
  ex = exchange("/?e=" + test::kEmail);
  ex.response.reset();
  EXPECT_EQ(scan(ex), (Findings{{"email", "request.url", 1, false}}));
  EXPECT_EQ(scan(HttpExchange{}), Findings{});
}

TEST(Auditor, SecretsAcrossBlockBoundariesOfALargeBody) {
  // Every offset modulo 64 (the scanners' block) for the digit detectors.
  std::string body;
  for (size_t pad = 0; pad < 64; ++pad) {
    body += std::string(pad, 'x') + " " + test::kVisa + " " + test::kIban + " " +
            test::kEmail + "\n";
  }
  body += std::string(100000, 'z');
  const Findings findings = scan(request_body(body));
  EXPECT_EQ(findings, (Findings{{"credit_card", "request.body", 64, false},
                                {"iban", "request.body", 64, false},
                                {"email", "request.body", 64, false}}));
}

// --- texts scanned together ---------------------------------------------
// The URL, header values and small bodies are copied into one buffer, '\n'
// between them, and scanned at once: nothing may match across two of them,
// and every count must land in its own location.

TEST(Auditor, NothingMatchesAcrossTwoTexts) {
  HttpExchange ex = exchange("/?n=4111",
                             {{"X-A", "1111 1111 1111"},  // a card cut in two
                              {"X-B", "DE89 3704 0044"},  // an IBAN cut in two
                              {"X-C", "0532 0130 00"},
                              {"X-D", "alice@"},  // an address cut in two
                              {"X-E", "example.com"},
                              {"X-F", "AKIAIOSFOD"},  // an access key cut in two
                              {"X-G", "NN7EXAMPLE"},
                              {"X-H", "eyJhbGciOiJub25lIn0."},  // a JWT cut in two
                              {"X-I", "eyJzdWIiOiIxIn0."},
                              {"X-J", "-----BEGIN RSA"},  // key armour cut in two
                              {"X-K", "PRIVATE KEY-----"}},
                             "1111 1111 1111 x");  // the URL's "4111" does not go on here
  EXPECT_EQ(scan(ex), Findings{});
  // Each whole: found, each in its place.
  ex = exchange("/?n=" + test::kEmail,
                {{"X-A", test::kVisa},
                 {"X-B", test::kIban},
                 {"X-D", test::kEmail},
                 {"X-F", test::kAwsKey},
                 {"X-H", test::kJwt},
                 {"X-J", "-----BEGIN RSA PRIVATE KEY-----"}},
                test::kVisa);
  EXPECT_EQ(scan(ex), (Findings{{"email", "request.url", 1, false},
                                {"credit_card", "request.header:X-A", 1, false},
                                {"iban", "request.header:X-B", 1, false},
                                {"email", "request.header:X-D", 1, false},
                                {"aws_access_key", "request.header:X-F", 1, false},
                                {"jwt", "request.header:X-H", 1, false},
                                {"private_key", "request.header:X-J", 1, false},
                                {"credit_card", "request.body", 1, false}}));
}

TEST(Auditor, SecretsAtTheEdgesOfSmallAndLargeBodies) {
  // 4096 bytes are scanned with the headers, 4097 on their own: the same
  // findings either way, at the first and the last bytes of each body.
  for (const size_t size : {size_t{4095}, size_t{4096}, size_t{4097}, size_t{70000}}) {
    for (const size_t other : {size_t{100}, size_t{5000}}) {
      auto body = [](size_t n) {
        std::string b = test::kVisa + " " + test::kEmail + " ";
        const std::string tail = " " + test::kAwsKey;
        b += std::string(n - b.size() - tail.size(), 'z');
        return b + tail;
      };
      HttpExchange ex = exchange("/?e=" + test::kEmail, {{"X-Key", test::kAwsKey}}, body(size),
                                 {{"X-Mail", test::kEmail}}, body(other));
      ASSERT_EQ(ex.request->body.data.size(), size);
      EXPECT_EQ(scan(ex), (Findings{{"email", "request.url", 1, false},
                                    {"aws_access_key", "request.header:X-Key", 1, false},
                                    {"credit_card", "request.body", 1, false},
                                    {"email", "request.body", 1, false},
                                    {"aws_access_key", "request.body", 1, false},
                                    {"email", "response.header:X-Mail", 1, false},
                                    {"credit_card", "response.body", 1, false},
                                    {"email", "response.body", 1, false},
                                    {"aws_access_key", "response.body", 1, false}}))
          << size << " " << other;
    }
  }
}

TEST(Auditor, RepeatedHeaderReportedWhereItFirstAppears) {
  HttpExchange ex = exchange("/", {{"X-Note", "nothing here"},
                                   {"X-Other", "x"},
                                   {"X-Note", test::kEmail},
                                   {"X-Note", "and " + test::kEmail}});
  EXPECT_EQ(scan(ex), (Findings{{"email", "request.header:X-Note", 2, false}}));
  // Names are compared as sent: another spelling is another location.
  ex = exchange("/", {{"x-note", test::kEmail}, {"X-Note", test::kEmail}});
  EXPECT_EQ(scan(ex), (Findings{{"email", "request.header:x-note", 1, false},
                                {"email", "request.header:X-Note", 1, false}}));
}

TEST(Auditor, JwtWithALongHeader) {
  // {"alg":"HS256","kid":"<400 x k>"}: decoded beyond the stack buffer.
  const std::string header_json = "{\"alg\":\"HS256\",\"kid\":\"" + std::string(400, 'k') + "\"}";
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string header;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : header_json) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      header.push_back(kAlphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) header.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  ASSERT_GT(header.size(), 512u);
  EXPECT_EQ(count_in_body("jwt", header + ".eyJzdWIiOiIxIn0.c2ln"), 1u);
}

TEST(Auditor, MillisecondTimestampsAndIdsAreNotCards) {
  std::string body = "[";
  for (int i = 0; i < 200; ++i) {
    body += "{\"ts\":" + std::to_string(1700000000000LL + i * 7919) +
            ",\"id\":" + std::to_string(9100000000000000LL + i * 104729) + "},";
  }
  body += "{}]";
  EXPECT_EQ(count_in_body("credit_card", body), 0u);
  // One real card among them still counts.
  body.insert(1, "4111111111111111,");
  EXPECT_EQ(count_in_body("credit_card", body), 1u);
}

// --- settings ------------------------------------------------------------

TEST(Auditor, DisabledFindsNothing) {
  Result<Auditor> a = Auditor::make({.enabled = false});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->scan(request_body(test::kVisa + " " + test::kEmail)), Findings{});
}

TEST(Auditor, ChosenDetectors) {
  Result<Auditor> a = Auditor::make({.detectors = {"credit_card", "jwt"}});
  ASSERT_TRUE(a.ok()) << a.error().message;
  HttpExchange ex = request_body(test::kVisa + " " + test::kEmail + " " + test::kJwt);
  EXPECT_EQ(a->scan(ex), (Findings{{"credit_card", "request.body", 1, false},
                                   {"jwt", "request.body", 1, false}}));
  // Without any Hyperscan detector there is no database: the digit scans alone.
  Result<Auditor> digits_only = Auditor::make({.detectors = {"iban"}});
  ASSERT_TRUE(digits_only.ok());
  EXPECT_EQ(digits_only->scan(request_body(test::kIban + " " + test::kEmail)),
            (Findings{{"iban", "request.body", 1, false}}));
}

TEST(Auditor, UnknownDetectorIsAnError) {
  Result<Auditor> a = Auditor::make({.detectors = {"credit_card", "ssn"}});
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().message,
            "unknown audit detector 'ssn' (known: credit_card, iban, email, jwt, private_key, "
            "aws_access_key, github_token, gitlab_token, slack_token, high_entropy)");
}

TEST(Auditor, MovedAuditorStillScans) {
  Result<Auditor> a = Auditor::make({});
  ASSERT_TRUE(a.ok());
  Auditor moved = std::move(a).value();
  Auditor again = std::move(moved);
  EXPECT_EQ(again.scan(request_body(test::kEmail)), (Findings{{"email", "request.body", 1, false}}));
}

}  // namespace
}  // namespace qtap
