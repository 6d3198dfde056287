#include "protocols/content_decoding.h"

#include <gtest/gtest.h>

#include "unit/protocols/compress_util.h"

namespace qtap {
namespace {

using test::brotli;
using test::deflate_bytes;
using test::gzip;
using test::sample_text;
using test::Wrap;

constexpr uint64_t kMax = 1 << 20;

TEST(DecodeContent, GzipAndAliases) {
  std::string text = sample_text(5000);
  for (std::string_view enc : {"gzip", "x-gzip", "GZip", " gzip "}) {
    auto d = decode_content(enc, gzip(text), kMax);
    ASSERT_TRUE(d) << enc;
    EXPECT_EQ(d->data, text) << enc;
    EXPECT_TRUE(d->complete) << enc;
  }
}

TEST(DecodeContent, DeflateZlibWrappedAndRaw) {
  std::string text = sample_text(3000, 7);
  auto wrapped = decode_content("deflate", deflate_bytes(text, Wrap::kZlib), kMax);
  ASSERT_TRUE(wrapped);
  EXPECT_EQ(wrapped->data, text);
  EXPECT_TRUE(wrapped->complete);
  auto raw = decode_content("deflate", deflate_bytes(text, Wrap::kRaw), kMax);
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->data, text);
  EXPECT_TRUE(raw->complete);
}

TEST(DecodeContent, Brotli) {
  std::string text = sample_text(40000, 3);  // several scratch buffers of output
  auto d = decode_content("br", brotli(text), kMax);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->data, text);
  EXPECT_TRUE(d->complete);
}

TEST(DecodeContent, ListIsUndoneRightToLeft) {
  std::string text = sample_text(2000, 9);
  // "gzip, br": gzip was applied first, then br.
  auto d = decode_content("gzip, br", brotli(gzip(text)), kMax);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->data, text);
  EXPECT_TRUE(d->complete);
  EXPECT_FALSE(decode_content("br, gzip", brotli(gzip(text)), kMax));
}

TEST(DecodeContent, IdentityAndEmptyListPassThrough) {
  auto d = decode_content("identity", "abc", kMax);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->data, "abc");
  EXPECT_TRUE(d->complete);
  auto cut = decode_content("", "abcdef", 4);
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->data, "abcd");
  EXPECT_FALSE(cut->complete);
}

TEST(DecodeContent, UnknownEncodingIsNullopt) {
  EXPECT_FALSE(decode_content("zstd", "abc", kMax));
  EXPECT_FALSE(decode_content("gzip, compress", gzip("x"), kMax));
}

TEST(DecodeContent, InvalidDataIsNullopt) {
  EXPECT_FALSE(decode_content("gzip", "this is not gzip at all", kMax));
  EXPECT_FALSE(decode_content("br", test::random_bytes(300, 5), kMax));
  std::string bad = gzip(sample_text(1000));
  bad[20] = static_cast<char>(bad[20] ^ 0x55);  // corrupt the deflate data
  bad[21] = static_cast<char>(bad[21] ^ 0x55);
  EXPECT_FALSE(decode_content("gzip", bad, kMax));
}

TEST(DecodeContent, TruncatedInputYieldsAPrefix) {
  std::string text = sample_text(50000, 11);
  for (std::string_view enc : {"gzip", "deflate", "br"}) {
    std::string full = enc == "br"        ? brotli(text)
                       : enc == "deflate" ? deflate_bytes(text, Wrap::kZlib)
                                          : gzip(text);
    auto d = decode_content(enc, std::string_view(full).substr(0, full.size() / 2), kMax);
    ASSERT_TRUE(d) << enc;
    EXPECT_FALSE(d->complete) << enc;
    EXPECT_GT(d->data.size(), 0u) << enc;
    EXPECT_LT(d->data.size(), text.size()) << enc;
    EXPECT_EQ(d->data, text.substr(0, d->data.size())) << enc;
  }
}

TEST(DecodeContent, OutputIsCappedAtMaxOut) {
  std::string text = sample_text(100000, 13);
  for (std::string_view enc : {"gzip", "br"}) {
    std::string full = enc == "br" ? brotli(text) : gzip(text);
    auto cut = decode_content(enc, full, 1000);
    ASSERT_TRUE(cut);
    EXPECT_EQ(cut->data, text.substr(0, 1000));
    EXPECT_FALSE(cut->complete);
    // Exactly enough room: the stream ends with nothing left over.
    auto exact = decode_content(enc, full, text.size());
    ASSERT_TRUE(exact);
    EXPECT_EQ(exact->data.size(), text.size());
    EXPECT_TRUE(exact->complete) << enc;
  }
}

TEST(DecodeContent, GzipMembersAreConcatenated) {
  auto d = decode_content("gzip", gzip("hello ") + gzip("world"), kMax);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->data, "hello world");
  EXPECT_TRUE(d->complete);
}

TEST(DecodeContent, BytesAfterTheStreamAreIgnored) {
  auto d = decode_content("gzip", gzip("hello") + std::string("\0\0\0", 3), kMax);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->data, "hello");
  EXPECT_TRUE(d->complete);
}

TEST(DecodeContent, EmptyInputIsIncomplete) {
  auto d = decode_content("gzip", "", kMax);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->data, "");
  EXPECT_FALSE(d->complete);
}

}  // namespace
}  // namespace qtap
