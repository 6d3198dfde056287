#include "tls/openssl_version.h"

#include <cctype>

#include "tls/elf_file.h"

namespace qtap::tls {
namespace {

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// Consumes one or more digits at `pos`; false if there are none.
bool digits(std::string_view s, size_t& pos) {
  const size_t start = pos;
  while (pos < s.size() && is_digit(s[pos])) ++pos;
  return pos > start;
}

}  // namespace

std::string parse_openssl_banner(std::string_view text) {
  constexpr std::string_view kPrefix = "OpenSSL ";
  if (!text.starts_with(kPrefix)) return {};
  const size_t start = kPrefix.size();
  size_t pos = start;
  // MAJOR.MINOR.PATCH, then an optional letter (1.1.1w), then end or a space.
  if (!digits(text, pos) || pos >= text.size() || text[pos] != '.') return {};
  ++pos;
  if (!digits(text, pos) || pos >= text.size() || text[pos] != '.') return {};
  ++pos;
  if (!digits(text, pos)) return {};
  while (pos < text.size() && std::islower(static_cast<unsigned char>(text[pos]))) ++pos;
  if (pos < text.size() && text[pos] != ' ') return {};
  return std::string(text.substr(start, pos - start));
}

std::string soname_version(std::string_view path) {
  const size_t slash = path.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  constexpr std::string_view kPrefix = "libssl.so.";
  if (!base.starts_with(kPrefix)) return {};
  const std::string_view v = base.substr(kPrefix.size());
  if (v.empty() || !is_digit(v.front()) || !is_digit(v.back())) return {};
  for (const char c : v) {
    if (!is_digit(c) && c != '.') return {};
  }
  return std::string(v);
}

OpenSslVersion detect_openssl_version(const ElfFile& elf) {
  const auto is_banner = [](std::string_view s) { return !parse_openssl_banner(s).empty(); };
  for (const std::string_view needle : {"OpenSSL 3.", "OpenSSL 1.1."}) {
    if (const auto text = elf.find_string(".rodata", needle, is_banner)) {
      return {parse_openssl_banner(*text), std::string(*text), "rodata"};
    }
  }
  if (auto v = soname_version(elf.path()); !v.empty()) return {std::move(v), "", "file name"};
  return {};
}

}  // namespace qtap::tls
