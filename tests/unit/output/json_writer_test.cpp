#include "output/json_writer.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace qtap::json {
namespace {

// The inside of a string value, as the writer produced it.
std::string unquoted(const Writer& w) {
  const std::string_view v = w.view();
  EXPECT_GE(v.size(), 2u);
  EXPECT_EQ(v.front(), '"');
  EXPECT_EQ(v.back(), '"');
  return std::string(v.substr(1, v.size() - 2));
}

std::string escaped(std::string_view s) {
  Writer w;
  w.string(s);
  return unquoted(w);
}

std::string base64(std::string_view s) {
  Writer w;
  w.base64(s);
  return unquoted(w);
}

std::string rfc3339(int64_t ns) {
  Writer w;
  w.rfc3339_micros(ns);
  return unquoted(w);
}

// Reference decoder, independent of the encoder's table.
std::string decode_base64(std::string_view s) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    const int v = value(c);
    EXPECT_GE(v, 0) << "bad base64 char " << c;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

TEST(Utf8, AcceptsWellFormed) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii, long enough to take the 8-byte path"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9"));                   // U+00E9
  EXPECT_TRUE(is_valid_utf8("\xe2\x82\xac"));                  // U+20AC
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));              // U+1F600
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));              // U+10FFFF
  EXPECT_TRUE(is_valid_utf8("\xed\x9f\xbf"));                  // U+D7FF
  EXPECT_TRUE(is_valid_utf8("\xee\x80\x80"));                  // U+E000
  EXPECT_TRUE(is_valid_utf8(std::string("nul\0inside", 10)));  // NUL is valid UTF-8
}

TEST(Utf8, RejectsMalformed) {
  EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation
  EXPECT_FALSE(is_valid_utf8("abc\xc3"));           // cut sequence
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xc1\xbf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong 3-byte
  EXPECT_FALSE(is_valid_utf8("\xf0\x80\x80\xaf"));  // overlong 4-byte
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xed\xbf\xbf"));      // surrogate U+DFFF
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));  // lead > F4
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xe2\x28\xa1"));  // bad continuation
  EXPECT_FALSE(is_valid_utf8("12345678\xe9 after the fast path"));
}

TEST(Escape, ShortFormsAndQuotes) {
  EXPECT_EQ(escaped("a\"b\\c/d"), "a\\\"b\\\\c/d");
  EXPECT_EQ(escaped("\b\f\n\r\t"), "\\b\\f\\n\\r\\t");
  EXPECT_EQ(escaped(std::string("\0\x01\x1f\x7f", 4)), "\\u0000\\u0001\\u001f\x7f");
  EXPECT_EQ(escaped(""), "");
}

TEST(Escape, EveryControlCharRoundTrips) {
  for (int c = 0; c < 0x20; ++c) {
    const std::string s = "x" + std::string(1, static_cast<char>(c)) + "y";
    const std::string text = "\"" + escaped(s) + "\"";
    for (char ch : text) EXPECT_GE(static_cast<unsigned char>(ch), 0x20) << "raw control " << c;
    EXPECT_EQ(nlohmann::json::parse(text).get<std::string>(), s) << "char " << c;
  }
}

TEST(Escape, InvalidUtf8BytesReadAsLatin1) {
  EXPECT_EQ(escaped("caf\xe9"), "caf\\u00e9");
  EXPECT_EQ(escaped("\xff\xfe"), "\\u00ff\\u00fe");
  EXPECT_EQ(escaped("\xed\xa0\x80"), "\\u00ed\\u00a0\\u0080");    // surrogate: each byte
  EXPECT_EQ(escaped("ok \xc3\xa9 \xc3"), "ok \xc3\xa9 \\u00c3");  // valid kept, cut one escaped
  EXPECT_EQ(nlohmann::json::parse("\"" + escaped("caf\xe9") + "\"").get<std::string>(),
            "caf\xc3\xa9");
}

// Byte-by-byte reference for the block-wise escaper, with its own UTF-8 rules.
size_t reference_sequence_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

