#include "tls/tls_discovery.h"

#include <dirent.h>
#include <fmt/format.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <unordered_set>

#include "tls/elf_file.h"

namespace qtap::tls {
namespace {

std::string_view base_name(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

void split_path(std::string_view path, std::deque<std::string>* out, bool at_front) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    const size_t slash = path.find('/', pos);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (end > pos) parts.emplace_back(path.substr(pos, end - pos));
    pos = end + 1;
  }
  if (at_front) {
    out->insert(out->begin(), parts.begin(), parts.end());
  } else {
    out->insert(out->end(), parts.begin(), parts.end());
  }
}

std::string join_path(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

// The same limit as the kernel's MAXSYMLINKS.
constexpr int kMaxSymlinks = 40;

}  // namespace

bool is_libssl_path(std::string_view path) { return base_name(path).starts_with("libssl.so"); }

bool has_openssl_symbols(const ElfFile& elf) {
  const auto write = elf.symbol("SSL_write");
  const auto read = elf.symbol("SSL_read");
  return write && read && write->type == SymbolType::kFunc && read->type == SymbolType::kFunc;
}

Result<FileIdentity> file_identity(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return make_error(fmt::format("{}: stat: {}", path, std::strerror(errno)));
  }
  return FileIdentity{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

std::optional<std::string> resolve_in_root(const std::string& root, std::string_view path) {
  std::deque<std::string> todo;
  split_path(path, &todo, false);
  std::vector<std::string> done;
  int links = 0;
  while (!todo.empty()) {
    std::string comp = std::move(todo.front());
    todo.pop_front();
    if (comp == ".") continue;
    if (comp == "..") {
      if (!done.empty()) done.pop_back();  // ".." at the root stays at the root, as in a chroot
      continue;
    }
    done.push_back(std::move(comp));
    const std::string host = root + join_path(done);
    struct stat st {};
    if (lstat(host.c_str(), &st) != 0) return std::nullopt;
    if (!S_ISLNK(st.st_mode)) continue;
    if (++links > kMaxSymlinks) return std::nullopt;
    char buf[PATH_MAX];
    const ssize_t n = readlink(host.c_str(), buf, sizeof(buf));
    if (n <= 0 || static_cast<size_t>(n) >= sizeof(buf)) return std::nullopt;
    const std::string_view target(buf, static_cast<size_t>(n));
    done.pop_back();
    if (target.front() == '/') done.clear();
    split_path(target, &todo, true);
  }
  return join_path(done);
}

const std::vector<std::string>& default_library_dirs() {
  static const std::vector<std::string> dirs = {
      "/lib",
      "/usr/lib",
      "/lib64",
      "/usr/lib64",
      "/usr/local/lib",
      "/lib/x86_64-linux-gnu",
      "/usr/lib/x86_64-linux-gnu",
  };
  return dirs;
}

std::vector<LibraryFile> scan_library_dirs(const std::string& root, const PathMatcher& matches,
                                           const std::vector<std::string>& dirs) {
  std::vector<LibraryFile> found;
  std::unordered_set<FileIdentity, FileIdentityHash> seen;
  for (const std::string& dir : dirs) {
    const auto resolved_dir = resolve_in_root(root, dir);
    if (!resolved_dir) continue;
    DIR* d = opendir((root + *resolved_dir).c_str());
    if (d == nullptr) continue;
    std::vector<std::string> names;
    while (const dirent* ent = readdir(d)) {
      const std::string name = ent->d_name;
      if (name != "." && name != ".." && matches(*resolved_dir + "/" + name)) names.push_back(name);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      const auto path = resolve_in_root(root, *resolved_dir + "/" + name);
      if (!path) continue;  // dangling link
      const std::string host_path = root + *path;
      struct stat st {};
      if (stat(host_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      const FileIdentity id{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
      if (!seen.insert(id).second) continue;
      found.push_back({*path, host_path, id});
    }
  }
  return found;
}

}  // namespace qtap::tls
