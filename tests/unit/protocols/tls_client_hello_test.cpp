// SNI from a ClientHello: a real one (Python's ssl, OpenSSL 3), every
// truncation of it, hand-made variants and hostile lengths.
#include "protocols/tls_client_hello.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace qtap {
namespace {

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::string real_hello() {
  std::ifstream f(std::string(QTAP_FIXTURES) + "/tls/client_hello_api.example.com.hex");
  std::string hex;
  f >> hex;
  return from_hex(hex);
}

std::string be16(size_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v)}; }

// A minimal ClientHello with the given extensions block.
std::string hello_with(const std::string& exts) {
  std::string body = std::string("\x03\x03", 2) + std::string(32, 'r') + std::string(1, '\0') +
                     be16(2) + std::string("\x13\x01", 2) + std::string("\x01\x00", 2) + be16(exts.size()) + exts;
  std::string hs = std::string(1, '\x01') + std::string(1, '\0') + be16(body.size()) + body;
  return std::string("\x16\x03\x01", 3) + be16(hs.size()) + hs;
}

std::string sni_ext(const std::string& host, uint8_t name_type = 0) {
  std::string entry = std::string(1, static_cast<char>(name_type)) + be16(host.size()) + host;
  std::string list = be16(entry.size()) + entry;
  return be16(0) + be16(list.size()) + list;
}

TEST(ClientHelloSni, RealClientHello) {
  std::string sni;
  std::string hello = real_hello();
  ASSERT_GT(hello.size(), 200u);
  EXPECT_EQ(parse_client_hello_sni(hello, sni), SniResult::kFound);
  EXPECT_EQ(sni, "api.example.com");
}

TEST(ClientHelloSni, EveryTruncationAsksForMore) {
  std::string hello = real_hello();
  for (size_t n = 1; n < hello.size(); ++n) {
    std::string sni;
    EXPECT_EQ(parse_client_hello_sni(std::string_view(hello).substr(0, n), sni), SniResult::kNeedMore) << n;
  }
}

TEST(ClientHelloSni, HandMadeVariants) {
  std::string sni;
  std::string other_ext = be16(23) + be16(0);  // extended_master_secret, empty
  EXPECT_EQ(parse_client_hello_sni(hello_with(other_ext + sni_ext("b.example")), sni), SniResult::kFound);
  EXPECT_EQ(sni, "b.example");
  sni.clear();
  EXPECT_EQ(parse_client_hello_sni(hello_with(other_ext), sni), SniResult::kNone);
  EXPECT_EQ(parse_client_hello_sni(hello_with(sni_ext("x", 1)), sni), SniResult::kNone);  // not host_name
  EXPECT_EQ(parse_client_hello_sni(hello_with(sni_ext("bad host\n")), sni), SniResult::kNone);
  EXPECT_TRUE(sni.empty());
}

TEST(ClientHelloSni, NotAClientHello) {
  std::string sni;
  EXPECT_EQ(parse_client_hello_sni("GET / HTTP/1.1\r\nHost: x\r\n\r\n", sni), SniResult::kNotClientHello);
  EXPECT_EQ(parse_client_hello_sni("PRI * HTTP/2.0\r\n", sni), SniResult::kNotClientHello);
  // A ServerHello (handshake type 2).
  std::string server_hello = hello_with("");
  server_hello[5] = 2;
  EXPECT_EQ(parse_client_hello_sni(server_hello, sni), SniResult::kNotClientHello);
}

TEST(ClientHelloSni, HostileLengthsNeverReadPastTheBuffer) {
  std::string hello = hello_with(sni_ext("c.example"));
  for (size_t i = 5; i < hello.size(); ++i) {
    for (uint8_t v : {uint8_t{0}, uint8_t{0x7f}, uint8_t{0xff}}) {
      std::string h = hello;
      h[i] = static_cast<char>(v);
      std::string sni;
      SniResult r = parse_client_hello_sni(h, sni);
      if (r == SniResult::kFound) {
        EXPECT_FALSE(sni.empty());
      }
    }
  }
}

}  // namespace
}  // namespace qtap
