#include "config/address.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>

namespace qtap::config {
namespace {

TEST(IpAddress, ParsesV4AndV6) {
  auto v4 = IpAddress::parse("192.0.2.1");
  ASSERT_TRUE(v4);
  EXPECT_FALSE(v4->v6);
  EXPECT_EQ(v4->bytes[0], 192);
  EXPECT_EQ(v4->bytes[3], 1);
  EXPECT_EQ(v4->to_string(), "192.0.2.1");

  auto v6 = IpAddress::parse("2001:db8::1");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->v6);
  EXPECT_EQ(v6->to_string(), "2001:db8::1");
}

TEST(IpAddress, MappedV4BecomesV4AndZoneIsDropped) {
  auto m = IpAddress::parse("::ffff:10.1.2.3");
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->v6);
  EXPECT_EQ(m->to_string(), "10.1.2.3");
  EXPECT_EQ(*m, *IpAddress::parse("10.1.2.3"));

  auto z = IpAddress::parse("fe80::1%eth0");
  ASSERT_TRUE(z);
  EXPECT_EQ(z->to_string(), "fe80::1");
}

TEST(IpAddress, RejectsNonAddresses) {
  for (const char* s :
       {"", "example.com", "1.2.3", "1.2.3.4.5", "256.1.1.1", "[::1]", "1.2.3.4:80", "::g",
        " 1.2.3.4", "0000000000000000000000000000000000000000000000000000000000000000001"}) {
    EXPECT_FALSE(IpAddress::parse(s)) << s;
  }
}

TEST(Cidr, ParsesBlocksAndSingleAddresses) {
  auto a = Cidr::parse("10.0.0.0/8");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->prefix_len, 8);
  EXPECT_EQ(a->to_string(), "10.0.0.0/8");

  auto b = Cidr::parse("192.0.2.7");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->prefix_len, 32);

  auto c = Cidr::parse("2001:db8::/32");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->prefix_len, 32);
  EXPECT_TRUE(c->base.v6);

  auto d = Cidr::parse("::1");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->prefix_len, 128);

  auto all = Cidr::parse("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains(*IpAddress::parse("203.0.113.9")));
  EXPECT_FALSE(all->contains(*IpAddress::parse("2001:db8::1")));  // families never mix

  // An IPv4-mapped block is IPv4 space.
  auto mapped = Cidr::parse("::ffff:10.0.0.0/104");
  ASSERT_TRUE(mapped) << mapped.error().message;
  EXPECT_FALSE(mapped->base.v6);
  EXPECT_EQ(mapped->prefix_len, 8);
}

TEST(Cidr, Contains) {
  auto c = *Cidr::parse("172.16.0.0/12");
  EXPECT_TRUE(c.contains(*IpAddress::parse("172.16.0.1")));
  EXPECT_TRUE(c.contains(*IpAddress::parse("172.31.255.255")));
  EXPECT_FALSE(c.contains(*IpAddress::parse("172.32.0.0")));
  EXPECT_FALSE(c.contains(*IpAddress::parse("172.15.255.255")));
  EXPECT_TRUE(c.contains(*IpAddress::parse("::ffff:172.20.1.1")));

  auto v6 = *Cidr::parse("2001:db8:abcc::/47");  // abcc and abcd
  EXPECT_TRUE(v6.contains(*IpAddress::parse("2001:db8:abcc::1")));
  EXPECT_TRUE(v6.contains(*IpAddress::parse("2001:db8:abcd:ffff::1")));
  EXPECT_FALSE(v6.contains(*IpAddress::parse("2001:db8:abce::1")));
  EXPECT_FALSE(v6.contains(*IpAddress::parse("2001:db8:abcb::1")));
  EXPECT_FALSE(v6.contains(*IpAddress::parse("10.0.0.1")));
}

TEST(Cidr, Errors) {
  EXPECT_EQ(Cidr::parse("10.0.0/8").error().message,
            "expected an IP address or CIDR, got \"10.0.0/8\"");
  EXPECT_EQ(Cidr::parse("10.0.0.0/").error().message,
            "expected an IP address or CIDR, got \"10.0.0.0/\"");
  EXPECT_EQ(Cidr::parse("10.0.0.0/x").error().message,
            "expected an IP address or CIDR, got \"10.0.0.0/x\"");
  EXPECT_EQ(Cidr::parse("example.com").error().message,
            "expected an IP address or CIDR, got \"example.com\"");
  EXPECT_EQ(Cidr::parse("fe80::/10%eth0").error().message,
            "expected an IP address or CIDR, got \"fe80::/10%eth0\"");
  EXPECT_EQ(Cidr::parse("fe80::%eth0/10").error().message,
            "expected an IP address or CIDR, got \"fe80::%eth0/10\"");
  EXPECT_EQ(Cidr::parse("10.0.0.0/33").error().message,
            "prefix length /33 is longer than 32 bits in \"10.0.0.0/33\"");
  EXPECT_EQ(Cidr::parse("2001:db8::/129").error().message,
            "expected an IP address or CIDR, got \"2001:db8::/129\"");
  EXPECT_EQ(Cidr::parse("10.0.0.1/8").error().message,
            "\"10.0.0.1/8\" has host bits set; did you mean \"10.0.0.0/8\"?");
  EXPECT_EQ(Cidr::parse("2001:db8::1/32").error().message,
            "\"2001:db8::1/32\" has host bits set; did you mean \"2001:db8::/32\"?");
}