std::string reference_escape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t len = reference_sequence_length(s, i);
    if (c >= 0x80 && len > 0) {
      out.append(s.substr(i, len));
      i += len;
      continue;
    }
    static const char* const kShort[] = {"\\\"", "\\\\", "\\b", "\\f", "\\n", "\\r", "\\t"};
    const char* const kChars = "\"\\\b\f\n\r\t";
    if (const char* at = c != 0 ? std::strchr(kChars, c) : nullptr) {
      out += kShort[at - kChars];
    } else if (c < 0x20 || c >= 0x80) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
    ++i;
  }
  return out;
}

bool reference_valid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t len = reference_sequence_length(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

// Strings built from pieces that stress the block boundaries: runs of plain
// ASCII of every length, quotes, controls, valid and broken UTF-8.
TEST(Escape, MatchesReferenceOnRandomMixes) {
  const std::string pieces[] = {"a",
                                "bcdefgh",
                                "0123456789abcdef",
                                "\"",
                                "\\",
                                "\n",
                                "\x01",
                                "\x1f",
                                "\x7f",
                                "\xc3\xa9",
                                "\xe2\x82\xac",
                                "\xf0\x9f\x98\x80",
                                "\xc3",
                                "\xe2\x82",
                                "\xff",
                                "\xed\xa0\x80",
                                "\xc0\xaf",
                                "\x80",
                                " ",
                                "/"};
  std::mt19937 rng(7);
  Writer w;
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    const int count = static_cast<int>(rng() % 12);
    for (int k = 0; k < count; ++k) {
      const std::string& piece = pieces[rng() % std::size(pieces)];
      const int repeat = rng() % 4 == 0 ? static_cast<int>(rng() % 40) : 1;
      for (int r = 0; r < repeat; ++r) s += piece;
    }
    w.clear();
    w.string(s);
    ASSERT_EQ(std::string(w.view()), "\"" + reference_escape(s) + "\"") << "round " << round;
    ASSERT_EQ(is_valid_utf8(s), reference_valid(s)) << "round " << round;
    w.clear();
    const bool strict = w.string_if_utf8(s);
    ASSERT_EQ(strict, reference_valid(s)) << "round " << round;
    if (strict) {
      ASSERT_EQ(std::string(w.view()), "\"" + reference_escape(s) + "\"");
    }
  }
}

TEST(Escape, RandomBytesAlwaysGiveValidJson) {
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    const std::string text = "\"" + escaped(s) + "\"";
    ASSERT_TRUE(is_valid_utf8(text));
    ASSERT_NO_THROW(nlohmann::json::parse(text)) << text;
    if (is_valid_utf8(s)) {
      EXPECT_EQ(nlohmann::json::parse(text).get<std::string>(), s);
    }
  }
}

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
}

TEST(Base64, RoundTripsEveryLengthAndByte) {
  std::string all;
  for (int i = 0; i < 300; ++i) all.push_back(static_cast<char>(i * 7 + 3));
  for (size_t n = 0; n <= all.size(); ++n) {
    const std::string in = all.substr(0, n);
    const std::string enc = base64(in);
    EXPECT_EQ(enc.size(), (n + 2) / 3 * 4);
    EXPECT_EQ(decode_base64(enc), in) << "length " << n;
  }
}

TEST(Time, SameWriterAcrossSeconds) {
  // The writer keeps the text of the last second: it must follow any jump.
  Writer w;
  w.begin_array();
  for (int64_t ns : {int64_t{1795931703'123456789}, int64_t{1795931703'999999999},
                     int64_t{1795931704'000000000}, int64_t{-1}, int64_t{1795931703'000001000}}) {
    w.rfc3339_micros(ns);
  }
  w.end_array();
  EXPECT_EQ(w.view(), R"(["2026-11-29T05:55:03.123456Z","2026-11-29T05:55:03.999999Z",)"
                      R"("2026-11-29T05:55:04.000000Z","1969-12-31T23:59:59.999999Z",)"
                      R"("2026-11-29T05:55:03.000001Z"])");
}

