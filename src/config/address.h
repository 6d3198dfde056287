// Addresses and ports as filter rules see them: IP parsing without
// allocation, CIDR blocks, port ranges and the scope of an address
// (loopback / private / public) behind `direction: egress-external`.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace qtap::config {

// An IPv4 or IPv6 address. IPv4-mapped IPv6 addresses (::ffff:10.0.0.1, what
// a dual-stack AF_INET6 socket reports for an IPv4 peer) are stored as IPv4,
// so "10.0.0.0/8" matches them.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4
  bool v6 = false;

  // Textual IPv4 or IPv6; an IPv6 zone ("fe80::1%eth0") is ignored.
  // nullopt for anything else (empty, a hostname, brackets, a port).
  static std::optional<IpAddress> parse(std::string_view text);
  // From the kernel's form: IPv6, or IPv4 mapped as ::ffff:a.b.c.d.
  static IpAddress from_mapped(const std::array<uint8_t, 16>& addr);
  size_t bits() const { return v6 ? 128 : 32; }
  std::string to_string() const;
  bool operator==(const IpAddress&) const = default;
};

// An address block: "10.0.0.0/8", "2001:db8::/32", or a single address
// ("192.0.2.1" is 192.0.2.1/32).
struct Cidr {
  IpAddress base;
  uint8_t prefix_len = 0;

  // Errors are the sentence after "path: " in a config error, e.g.
  // `expected an IP address or CIDR, got "10.0.0/8"`.
  static Result<Cidr> parse(std::string_view text);
  bool contains(const IpAddress& ip) const;
  std::string to_string() const;
};

// Where a remote address lives.
//   kLoopback: 127.0.0.0/8, ::1, and the unspecified 0.0.0.0 and :: (Linux
//              delivers a connect() to them locally).
//   kPrivate:  not routed on the internet: RFC 1918 (10/8, 172.16/12,
//              192.168/16), CGNAT 100.64/10, link-local 169.254/16 and
//              fe80::/10, ULA fc00::/7, site-local fec0::/10, the rest of
//              0.0.0.0/8, multicast 224/4 and ff00::/8, reserved 240/4
//              (with broadcast).
//   kPublic:   every other valid address.
//   kUnknown:  not an IP address (empty, unparseable).
// NAT64 addresses (64:ff9b::/96) take the scope of the IPv4 address inside.
enum class AddressScope : uint8_t { kUnknown, kLoopback, kPrivate, kPublic };

AddressScope scope_of(const IpAddress& ip);
AddressScope scope_of(std::string_view ip);
const char* scope_name(AddressScope s);  // "loopback", ...

// An inclusive port range; a single port is first == last.
struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;

  // "443" or "8000-8100"; ports 1-65535. Errors as for Cidr::parse.
  static Result<PortRange> parse(std::string_view text);
  bool contains(uint16_t port) const { return port >= first && port <= last; }
  bool overlaps(const PortRange& o) const { return first <= o.last && o.first <= last; }
  bool operator==(const PortRange&) const = default;
};

}  // namespace qtap::config
