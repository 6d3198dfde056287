// Small, bounded readers for /proc-style files and the parsers qtap needs
// from them. Private to the context module (tests include it directly).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qtap {

// Owns a file descriptor; closes it once.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  int release();
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// At most `max_bytes` of a file. /proc files report st_size 0, so this reads
// until EOF instead of trusting the size. nullopt when the file cannot be
// opened or read (the usual sign that a process is gone).
std::optional<std::string> read_file(const std::string& path, size_t max_bytes);

// The target of a symlink (bounded by PATH_MAX), nullopt when unreadable.
std::optional<std::string> read_link(const std::string& path);

// The text up to the first NUL: kernel strings (comm, filename) arrive in
// fixed-size buffers and may carry their terminator and padding.
std::string_view until_nul(std::string_view s);

// The kernel appends " (deleted)" to /proc/PID/exe and cgroup paths whose
// file or directory was removed; the path is still the useful part.
std::string_view strip_deleted(std::string_view s);

// argv as the kernel stores it (NUL-separated, usually NUL-terminated) joined
// with spaces, at most `max_bytes` long. Trailing NULs are dropped; an empty
// argument in the middle stays visible as a doubled space.
std::string join_args(std::string_view nul_separated, size_t max_bytes);

// The real uid from /proc/PID/status ("Uid:\t<real>\t<effective>...").
std::optional<uint32_t> parse_status_uid(std::string_view status);

// The one cgroup path that describes a process, from /proc/PID/cgroup:
//   1. the cgroup v2 line "0::<path>" when path is not "/";
//   2. else the v1 "name=systemd" line when its path is not "/";
//   3. else the first line with a non-root path;
//   4. else "/" (every hierarchy at its root), or "" for no parsable line.
// Hybrid hosts keep most processes at the v2 root, so 2 and 3 are where the
// information is there.
std::string select_cgroup_path(std::string_view proc_cgroup);

// Reads the per-process files under a /proc root (a fake tree in tests). An
// empty root reads nothing: replays of recordings must not take context from
// whatever process has the same pid today.
class ProcReader {
 public:
  explicit ProcReader(std::string proc_root) : root_(std::move(proc_root)) {}

  std::optional<std::string> exe(uint32_t pid) const;
  std::optional<std::string> cmdline(uint32_t pid, size_t max_bytes) const;
  std::optional<std::string> comm(uint32_t pid) const;
  std::optional<uint32_t> uid(uint32_t pid) const;
  std::optional<std::string> cgroup(uint32_t pid) const;  // select_cgroup_path()
  std::optional<uint64_t> netns(uint32_t pid) const;      // inode of ns/net

  const std::string& root() const { return root_; }

 private:
  std::string path(uint32_t pid, std::string_view file) const;

  std::string root_;
};

}  // namespace qtap
