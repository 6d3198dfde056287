#include "config/address.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cstring>

namespace qtap::config {

namespace {

// The digits of a decimal number in [0, max], or nullopt. No sign, no spaces.
std::optional<uint32_t> parse_decimal(std::string_view s, uint32_t max) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return static_cast<uint32_t>(v);
}

bool in_v4(const IpAddress& ip, uint8_t a, uint8_t b, int prefix_len) {
  uint32_t addr = (uint32_t{ip.bytes[0]} << 24) | (uint32_t{ip.bytes[1]} << 16) |
                  (uint32_t{ip.bytes[2]} << 8) | ip.bytes[3];
  uint32_t net = (uint32_t{a} << 24) | (uint32_t{b} << 16);
  uint32_t mask = prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - prefix_len);
  return (addr & mask) == net;
}

AddressScope scope_v4(const IpAddress& ip) {
  const auto& b = ip.bytes;
  if (b[0] == 127) return AddressScope::kLoopback;
  if (b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0) return AddressScope::kLoopback;
  if (b[0] == 0 || b[0] == 10) return AddressScope::kPrivate;
  if (in_v4(ip, 172, 16, 12) || in_v4(ip, 192, 168, 16) || in_v4(ip, 100, 64, 10) ||
      in_v4(ip, 169, 254, 16) || b[0] >= 224) {
    return AddressScope::kPrivate;  // ... and multicast 224/4, reserved 240/4
  }
  return AddressScope::kPublic;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // INET6_ADDRSTRLEN plus room: longer text cannot be an address.
  char buf[64];
  if (auto pct = text.find('%'); pct != std::string_view::npos) text = text.substr(0, pct);
  if (text.empty() || text.size() >= sizeof(buf)) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, ip.bytes.data()) != 1) return std::nullopt;
    return ip;
  }
  if (inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) return std::nullopt;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(ip.bytes.data(), kMapped, sizeof(kMapped)) == 0) {
    std::memmove(ip.bytes.data(), ip.bytes.data() + 12, 4);
    std::memset(ip.bytes.data() + 4, 0, 12);
    return ip;
  }
  ip.v6 = true;
  return ip;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof(buf))) return {};
  return buf;
}

Result<Cidr> Cidr::parse(std::string_view text) {
  auto bad = [&] {
    return make_error(fmt::format("expected an IP address or CIDR, got \"{}\"", text));
  };
  Cidr c;
  std::string_view addr = text;
  std::optional<uint32_t> len;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    len = parse_decimal(text.substr(slash + 1), 128);
    if (!len) return bad();
  }
  // A zone has no meaning in a block, and parse() would drop it silently.
  if (addr.find('%') != std::string_view::npos) return bad();
  auto ip = IpAddress::parse(addr);
  if (!ip) return bad();
  c.base = *ip;
  uint32_t bits = static_cast<uint32_t>(ip->bits());
  // "::ffff:10.0.0.0/104" names IPv4 space; parse() already made it IPv4.
  bool mapped = !ip->v6 && addr.find(':') != std::string_view::npos;
  if (len && mapped) {
    if (*len < 96) return bad();
    *len -= 96;
  }
  if (len && *len > bits) {
    return make_error(fmt::format("prefix length /{} is longer than {} bits in \"{}\"",
                                  mapped ? *len + 96 : *len, mapped ? 128 : bits, text));
  }
  c.prefix_len = static_cast<uint8_t>(len.value_or(bits));
  // Host bits set is almost always a typo ("10.0.0.1/8" for "10.0.0.0/8").
  Cidr masked = c;
  for (size_t i = 0; i < 16; ++i) {
    int keep = static_cast<int>(c.prefix_len) - static_cast<int>(i * 8);
    uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
    masked.base.bytes[i] &= mask;
  }
  if (!(masked.base == c.base)) {
    return make_error(
        fmt::format("\"{}\" has host bits set; did you mean \"{}\"?", text, masked.to_string()));
  }
  return c;
}

bool Cidr::contains(const IpAddress& ip) const {
  if (ip.v6 != base.v6) return false;
  size_t full = prefix_len / 8;
  if (std::memcmp(ip.bytes.data(), base.bytes.data(), full) != 0) return false;
  int rest = prefix_len % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (ip.bytes[full] & mask) == (base.bytes[full] & mask);
}

std::string Cidr::to_string() const { return fmt::format("{}/{}", base.to_string(), prefix_len); }

IpAddress IpAddress::from_mapped(const std::array<uint8_t, 16>& addr) {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  IpAddress ip;
  if (std::memcmp(addr.data(), kMapped, sizeof(kMapped)) == 0) {
    std::memcpy(ip.bytes.data(), addr.data() + 12, 4);
  } else {
    ip.bytes = addr;
    ip.v6 = true;
  }
  return ip;
}

AddressScope scope_of(const IpAddress& ip) {
  if (!ip.v6) return scope_v4(ip);
  const auto& b = ip.bytes;
  static constexpr uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b.data(), kNat64, sizeof(kNat64)) == 0) {
    IpAddress v4;
    std::memcpy(v4.bytes.data(), b.data() + 12, 4);
    return scope_v4(v4);
  }
  bool zero_prefix = true;
  for (size_t i = 0; i < 15; ++i) zero_prefix = zero_prefix && b[i] == 0;
  if (zero_prefix && (b[15] == 1 || b[15] == 0)) return AddressScope::kLoopback;  // ::1, ::
  if ((b[0] & 0xfe) == 0xfc) return AddressScope::kPrivate;                       // fc00::/7
  if (b[0] == 0xfe && (b[1] & 0x80) == 0x80) return AddressScope::kPrivate;  // fe80::/10, fec0::/10
  if (b[0] == 0xff) return AddressScope::kPrivate;                           // multicast
  return AddressScope::kPublic;
}

AddressScope scope_of(std::string_view ip) {
  auto parsed = IpAddress::parse(ip);
  return parsed ? scope_of(*parsed) : AddressScope::kUnknown;
}

const char* scope_name(AddressScope s) {
  switch (s) {
    case AddressScope::kLoopback:
      return "loopback";
    case AddressScope::kPrivate:
      return "private";
    case AddressScope::kPublic:
      return "public";
    case AddressScope::kUnknown:
      break;
  }
  return "unknown";
}

Result<PortRange> PortRange::parse(std::string_view text) {
  auto bad = [&] {
    return make_error(
        fmt::format("expected a port 1-65535 or a range like \"8000-8100\", got \"{}\"", text));
  };
  std::string_view a = text, b = text;
  if (auto dash = text.find('-'); dash != std::string_view::npos) {
    a = text.substr(0, dash);
    b = text.substr(dash + 1);
  }
  auto first = parse_decimal(a, 65535);
  auto last = parse_decimal(b, 65535);
  if (!first || !last || *first == 0 || *last == 0) return bad();
  if (*first > *last) {
    return make_error(fmt::format("port range \"{}\" ends before it starts", text));
  }
  return PortRange{static_cast<uint16_t>(*first), static_cast<uint16_t>(*last)};
}

}  // namespace qtap::config
