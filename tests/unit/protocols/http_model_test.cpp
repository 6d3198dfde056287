#include "protocols/http_model.h"

#include <gtest/gtest.h>

namespace qtap {
namespace {

TEST(FindHeader, IsCaseInsensitiveAndReturnsTheFirst) {
  std::vector<Header> hs = {{"Host", "a"}, {"X-Dup", "1"}, {"x-dup", "2"}};
  ASSERT_NE(find_header(hs, "host"), nullptr);
  EXPECT_EQ(find_header(hs, "HOST")->value, "a");
  EXPECT_EQ(find_header(hs, "X-DUP")->value, "1");
  EXPECT_EQ(find_header(hs, "x-dup"), &hs[1]);
  EXPECT_EQ(find_header(hs, "Hos"), nullptr);
  EXPECT_EQ(find_header({}, "Host"), nullptr);
}

TEST(IequalsAscii, OnlyLettersFoldCase) {
  EXPECT_TRUE(iequals_ascii("Content-Length", "content-length"));
  EXPECT_TRUE(iequals_ascii("", ""));
  EXPECT_FALSE(iequals_ascii("abc", "abcd"));
  // '@' (0x40) and '`' (0x60) differ only in the case bit but are not letters.
  EXPECT_FALSE(iequals_ascii("@", "`"));
  EXPECT_FALSE(iequals_ascii("[", "{"));
}

}  // namespace
}  // namespace qtap
