#include "context/proc_files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>

namespace qtap {

namespace {

// Bounds for files whose size the kernel controls. status is ~1.5 KiB and a
// v1 cgroup file a dozen lines; the caps only stop a pathological read.
constexpr size_t kSmallFileMax = size_t{64} << 10;
constexpr size_t kCommMax = 64;

std::string_view trim_trailing_newlines(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::optional<uint32_t> parse_u32(std::string_view s) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

int UniqueFd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

std::optional<std::string> read_file(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string out;
  std::array<char, 4096> buf;
  while (out.size() < max_bytes) {
    size_t want = std::min(buf.size(), max_bytes - out.size());
    ssize_t n = ::read(fd.get(), buf.data(), want);
    if (n < 0) {
      if (errno == EINTR) continue;
      // ESRCH and friends: the process went away mid-read.
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf.data(), static_cast<size_t>(n));
  }
  return out;
}

std::optional<std::string> read_link(const std::string& path) {
  std::array<char, PATH_MAX> buf;
  ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
  if (n <= 0) return std::nullopt;
  return std::string(buf.data(), static_cast<size_t>(n));
}

std::string_view until_nul(std::string_view s) {
  auto nul = s.find('\0');
  return nul == std::string_view::npos ? s : s.substr(0, nul);
}

std::string_view strip_deleted(std::string_view s) {
  constexpr std::string_view kDeleted = " (deleted)";
  if (s.size() > kDeleted.size() && s.ends_with(kDeleted)) s.remove_suffix(kDeleted.size());
  return s;
}

std::string join_args(std::string_view args, size_t max_bytes) {
  while (!args.empty() && args.back() == '\0') args.remove_suffix(1);
  if (args.size() > max_bytes) args = args.substr(0, max_bytes);
  std::string out(args);
  std::replace(out.begin(), out.end(), '\0', ' ');
  // A truncated argv (bounded BPF copy or cap) may end in a separator.
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::optional<uint32_t> parse_status_uid(std::string_view status) {
  size_t pos = 0;
  while (pos < status.size()) {
    size_t eol = status.find('\n', pos);
    std::string_view line =
        status.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? status.size() : eol + 1;
    if (!line.starts_with("Uid:")) continue;
    line.remove_prefix(4);
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) return std::nullopt;
    line.remove_prefix(start);
    return parse_u32(line.substr(0, line.find_first_of(" \t")));
  }
  return std::nullopt;
}

std::string select_cgroup_path(std::string_view text) {
  std::optional<std::string_view> v2;
  std::optional<std::string_view> systemd;
  std::optional<std::string_view> first_non_root;
  bool any = false;

  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;

    // "hierarchy-ID:controller-list:path"; the path itself may contain ':'.
    size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view hierarchy = line.substr(0, c1);
    std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1);
    std::string_view path = strip_deleted(trim_trailing_newlines(line.substr(c2 + 1)));
    if (path.empty() || path.front() != '/') continue;
    any = true;

    if (hierarchy == "0" && controllers.empty()) {
      v2 = path;
    } else {
      // The controller list is comma-separated ("cpu,cpuacct").
      size_t cpos = 0;
      while (cpos <= controllers.size()) {
        size_t comma = controllers.find(',', cpos);
        std::string_view ctrl = controllers.substr(
            cpos, comma == std::string_view::npos ? std::string_view::npos : comma - cpos);
        if (ctrl == "name=systemd") systemd = path;
        if (comma == std::string_view::npos) break;
        cpos = comma + 1;
      }
    }
    if (path != "/" && !first_non_root) first_non_root = path;
  }

  if (v2 && *v2 != "/") return std::string(*v2);
  if (systemd && *systemd != "/") return std::string(*systemd);
  if (first_non_root) return std::string(*first_non_root);
  return any ? "/" : "";
}

std::string ProcReader::path(uint32_t pid, std::string_view file) const {
  return fmt::format("{}/{}/{}", root_, pid, file);
}

std::optional<std::string> ProcReader::exe(uint32_t pid) const {
  if (root_.empty()) return std::nullopt;
  auto target = read_link(path(pid, "exe"));
  if (!target) return std::nullopt;
  return std::string(strip_deleted(*target));
}

std::optional<std::string> ProcReader::cmdline(uint32_t pid, size_t max_bytes) const {
  if (root_.empty()) return std::nullopt;
  // One byte more than the cap so join_args sees where the cap cut.
  auto raw = read_file(path(pid, "cmdline"), max_bytes + 1);
  if (!raw) return std::nullopt;
  return join_args(*raw, max_bytes);
}

std::optional<std::string> ProcReader::comm(uint32_t pid) const {
  if (root_.empty()) return std::nullopt;
  auto raw = read_file(path(pid, "comm"), kCommMax);
  if (!raw) return std::nullopt;
  return std::string(trim_trailing_newlines(*raw));
}

std::optional<uint32_t> ProcReader::uid(uint32_t pid) const {
  if (root_.empty()) return std::nullopt;
  auto raw = read_file(path(pid, "status"), kSmallFileMax);
  if (!raw) return std::nullopt;
  return parse_status_uid(*raw);
}

std::optional<std::string> ProcReader::cgroup(uint32_t pid) const {
  if (root_.empty()) return std::nullopt;
  auto raw = read_file(path(pid, "cgroup"), kSmallFileMax);
  if (!raw) return std::nullopt;
  std::string selected = select_cgroup_path(*raw);
  if (selected.empty()) return std::nullopt;
  return selected;
}

std::optional<uint64_t> ProcReader::netns(uint32_t pid) const {
  if (root_.empty()) return std::nullopt;
  // stat follows the magic link to the namespace: its inode is the id that
  // `ip netns identify` and lsns show.
  struct stat st {};
  if (::stat(path(pid, "ns/net").c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.st_ino);
}

}  // namespace qtap