struct ScopeCase {
  const char* ip;
  AddressScope scope;
};

TEST(ScopeOf, ManyAddresses) {
  using S = AddressScope;
  const ScopeCase cases[] = {
      {"127.0.0.1", S::kLoopback},
      {"127.255.255.254", S::kLoopback},
      {"0.0.0.0", S::kLoopback},
      {"::1", S::kLoopback},
      {"::", S::kLoopback},
      {"::ffff:127.0.0.1", S::kLoopback},
      {"10.0.0.1", S::kPrivate},
      {"10.255.255.255", S::kPrivate},
      {"172.16.0.1", S::kPrivate},
      {"172.31.255.254", S::kPrivate},
      {"172.32.0.1", S::kPublic},
      {"172.15.0.1", S::kPublic},
      {"192.168.1.1", S::kPrivate},
      {"192.169.0.1", S::kPublic},
      {"100.64.0.1", S::kPrivate},
      {"100.127.255.255", S::kPrivate},
      {"100.128.0.1", S::kPublic},
      {"100.63.255.255", S::kPublic},
      {"169.254.169.254", S::kPrivate},
      {"0.1.2.3", S::kPrivate},
      {"224.0.0.251", S::kPrivate},
      {"239.255.255.250", S::kPrivate},
      {"255.255.255.255", S::kPrivate},
      {"240.0.0.1", S::kPrivate},
      {"8.8.8.8", S::kPublic},
      {"1.1.1.1", S::kPublic},
      {"203.0.113.5", S::kPublic},
      {"::ffff:10.1.1.1", S::kPrivate},
      {"::ffff:8.8.4.4", S::kPublic},
      {"fc00::1", S::kPrivate},
      {"fd12:3456::1", S::kPrivate},
      {"fe80::1", S::kPrivate},
      {"fe80::1%eth0", S::kPrivate},
      {"febf::1", S::kPrivate},
      {"fec0::1", S::kPrivate},
      {"ff02::1", S::kPrivate},
      {"2001:4860:4860::8888", S::kPublic},
      {"2606:4700::1111", S::kPublic},
      {"64:ff9b::8.8.8.8", S::kPublic},
      {"64:ff9b::192.168.0.1", S::kPrivate},
      {"", S::kUnknown},
      {"localhost", S::kUnknown},
      {"1.2.3", S::kUnknown},
  };
  for (const ScopeCase& c : cases) {
    EXPECT_EQ(scope_of(c.ip), c.scope) << c.ip << " is " << scope_name(scope_of(c.ip));
  }
}

TEST(ScopeOf, Names) {
  EXPECT_STREQ(scope_name(AddressScope::kLoopback), "loopback");
  EXPECT_STREQ(scope_name(AddressScope::kPrivate), "private");
  EXPECT_STREQ(scope_name(AddressScope::kPublic), "public");
  EXPECT_STREQ(scope_name(AddressScope::kUnknown), "unknown");
}

TEST(PortRange, Parses) {
  EXPECT_EQ(*PortRange::parse("443"), (PortRange{443, 443}));
  EXPECT_EQ(*PortRange::parse("8000-8100"), (PortRange{8000, 8100}));
  EXPECT_EQ(*PortRange::parse("1-65535"), (PortRange{1, 65535}));
  EXPECT_EQ(*PortRange::parse("80-80"), (PortRange{80, 80}));
  auto r = *PortRange::parse("8000-8100");
  EXPECT_TRUE(r.contains(8000));
  EXPECT_TRUE(r.contains(8100));
  EXPECT_FALSE(r.contains(7999));
  EXPECT_FALSE(r.contains(8101));
  EXPECT_TRUE(r.overlaps(PortRange{8100, 9000}));
  EXPECT_FALSE(r.overlaps(PortRange{8101, 9000}));
}

TEST(PortRange, Errors) {
  const std::string expect = "expected a port 1-65535 or a range like \"8000-8100\", got ";
  for (const char* s : {"http", "0", "65536", "-1", "80-", "-80", "1-2-3", " 80", "", "8e3"}) {
    auto r = PortRange::parse(s);
    ASSERT_FALSE(r) << s;
    EXPECT_EQ(r.error().message, expect + "\"" + s + "\"");
  }
  EXPECT_EQ(PortRange::parse("9000-8000").error().message,
            "port range \"9000-8000\" ends before it starts");
}

// The kernel's form (IPv4 mapped into IPv6) gives what parsing the text gives.
TEST(IpAddress, FromMappedMatchesParse) {
  for (const char* text : {"127.0.0.1", "10.1.2.3", "8.8.8.8", "::1", "fe80::1", "2001:db8::42", "::"}) {
    const auto parsed = IpAddress::parse(text);
    ASSERT_TRUE(parsed) << text;
    std::array<uint8_t, 16> mapped{};
    if (parsed->v6) {
      mapped = parsed->bytes;
    } else {
      mapped[10] = mapped[11] = 0xff;
      std::copy_n(parsed->bytes.begin(), 4, mapped.begin() + 12);
    }
    EXPECT_EQ(IpAddress::from_mapped(mapped), *parsed) << text;
    EXPECT_EQ(scope_of(IpAddress::from_mapped(mapped)), scope_of(std::string_view(text))) << text;
  }
}

}  // namespace
}  // namespace qtap::config
