// /proc/PID/maps: which files a process has mapped, to find the TLS libraries
// it actually uses.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace qtap::tls {

// One line of /proc/PID/maps:
//   7f1c2a400000-7f1c2a49e000 r-xp 0001f000 fe:01 1234567   /usr/lib/x86_64-linux-gnu/libssl.so.3
struct MapsEntry {
  uint64_t start = 0;
  uint64_t end = 0;
  std::string perms;  // "r-xp"
  uint64_t offset = 0;
  uint32_t dev_major = 0;
  uint32_t dev_minor = 0;
  uint64_t inode = 0;    // 0 for anonymous mappings
  std::string path;      // "" for anonymous; "[heap]" etc. for special ones; spaces kept
  bool deleted = false;  // the kernel's " (deleted)" suffix was present (and removed from path)

  bool executable() const { return perms.size() > 2 && perms[2] == 'x'; }
  // A mapping of a file (not anonymous, not [heap]/[stack]/[vdso]...).
  bool is_file() const { return inode != 0 && !path.empty() && path.front() == '/'; }
};

// Parses one line (without its newline); nullopt if it is not a maps line.
std::optional<MapsEntry> parse_maps_line(std::string_view line);

// All parsable lines of <proc_root>/<pid>/maps (proc_root is "/proc" or a
// fake tree in tests). Error if the file cannot be read (process gone, no
// permission).
Result<std::vector<MapsEntry>> read_maps(const std::string& proc_root, uint32_t pid);

// Chooses files by their path as the process sees it.
using PathMatcher = std::function<bool(std::string_view path)>;

// One file mapped by a process, however many mappings it has.
struct MappedFile {
  std::string path;         // as in maps (the process's mount namespace)
  std::string access_path;  // how qtap opens it: <proc_root>/<pid>/root<path>, or for a deleted
                            // file <proc_root>/<pid>/map_files/<start>-<end>
  uint32_t dev_major = 0;
  uint32_t dev_minor = 0;
  uint64_t inode = 0;
  bool deleted = false;
  bool executable = false;  // some mapping of it is executable (code in use)
};

// The distinct files (by device and inode, in order of first appearance)
// among `entries` whose path matches.
std::vector<MappedFile> distinct_mapped_files(const std::vector<MapsEntry>& entries,
                                              const PathMatcher& matches,
                                              const std::string& proc_root, uint32_t pid);

// read_maps + distinct_mapped_files.
Result<std::vector<MappedFile>> find_mapped_files(const std::string& proc_root, uint32_t pid,
                                                  const PathMatcher& matches);

}  // namespace qtap::tls
