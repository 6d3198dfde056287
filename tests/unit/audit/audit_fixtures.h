// Exchanges and secret-shaped samples for the audit and redaction tests. The
// samples are well-known test values or made up; none is a live credential.
#pragma once

#include <string>
#include <vector>

#include "protocols/http_model.h"

namespace qtap::test {

// A JWT from jwt.io: {"alg":"HS256","typ":"JWT"}.{"sub":"1234567890",...}.sig
inline const std::string kJwt =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
inline const std::string kAwsKey = "AKIAIOSFODNN7EXAMPLE";
inline const std::string kGithubToken = "ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5";
inline const std::string kGitlabToken = "glpat-xY7_zQ2-wE9rT4yU1iO0";
inline const std::string kSlackToken = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx";
inline const std::string kSlackWebhook =
    "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX";
inline const std::string kRandomToken = "Zx8Qp3LmT7vN2bK9wR4sY6uH1jD5fG0aE8cV3nXq";  // 40 chars
inline const std::string kVisa = "4111 1111 1111 1111";
inline const std::string kIban = "DE89 3704 0044 0532 0130 00";
inline const std::string kEmail = "alice.smith+news@mail.example.co.uk";

inline Body text_body(std::string data) {
  Body b;
  b.size = data.size();
  b.wire_size = data.size();
  b.captured = data.size();
  b.data = std::move(data);
  return b;
}

inline HttpExchange exchange(std::string target, std::vector<Header> request_headers = {},
                             std::string request_body = "",
                             std::vector<Header> response_headers = {},
                             std::string response_body = "") {
  HttpExchange ex;
  ex.version = "HTTP/1.1";
  HttpRequest req;
  req.method = "POST";
  req.target = std::move(target);
  req.version = "HTTP/1.1";
  req.headers = std::move(request_headers);
  req.body = text_body(std::move(request_body));
  ex.request = std::move(req);
  HttpResponse resp;
  resp.status = 200;
  resp.reason = "OK";
  resp.version = "HTTP/1.1";
  resp.headers = std::move(response_headers);
  resp.body = text_body(std::move(response_body));
  ex.response = std::move(resp);
  return ex;
}

inline HttpExchange request_body(std::string body) { return exchange("/", {}, std::move(body)); }

}  // namespace qtap::test
