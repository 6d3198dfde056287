// Which OpenSSL a libssl or a statically linked executable carries.
#pragma once

#include <string>
#include <string_view>

namespace qtap::tls {

class ElfFile;

struct OpenSslVersion {
  std::string version;  // "3.0.19", "1.1.1w", or only the soname's "3"; "" when unknown
  std::string text;     // the full banner when found: "OpenSSL 3.0.19 27 Jan 2026"
  std::string source;   // "rodata", "file name" or "" (unknown)
};

// From the OPENSSL_VERSION_TEXT banner in .rodata ("OpenSSL 3." /
// "OpenSSL 1.1."): static builds (node) carry it. A shared libssl does not
// (the banner lives in libcrypto), so the file name's soname version
// (libssl.so.3 -> "3", libssl.so.1.1 -> "1.1") is the fallback.
OpenSslVersion detect_openssl_version(const ElfFile& elf);

// "OpenSSL 3.0.19 27 Jan 2026" -> "3.0.19"; "" unless the text is such a
// banner (so "enable OpenSSL 3.0 legacy provider" is not one).
std::string parse_openssl_banner(std::string_view text);

// "/usr/lib/x86_64-linux-gnu/libssl.so.1.1" -> "1.1"; "" when the base name
// is not libssl.so.<version>.
std::string soname_version(std::string_view path);

}  // namespace qtap::tls
