// Helpers for the TLS discovery tests: a scratch directory, and the output of
// binutils, which the tests use as the independent source of truth.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace qtap::tls::testing {

constexpr const char* kLibssl = "/usr/lib/x86_64-linux-gnu/libssl.so.3";
constexpr const char* kNode = "/usr/bin/node";

inline bool exists(const std::string& path) { return access(path.c_str(), R_OK) == 0; }

// The cross-checks read binutils' output; without it they skip, except in CI
// (CI=true), where a missing tool is a failure like any missing capability.
inline bool have_binutils() {
  static const bool have =
      std::system(
          "{ command -v nm && command -v objdump && command -v readelf; } >/dev/null 2>&1") == 0;
  return have;
}
#define QTAP_REQUIRE_BINUTILS()                                             \
  do {                                                                      \
    if (!::qtap::tls::testing::have_binutils()) {                           \
      if (std::getenv("CI") != nullptr) FAIL() << "binutils not installed"; \
      GTEST_SKIP() << "binutils (nm, objdump, readelf) not installed";      \
    }                                                                       \
  } while (0)

// Tests on real files of this machine (libssl, node): a developer box without
// them skips; in CI (CI=true), where they are part of the machine, it fails.
#define QTAP_REQUIRE_FILE(path)                                                  \
  do {                                                                           \
    if (!::qtap::tls::testing::exists(path)) {                                   \
      if (std::getenv("CI") != nullptr) FAIL() << (path) << " is missing";       \
      GTEST_SKIP() << (path) << " not installed";                                \
    }                                                                            \
  } while (0)

// stdout of a shell command; "" if it could not run.
inline std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

inline std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

inline uint64_t hex(const std::string& s) { return std::stoull(s, nullptr, 16); }

// The values `nm` reports for defined symbols (versions stripped); the
// output is cached per file, as nm takes ~0.3 s on node.
inline const std::map<std::string, uint64_t>& nm_values(const std::string& file, bool dynamic) {
  static std::map<std::string, std::map<std::string, uint64_t>> cache;
  const std::string key = (dynamic ? "D:" : "S:") + file;
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  std::map<std::string, uint64_t>& values = cache[key];
  const std::string cmd =
      std::string("nm ") + (dynamic ? "-D " : "") + "--defined-only '" + file + "' 2>/dev/null";
  for (const auto& l : lines(run(cmd))) {
    const auto w = words(l);
    if (w.size() != 3) continue;
    values.emplace(w[2].substr(0, w[2].find('@')), hex(w[0]));
  }
  return values;
}

inline std::optional<uint64_t> nm_value(const std::string& file, const std::string& name,
                                        bool dynamic) {
  const auto& values = nm_values(file, dynamic);
  if (auto it = values.find(name); it != values.end()) return it->second;
  return std::nullopt;
}

// PT_LOAD segments per `readelf -lW`: {offset, vaddr, filesz}.
struct ReadelfLoad {
  uint64_t offset, vaddr, filesz;
};
inline std::vector<ReadelfLoad> readelf_loads(const std::string& file) {
  std::vector<ReadelfLoad> out;
  for (const auto& l : lines(run("readelf -lW '" + file + "'"))) {
    const auto w = words(l);
    if (w.size() >= 5 && w[0] == "LOAD") out.push_back({hex(w[1]), hex(w[2]), hex(w[4])});
  }
  return out;
}
inline std::optional<uint64_t> readelf_offset(const std::string& file, uint64_t vaddr) {
  for (const auto& s : readelf_loads(file)) {
    if (vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz) return vaddr - s.vaddr + s.offset;
  }
  return std::nullopt;
}

// One instruction line of `objdump -d`: address, mnemonic+operands (spaces collapsed).
struct ObjdumpInsn {
  uint64_t vaddr;
  std::string text;  // "call 355a0 <SSL_peek_ex@@OPENSSL_3.0.0+0x20>", "push %r14"
};
inline std::vector<ObjdumpInsn> objdump(const std::string& file, uint64_t start, uint64_t stop) {
  std::ostringstream cmd;
  cmd << "objdump -d --no-show-raw-insn --start-address=0x" << std::hex << start
      << " --stop-address=0x" << stop << " '" << file << "' 2>/dev/null";
  std::vector<ObjdumpInsn> out;
  for (const auto& l : lines(run(cmd.str()))) {
    // "   35a14:\tcall   355a0 <...>"
    const auto colon = l.find(":\t");
    if (colon == std::string::npos) continue;
    const auto addr = l.substr(0, colon);
    if (addr.find_first_not_of(" 0123456789abcdef") != std::string::npos) continue;
    std::string text;
    for (const auto& w : words(l.substr(colon + 2))) text += (text.empty() ? "" : " ") + w;
    out.push_back({hex(addr), text});
  }
  return out;
}

// Direct call targets per objdump ("call 355a0 <...>"), in order.
inline std::vector<uint64_t> objdump_call_targets(const std::string& file, uint64_t start,
                                                  uint64_t stop) {
  std::vector<uint64_t> out;
  for (const auto& i : objdump(file, start, stop)) {
    const auto w = words(i.text);
    if (w.size() >= 2 && w[0] == "call" && w[1].find('*') == std::string::npos) {
      out.push_back(hex(w[1]));
    }
  }
  return out;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "qtap-tls-XXXXXX").string();
    if (const char* p = mkdtemp(tmpl.data())) path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

}  // namespace qtap::tls::testing
