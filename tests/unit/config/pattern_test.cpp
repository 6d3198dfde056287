#include "config/pattern.h"

#include <gtest/gtest.h>

namespace qtap::config {
namespace {

Pattern P(std::string_view text, Pattern::Case c = Pattern::Case::kSensitive) {
  auto p = Pattern::parse(text, c);
  EXPECT_TRUE(p) << text << ": " << p.error().message;
  return p ? *p : Pattern{};
}

TEST(Pattern, KindsFromSyntax) {
  EXPECT_EQ(P("nginx").kind(), Pattern::Kind::kExact);
  EXPECT_EQ(P("/usr/bin/*").kind(), Pattern::Kind::kPrefix);
  EXPECT_EQ(P("/usr/bin/*").literal(), "/usr/bin/");
  EXPECT_EQ(P("*.example.com").kind(), Pattern::Kind::kSuffix);
  EXPECT_EQ(P("*.example.com").literal(), ".example.com");
  EXPECT_EQ(P("*token*").kind(), Pattern::Kind::kContains);
  EXPECT_EQ(P("*token*").literal(), "token");
  EXPECT_EQ(P("py*on?").kind(), Pattern::Kind::kGlob);
  EXPECT_EQ(P("a*b").kind(), Pattern::Kind::kGlob);
  EXPECT_EQ(P("*").kind(), Pattern::Kind::kPrefix);
  EXPECT_EQ(P("re:py.*").kind(), Pattern::Kind::kRegex);
  EXPECT_EQ(P("re:py.*").literal(), "py.*");
  EXPECT_NE(P("re:py.*").regex(), nullptr);
  EXPECT_EQ(P("exact:a*b").kind(), Pattern::Kind::kExact);
  EXPECT_EQ(P("exact:a*b").literal(), "a*b");
  EXPECT_EQ(P("exact:a*b").text(), "exact:a*b");
}

TEST(Pattern, Exact) {
  Pattern p = P("curl");
  EXPECT_TRUE(p.matches("curl"));
  EXPECT_FALSE(p.matches("curl2"));
  EXPECT_FALSE(p.matches("Curl"));
  EXPECT_FALSE(p.matches("xcurl"));
  EXPECT_FALSE(p.matches(""));
}

TEST(Pattern, ExactEscapeHatch) {
  Pattern p = P("exact:a*b");
  EXPECT_TRUE(p.matches("a*b"));
  EXPECT_FALSE(p.matches("axxb"));
  Pattern re = P("exact:re:x");
  EXPECT_TRUE(re.matches("re:x"));
  EXPECT_FALSE(re.matches("x"));
}

TEST(Pattern, PrefixSuffixContains) {
  Pattern pre = P("/usr/bin/py*");
  EXPECT_TRUE(pre.matches("/usr/bin/python3"));
  EXPECT_TRUE(pre.matches("/usr/bin/py"));
  EXPECT_FALSE(pre.matches("/usr/local/bin/python3"));

  Pattern suf = P("*.example.com");
  EXPECT_TRUE(suf.matches("api.example.com"));
  EXPECT_TRUE(suf.matches("a.b.example.com"));
  EXPECT_FALSE(suf.matches("example.com"));
  EXPECT_FALSE(suf.matches("api.example.com.evil"));
  EXPECT_FALSE(suf.matches("notexample.com"));

  Pattern mid = P("*token*");
  EXPECT_TRUE(mid.matches("x-token"));
  EXPECT_TRUE(mid.matches("token"));
  EXPECT_TRUE(mid.matches("my-token-id"));
  EXPECT_FALSE(mid.matches("tokn"));

  Pattern any = P("*");
  EXPECT_TRUE(any.matches("anything"));
  EXPECT_TRUE(any.matches(""));
}

TEST(Pattern, Glob) {
  Pattern g = P("/opt/*/bin/*");
  EXPECT_TRUE(g.matches("/opt/app/bin/server"));
  EXPECT_TRUE(g.matches("/opt/a/b/bin/server"));  // '*' crosses '/'
  EXPECT_FALSE(g.matches("/opt/app/sbin/server"));

  Pattern q = P("python3.?");
  EXPECT_TRUE(q.matches("python3.9"));
  EXPECT_FALSE(q.matches("python3.11"));
  EXPECT_FALSE(q.matches("python3."));

  Pattern mixed = P("a*b*c");
  EXPECT_TRUE(mixed.matches("abc"));
  EXPECT_TRUE(mixed.matches("aXbYc"));
  EXPECT_TRUE(mixed.matches("abbbc"));
  EXPECT_FALSE(mixed.matches("acb"));
  EXPECT_FALSE(mixed.matches("abcd"));

  Pattern backtrack = P("*aab");
  EXPECT_TRUE(backtrack.matches("aaab"));  // suffix fast path
  Pattern backtrack2 = P("*a?b*");
  EXPECT_TRUE(backtrack2.matches("xxaaxbaab"));
  EXPECT_FALSE(backtrack2.matches("xxab"));
  EXPECT_TRUE(backtrack2.matches("xxaab"));
}

TEST(Pattern, RegexMatchesWholeValue) {
  Pattern r = P("re:python[0-9.]*");
  EXPECT_TRUE(r.matches("python3.11"));
  EXPECT_TRUE(r.matches("python"));
  EXPECT_FALSE(r.matches("ipython3"));   // anchored at the start
  EXPECT_FALSE(r.matches("python3-x"));  // and at the end

  Pattern sub = P("re:.*/node_modules/.*");
  EXPECT_TRUE(sub.matches("/app/node_modules/x/bin"));
  EXPECT_FALSE(sub.matches("/app/lib/x"));
}

TEST(Pattern, CaseInsensitive) {
  using C = Pattern::Case;
  EXPECT_TRUE(P("Example.COM", C::kInsensitive).matches("example.com"));
  EXPECT_TRUE(P("*.Example.com", C::kInsensitive).matches("API.EXAMPLE.COM"));
  EXPECT_TRUE(P("API*", C::kInsensitive).matches("api.example.com"));
  EXPECT_TRUE(P("*Token*", C::kInsensitive).matches("X-AUTH-TOKEN"));
  EXPECT_TRUE(P("a?c*", C::kInsensitive).matches("AbCd"));
  EXPECT_TRUE(P("re:x-api-.*", C::kInsensitive).matches("X-Api-Key"));
  EXPECT_FALSE(P("re:x-api-.*").matches("X-Api-Key"));
  EXPECT_FALSE(P("*Token*").matches("x-token"));
}

TEST(Pattern, Errors) {
  EXPECT_EQ(Pattern::parse("").error().message, "expected a non-empty pattern");
  EXPECT_EQ(Pattern::parse("re:").error().message, "empty regex after \"re:\"");
  EXPECT_EQ(Pattern::parse("exact:").error().message, "expected a value after \"exact:\"");
  EXPECT_EQ(Pattern::parse("re:(ab").error().message, "invalid regex \"(ab\": missing ): (ab");
  EXPECT_EQ(Pattern::parse("re:a**").error().message,
            "invalid regex \"a**\": bad repetition operator: **");
  // RE2 refuses backreferences (no catastrophic backtracking from a config).
  EXPECT_EQ(Pattern::parse("re:(a)\\1").error().message,
            "invalid regex \"(a)\\1\": invalid escape sequence: \\1");
}

TEST(Pattern, CopiesShareTheCompiledRegex) {
  Pattern a = P("re:ab+");
  Pattern b = a;
  EXPECT_EQ(a.regex(), b.regex());
  EXPECT_TRUE(b.matches("abbb"));
}

TEST(HostWithoutPort, Normalises) {
  EXPECT_EQ(host_without_port("example.com"), "example.com");
  EXPECT_EQ(host_without_port("Example.com:8080"), "Example.com");
  EXPECT_EQ(host_without_port("example.com."), "example.com");
  EXPECT_EQ(host_without_port("example.com.:443"), "example.com");
  EXPECT_EQ(host_without_port("[::1]:443"), "::1");
  EXPECT_EQ(host_without_port("[2001:db8::1]"), "2001:db8::1");
  EXPECT_EQ(host_without_port("2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(host_without_port("10.0.0.1:80"), "10.0.0.1");
  EXPECT_EQ(host_without_port(""), "");
}

}  // namespace
}  // namespace qtap::config
