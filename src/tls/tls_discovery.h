// Finding the files that carry a TLS library: shared libraries a process has
// mapped (proc_maps.h), executables with OpenSSL linked in (node), and the
// libraries installed in the usual directories of a root (the host's, or a
// container's through /proc/PID/root). A file is identified by (st_dev,
// st_ino) so it is attached once however many paths and processes lead to it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "tls/proc_maps.h"

namespace qtap::tls {

class ElfFile;

// True when the base name of `path` starts with "libssl.so" (libssl.so,
// libssl.so.3, libssl.so.1.1). Not NSS's libssl3.so.
bool is_libssl_path(std::string_view path);

// SSL_write and SSL_read are defined functions in the file: an executable
// with OpenSSL (or BoringSSL) linked in statically.
bool has_openssl_symbols(const ElfFile& elf);

struct FileIdentity {
  uint64_t dev = 0;
  uint64_t ino = 0;
  bool operator==(const FileIdentity&) const = default;
};
struct FileIdentityHash {
  size_t operator()(const FileIdentity& id) const {
    return std::hash<uint64_t>()(id.ino) ^ (std::hash<uint64_t>()(id.dev) << 1);
  }
};

// stat() of `path` (symlinks followed).
Result<FileIdentity> file_identity(const std::string& path);

// Resolves `path` (absolute, as seen inside `root`) to a path under `root`
// whose every symlink was followed *inside* root: an absolute link target is
// re-anchored at root instead of escaping to the host's file system, which is
// what the kernel would do when walking /proc/PID/root/... from outside.
// root "" means the host root. nullopt on a loop (> 40 links), a missing
// component, or ".." past the root.
std::optional<std::string> resolve_in_root(const std::string& root, std::string_view path);

// The directories a dynamic linker searches on Debian/Ubuntu/Fedora-like
// systems: /lib, /usr/lib, /lib64, /usr/lib64, /usr/local/lib,
// /lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu.
const std::vector<std::string>& default_library_dirs();

struct LibraryFile {
  std::string path;       // path inside the root, symlinks resolved ("/usr/lib/.../libssl.so.3")
  std::string host_path;  // root + path: what qtap opens
  FileIdentity id;
};

// The regular files matching `matches` (by their name in the directory) in
// `dirs` under `root` (a root prefix like "/proc/1234/root", or "" for the
// host), one per identity, in directory order and then by name. Missing or
// unreadable directories are skipped.
std::vector<LibraryFile> scan_library_dirs(
    const std::string& root, const PathMatcher& matches,
    const std::vector<std::string>& dirs = default_library_dirs());

}  // namespace qtap::tls
