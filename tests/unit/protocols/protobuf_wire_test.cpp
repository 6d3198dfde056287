#include "protocols/protobuf_wire.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

namespace qtap {
namespace {

std::string varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}
std::string tag(uint32_t field, int type) { return varint((uint64_t{field} << 3) | type); }
std::string v(uint32_t field, uint64_t x) { return tag(field, 0) + varint(x); }
std::string ld(uint32_t field, std::string_view b) {
  return tag(field, 2) + varint(b.size()) + std::string(b);
}
std::string f32(uint32_t field, uint32_t x) {
  std::string s = tag(field, 5);
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>(x >> (8 * i)));
  return s;
}
std::string f64(uint32_t field, uint64_t x) {
  std::string s = tag(field, 1);
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(x >> (8 * i)));
  return s;
}

std::string json(std::string_view bytes, int depth = 8, size_t max_output = 64 * 1024) {
  const std::optional<std::string> j = protobuf_to_json(bytes, depth, max_output);
  EXPECT_TRUE(j.has_value());
  if (!j) return "<nullopt>";
  EXPECT_TRUE(nlohmann::json::accept(*j)) << *j;
  return *j;
}

TEST(ProtobufWire, Scalars) {
  EXPECT_EQ(json(v(1, 150)), R"({"1":150})");
  EXPECT_EQ(json(v(2, 0)), R"({"2":0})");
  EXPECT_EQ(json(v(1, uint64_t{1} << 53)), R"({"1":9007199254740992})");
  EXPECT_EQ(json(v(1, (uint64_t{1} << 53) + 1)), R"({"1":"9007199254740993"})");
  EXPECT_EQ(json(v(1, UINT64_MAX)), R"({"1":"18446744073709551615"})");
  EXPECT_EQ(json(f32(3, 0xdeadbeef)), R"({"3":3735928559})");
  EXPECT_EQ(json(f64(4, 1234567)), R"({"4":1234567})");
  EXPECT_EQ(json(f64(4, UINT64_MAX)), R"({"4":"18446744073709551615"})");
  EXPECT_EQ(json(v(536870911, 1)), R"({"536870911":1})");  // the largest field number
}

TEST(ProtobufWire, EmptyMessageAndEmptyField) {
  EXPECT_EQ(json(""), "{}");
  EXPECT_EQ(json(ld(1, "")), R"({"1":""})");
}

TEST(ProtobufWire, FieldsInNumberOrderRepeatedAsArrays) {
  EXPECT_EQ(json(v(2, 20) + v(1, 10) + v(2, 21) + ld(3, "a") + v(2, 22)),
            R"({"1":10,"2":[20,21,22],"3":"a"})");
}

TEST(ProtobufWire, NestedMessages) {
  const std::string inner = ld(1, "hello") + v(2, 5);
  EXPECT_EQ(json(ld(3, inner) + v(1, 1)), R"({"1":1,"3":{"1":"hello","2":5}})");
  EXPECT_EQ(json(ld(1, ld(1, ld(1, v(1, 7))))), R"({"1":{"1":{"1":{"1":7}}}})");
  // Repeated messages.
  EXPECT_EQ(json(ld(5, v(1, 1)) + ld(5, v(1, 2))), R"({"5":[{"1":1},{"1":2}]})");
}

TEST(ProtobufWire, StringsBytesOrMessages) {
  // "hi" parses as field 13 = 105, but printable text wins unless it starts with a control.
  EXPECT_EQ(json(ld(1, "hi")), R"({"1":"hi"})");
  EXPECT_EQ(json(ld(1, "Zoë ünïcödé €")), R"({"1":"Zoë ünïcödé €"})");
  EXPECT_EQ(json(ld(1, "quote \" back\\slash\nline\ttab\r")),
            R"({"1":"quote \" back\\slash\nline\ttab\r"})");
  // Not UTF-8, or control characters: bytes.
  EXPECT_EQ(json(ld(2, std::string("\xff\xfe\x00\x01", 4))), R"({"2":{"bytes":"//4AAQ=="}})");
  EXPECT_EQ(json(ld(2, std::string("a\x01"
                                   "b",
                                   3))),
            R"({"2":{"bytes":"YQFi"}})");
  EXPECT_EQ(json(ld(2, "abcd\x7f")), R"({"2":{"bytes":"YWJjZH8="}})");
  EXPECT_EQ(json(ld(2, "\xc2\x85")), R"({"2":{"bytes":"woU="}})");  // C1 control U+0085
  // A message whose first field is 1 starts with "\n" (0x0a): a message, though printable.
  EXPECT_EQ(json(ld(1, ld(1, std::string(40, 'x')))),
            "{\"1\":{\"1\":\"" + std::string(40, 'x') + "\"}}");
}

