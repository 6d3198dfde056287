#include "output/request_url.h"

#include <gtest/gtest.h>

namespace qtap {
namespace {

struct Case {
  std::string method = "GET";
  std::string target;
  std::vector<Header> headers;
  bool tls = false;
  Direction direction = Direction::kEgress;
  Endpoint local{"10.0.0.2", 41000};
  Endpoint remote{"93.184.216.34", 80};
};

struct Expect {
  std::string url, authority, path;
};

Expect compose(const Case& c) {
  HttpRequest req;
  req.method = c.method;
  req.target = c.target;
  req.headers = c.headers;
  ConnectionContext conn;
  conn.tls = c.tls;
  conn.direction = c.direction;
  conn.local = c.local;
  conn.remote = c.remote;
  const RequestUrl u(req, conn);
  return {u.url(), std::string(u.authority()), std::string(u.path())};
}

void expect_url(const Case& c, const Expect& want) {
  const Expect got = compose(c);
  EXPECT_EQ(got.url, want.url) << c.target;
  EXPECT_EQ(got.authority, want.authority) << c.target;
  EXPECT_EQ(got.path, want.path) << c.target;
}

TEST(RequestUrl, OriginFormWithHost) {
  expect_url({.target = "/x?y=1", .headers = {{"Host", "example.com"}}},
             {"http://example.com/x?y=1", "example.com", "/x?y=1"});
}

TEST(RequestUrl, HostHeaderIsCaseInsensitiveAndTrimmed) {
  expect_url({.target = "/", .headers = {{"Accept", "*/*"}, {"hOST", " example.com:8080\t"}}},
             {"http://example.com:8080/", "example.com:8080", "/"});
}

TEST(RequestUrl, TlsGivesHttps) {
  expect_url({.target = "/a", .headers = {{"Host", "example.com"}}, .tls = true},
             {"https://example.com/a", "example.com", "/a"});
}

TEST(RequestUrl, NoHostUsesRemoteOnEgress) {
  expect_url({.target = "/a"}, {"http://93.184.216.34:80/a", "93.184.216.34:80", "/a"});
  expect_url({.target = "/a", .direction = Direction::kUnknown},
             {"http://93.184.216.34:80/a", "93.184.216.34:80", "/a"});
}

TEST(RequestUrl, NoHostUsesLocalOnIngress) {
  expect_url({.target = "/a", .direction = Direction::kIngress, .local = {"10.0.0.2", 8080}},
             {"http://10.0.0.2:8080/a", "10.0.0.2:8080", "/a"});
}

TEST(RequestUrl, EmptyHostFallsBackToAddress) {
  expect_url({.target = "/", .headers = {{"Host", "  "}}},
             {"http://93.184.216.34:80/", "93.184.216.34:80", "/"});
}

TEST(RequestUrl, Ipv6AddressInBrackets) {
  expect_url({.target = "/v6", .tls = true, .remote = {"2001:db8::1", 443}},
             {"https://[2001:db8::1]:443/v6", "[2001:db8::1]:443", "/v6"});
}

TEST(RequestUrl, AbsoluteFormKeptAsIs) {
  // A proxy request: the target wins over Host and over the connection's TLS.
  expect_url(
      {.target = "http://example.com:8080/p?q=1", .headers = {{"Host", "other"}}, .tls = true},
      {"http://example.com:8080/p?q=1", "example.com:8080", "/p?q=1"});
  expect_url({.target = "HTTPS://user:pw@example.com/"},
             {"HTTPS://user:pw@example.com/", "example.com", "/"});
}

TEST(RequestUrl, AbsoluteFormWithoutPath) {
  expect_url({.target = "http://example.com"}, {"http://example.com", "example.com", "/"});
  expect_url({.target = "http://example.com?q"}, {"http://example.com?q", "example.com", "/?q"});
}

TEST(RequestUrl, ConnectAuthorityForm) {
  expect_url({.method = "CONNECT", .target = "example.com:443"},
             {"http://example.com:443", "example.com:443", ""});
}

TEST(RequestUrl, AsteriskForm) {
  expect_url({.method = "OPTIONS", .target = "*", .headers = {{"Host", "h"}}},
             {"http://h", "h", "*"});
}

TEST(RequestUrl, Http2PseudoHeaders) {
  // :scheme and :authority, first in the headers, win over the connection and Host.
  expect_url(
      {.target = "/api?x=1",
       .headers = {{":scheme", "https"}, {":authority", "api.example.com"}, {"host", "other"}}},
      {"https://api.example.com/api?x=1", "api.example.com", "/api?x=1"});
  expect_url({.target = "/g.S/M",
              .headers = {{":scheme", "http"}, {":authority", "localhost:50051"}},
              .tls = true},
             {"http://localhost:50051/g.S/M", "localhost:50051", "/g.S/M"});
  // Without :authority (allowed with a Host header), Host; without :scheme, the connection.
  expect_url({.target = "/", .headers = {{":scheme", "https"}, {"host", "h.example"}}},
             {"https://h.example/", "h.example", "/"});
  expect_url({.target = "/", .headers = {{":authority", "a.example"}}, .tls = true},
             {"https://a.example/", "a.example", "/"});
  // Only leading pseudo-headers count.
  expect_url({.target = "/", .headers = {{"x", "y"}, {":authority", "late.example"}}},
             {"http://93.184.216.34:80/", "93.184.216.34:80", "/"});
  // HTTP/2 CONNECT: the parser sets the target to :authority.
  expect_url({.method = "CONNECT",
              .target = "proxy.example:443",
              .headers = {{":authority", "proxy.example:443"}}},
             {"http://proxy.example:443", "proxy.example:443", ""});
}

}  // namespace
}  // namespace qtap
