// Is an executable a Go program, and built by which Go? Read from the build
// info blob the Go linker leaves in every binary (section .go.buildinfo,
// kept by `-ldflags='-s -w'`): the Go version and the main module.
//
// The Go version decides everything else about probing a Go program: the
// calling convention (register ABI from go1.17 on amd64), the pclntab format
// (go_pclntab.h) and the struct layouts behind a *tls.Conn (go_offsets.h).
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace qtap::tls {

class ElfFile;

struct GoVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;           // 0 for "go1.21rc2" and "go1.20"
  std::string prerelease;  // "rc2", "beta1", "" for a release

  // Releases only: go1.21rc2 compares equal to go1.21.0.
  auto operator<=>(const GoVersion& o) const {
    if (auto c = major <=> o.major; c != 0) return c;
    if (auto c = minor <=> o.minor; c != 0) return c;
    return patch <=> o.patch;
  }
  bool operator==(const GoVersion& o) const { return (*this <=> o) == 0; }
  bool at_least(int maj, int min) const { return *this >= GoVersion{maj, min, 0, {}}; }
};

// "go1.19.8" -> {1, 19, 8}; "go1.20" -> {1, 20, 0}; "go1.21rc2" -> {1, 21, 0, "rc2"};
// "go1.22.0 X:nocoverageredesign" and "devel go1.23-abcdef Tue ..." parse
// their leading version. nullopt if there is no "go<major>.<minor>".
std::optional<GoVersion> parse_go_version(std::string_view text);

struct GoBuildInfo {
  std::string version;              // runtime.buildVersion, "go1.19.8"
  std::optional<GoVersion> parsed;  // parse_go_version(version)
  bool inline_strings = false;      // go1.18+ blob (strings inline) vs pointers (< 1.18)
  std::string main_path;            // "path\t..." of the module info: the main package
  std::string module_path;          // "mod\t<path>\t<version>\t<sum>": the main module
  std::string module_version;       // "(devel)" for a local build
  std::string modinfo;              // the module info text, framing removed ("" if none)
};

// The build info of a Go executable; nullopt when the file is not one (no
// blob, or an empty version). Looked for where debug/buildinfo looks: the
// .go.buildinfo section, else the first 64 kB of the first writable PT_LOAD
// (a binary without section headers), at 16-byte alignment. Both encodings:
// go1.18+ writes the two strings inline after the 32-byte header (flag bit
// 2), older linkers write the addresses of two Go string headers.
std::optional<GoBuildInfo> read_go_buildinfo(const ElfFile& elf);

}  // namespace qtap::tls