TEST(ProtobufWire, InvalidInputIsRefused) {
  EXPECT_FALSE(protobuf_to_json(std::string("\x08", 1)));          // varint value missing
  EXPECT_FALSE(protobuf_to_json(std::string("\x08\x96", 2)));      // varint cut
  EXPECT_FALSE(protobuf_to_json(tag(1, 2) + varint(10) + "abc"));  // length past the end
  EXPECT_FALSE(protobuf_to_json(tag(1, 2) + varint(UINT64_MAX)));
  EXPECT_FALSE(protobuf_to_json(tag(1, 1) + "1234567"));       // fixed64 cut
  EXPECT_FALSE(protobuf_to_json(tag(1, 5) + "123"));           // fixed32 cut
  EXPECT_FALSE(protobuf_to_json(tag(1, 3) + tag(1, 4)));       // a group
  EXPECT_FALSE(protobuf_to_json(tag(1, 6)));                   // undefined wire type
  EXPECT_FALSE(protobuf_to_json(std::string("\x00\x01", 2)));  // field number 0
  EXPECT_FALSE(protobuf_to_json(tag(1, 0) + std::string(10, '\xff') + "\x01"));  // 11-byte varint
  EXPECT_FALSE(protobuf_to_json(tag(1, 0) + std::string(9, '\xff') + "\x02"));   // past 64 bits
  EXPECT_FALSE(protobuf_to_json(varint(uint64_t{1} << 32)));  // field number too large
  EXPECT_FALSE(protobuf_to_json("GET / HTTP/1.1\r\n"));
}

TEST(ProtobufWire, DepthIsBounded) {
  // 200 levels of {"1": ...}: nesting stops at max_depth, the rest is shown as bytes.
  std::string m = v(1, 1);
  for (int i = 0; i < 200; ++i) m = ld(1, m);
  const std::string j = json(m, 4);
  EXPECT_EQ(j.rfind(R"({"1":{"1":{"1":{"1":{"bytes":")", 0), 0u) << j;
  const auto parsed = nlohmann::json::parse(j);
  EXPECT_TRUE(parsed["1"]["1"]["1"]["1"].contains("bytes"));
  // Depth beyond 64 is clamped; nothing recurses deeper.
  EXPECT_TRUE(nlohmann::json::accept(json(m, 1000)));
  EXPECT_EQ(json(ld(1, v(1, 1)), 1), R"({"1":{"bytes":"CAE="}})");
}

TEST(ProtobufWire, OutputIsBounded) {
  std::string m;
  for (int i = 0; i < 5000; ++i) m += v(1 + i % 7, i) + ld(9, "some text");
  const std::string j = json(m, 8, 1000);
  EXPECT_LE(j.size(), 1000u);
  EXPECT_NE(j.find(R"("_truncated":true)"), std::string::npos);
  EXPECT_EQ(j.back(), '}');
  // Inside nested messages and arrays too.
  std::string nested;
  for (int i = 0; i < 300; ++i) nested += ld(2, ld(1, std::string(20, 'n')) + v(2, i));
  const std::string k = json(ld(1, nested), 8, 500);
  EXPECT_LE(k.size(), 500u);
  EXPECT_EQ(nlohmann::json::parse(k)["_truncated"], true);
  // A single value too large for the budget: nothing but the marker.
  EXPECT_EQ(json(ld(1, std::string(200, 'x')), 8, 100), R"({"_truncated":true})");
}

TEST(ProtobufWire, HostileInputNeverCrashes) {
  std::mt19937 rng(1);
  int decoded = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string b(rng() % 64, '\0');
    for (char& c : b) c = static_cast<char>(rng() % 4 == 0 ? rng() % 0x20 : rng());
    // Some rounds wrap random bytes as fields, to get deeper.
    if (round % 2 == 0) b = ld(1 + rng() % 5, b) + v(2, rng());
    const std::optional<std::string> j = protobuf_to_json(b, 1 + rng() % 10, 64 + rng() % 512);
    if (!j) continue;
    ++decoded;
    ASSERT_TRUE(nlohmann::json::accept(*j)) << *j;
  }
  EXPECT_GT(decoded, 5000);
}

}  // namespace
}  // namespace qtap