TEST(Time, Rfc3339Micros) {
  EXPECT_EQ(rfc3339(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(rfc3339(1795931703'123456789), "2026-11-29T05:55:03.123456Z");
  EXPECT_EQ(rfc3339(951868799'999999000), "2000-02-29T23:59:59.999999Z");
  EXPECT_EQ(rfc3339(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(rfc3339(-1'000'000'000), "1969-12-31T23:59:59.000000Z");
}

TEST(Writer, CommasAndNesting) {
  Writer w;
  w.begin_object();
  w.key("a").uint(1);
  w.key("b").begin_array().sint(-2).boolean(true).null().string("s").end_array();
  w.key("c").begin_object().end_object();
  w.key("d").optional_string(std::nullopt);
  w.key("e").optional_string("x");
  w.key("f").string_parts(std::array<std::string_view, 4>{"ht", "tp", "", ":\n//"});
  w.end_object();
  EXPECT_EQ(w.view(), R"({"a":1,"b":[-2,true,null,"s"],"c":{},"d":null,"e":"x","f":"http:\n//"})");
}

TEST(Writer, Numbers) {
  Writer w;
  w.begin_array();
  w.number(3.4).number(0).number(1.5e-3).number(std::numeric_limits<double>::quiet_NaN());
  w.number(std::numeric_limits<double>::infinity());
  w.uint(std::numeric_limits<uint64_t>::max()).sint(std::numeric_limits<int64_t>::min());
  w.end_array();
  EXPECT_EQ(w.view(), "[3.4,0,0.0015,null,null,18446744073709551615,-9223372036854775808]");
}

TEST(Writer, NumberThreeDecimals) {
  Writer w;
  w.begin_array();
  for (double v : {3.4, 0.1 + 0.2, 12.3456789, 1.0, 0.0, -2.5, 0.0004, 0.0005, -0.0001, 1000.01,
                   123456789.125, 1e13}) {
    w.number_3dp(v);
  }
  w.number_3dp(std::numeric_limits<double>::quiet_NaN());
  w.end_array();
  EXPECT_EQ(w.view(), "[3.4,0.3,12.346,1,0,-2.5,0,0.001,0,1000.01,123456789.125,1e+13,null]");
}

TEST(Writer, GrowsThroughLongEscapedStrings) {
  // Every byte escaped to six: the reservation must keep up past the
  // initial buffer, also when the string is split into parts.
  const std::string controls(10000, '\x01');
  std::string want;
  for (size_t i = 0; i < controls.size(); ++i) want += "\\u0001";
  EXPECT_EQ(escaped(controls), want);

  Writer w;
  w.string_parts(std::array<std::string_view, 3>{controls, "\"", controls});
  EXPECT_EQ(unquoted(w), want + "\\\"" + want);
  EXPECT_EQ(nlohmann::json::parse(w.view()).get<std::string>(), controls + "\"" + controls);
}

TEST(Writer, StringIfUtf8AndRewind) {
  Writer w;
  w.begin_array().string("a");
  const Writer::Mark m = w.mark();
  EXPECT_TRUE(w.string_if_utf8("caf\xc3\xa9"));
  EXPECT_EQ(w.view(), "[\"a\",\"caf\xc3\xa9\"");
  w.rewind(m);
  EXPECT_FALSE(w.string_if_utf8(std::string(5000, 'x') + "\xe9"));
  w.rewind(m);
  w.string("b").end_array();
  EXPECT_EQ(w.view(), R"(["a","b"])");
}

TEST(Writer, ClearAndRelease) {
  Writer w;
  w.string(std::string(100000, 'x'));
  w.release_if_larger(1 << 20);
  EXPECT_EQ(w.view().size(), 100002u);
  w.release_if_larger(4096);
  EXPECT_EQ(w.view().size(), 0u);
  w.clear();
  w.begin_object().key("k").null().end_object();
  EXPECT_EQ(w.view(), R"({"k":null})");
  w.clear();
  w.uint(7);
  EXPECT_EQ(w.view(), "7");
}

}  // namespace
}  // namespace qtap::json
