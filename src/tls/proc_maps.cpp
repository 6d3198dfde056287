#include "tls/proc_maps.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>

namespace qtap::tls {
namespace {

// Takes the next space-delimited field of `s` (skipping leading spaces).
std::string_view next_field(std::string_view& s) {
  const size_t start = s.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    s = {};
    return {};
  }
  s.remove_prefix(start);
  const size_t end = s.find(' ');
  const std::string_view field = s.substr(0, end);
  s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  return field;
}

template <typename T>
bool parse_number(std::string_view s, int base, T* out) {
  if (s.empty()) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// "a-b" or "a:b" -> two hex numbers.
template <typename T>
bool parse_pair(std::string_view s, char sep, T* a, T* b) {
  const size_t at = s.find(sep);
  if (at == std::string_view::npos) return false;
  return parse_number(s.substr(0, at), 16, a) && parse_number(s.substr(at + 1), 16, b);
}

}  // namespace

std::optional<MapsEntry> parse_maps_line(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  MapsEntry e;
  std::string_view rest = line;
  if (!parse_pair(next_field(rest), '-', &e.start, &e.end)) return std::nullopt;
  const std::string_view perms = next_field(rest);
  if (perms.size() != 4) return std::nullopt;
  e.perms = std::string(perms);
  if (!parse_number(next_field(rest), 16, &e.offset)) return std::nullopt;
  if (!parse_pair(next_field(rest), ':', &e.dev_major, &e.dev_minor)) return std::nullopt;
  if (!parse_number(next_field(rest), 10, &e.inode)) return std::nullopt;
  // The path is everything after the padding, spaces included.
  const size_t start = rest.find_first_not_of(' ');
  if (start != std::string_view::npos) {
    std::string_view path = rest.substr(start);
    constexpr std::string_view kDeleted = " (deleted)";
    if (path.ends_with(kDeleted)) {
      path.remove_suffix(kDeleted.size());
      e.deleted = true;
    }
    e.path = std::string(path);
  }
  return e;
}

Result<std::vector<MapsEntry>> read_maps(const std::string& proc_root, uint32_t pid) {
  const std::string path = fmt::format("{}/{}/maps", proc_root, pid);
  std::ifstream in(path);
  if (!in) return make_error(fmt::format("{}: {}", path, std::strerror(errno)));
  std::vector<MapsEntry> entries;
  std::string line;
  while (std::getline(in, line)) {
    if (auto e = parse_maps_line(line)) entries.push_back(std::move(*e));
  }
  if (in.bad()) return make_error(fmt::format("{}: read error", path));
  return entries;
}

std::vector<MappedFile> distinct_mapped_files(const std::vector<MapsEntry>& entries,
                                              const PathMatcher& matches,
                                              const std::string& proc_root, uint32_t pid) {
  std::vector<MappedFile> files;
  for (const MapsEntry& e : entries) {
    if (!e.is_file() || !matches(e.path)) continue;
    auto same = [&](const MappedFile& f) {
      return f.inode == e.inode && f.dev_major == e.dev_major && f.dev_minor == e.dev_minor;
    };
    if (auto it = std::find_if(files.begin(), files.end(), same); it != files.end()) {
      it->executable = it->executable || e.executable();
      continue;
    }
    MappedFile f;
    f.path = e.path;
    // A deleted file (upgraded on disk while the process runs) is only
    // reachable through map_files, which needs CAP_SYS_ADMIN; the old inode
    // is what the process executes, so it is the one to probe.
    f.access_path = e.deleted
                        ? fmt::format("{}/{}/map_files/{:x}-{:x}", proc_root, pid, e.start, e.end)
                        : fmt::format("{}/{}/root{}", proc_root, pid, e.path);
    f.dev_major = e.dev_major;
    f.dev_minor = e.dev_minor;
    f.inode = e.inode;
    f.deleted = e.deleted;
    f.executable = e.executable();
    files.push_back(std::move(f));
  }
  return files;
}

Result<std::vector<MappedFile>> find_mapped_files(const std::string& proc_root, uint32_t pid,
                                                  const PathMatcher& matches) {
  auto entries = read_maps(proc_root, pid);
  if (!entries) return entries.error();
  return distinct_mapped_files(*entries, matches, proc_root, pid);
}

}  // namespace qtap::tls
