#include "context/cgroup_resolver.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <vector>

#include "common/log.h"
#include "context/proc_files.h"

namespace qtap {

namespace {

constexpr size_t kMountinfoMax = size_t{8} << 20;
// systemd and Kubernetes nest a handful of levels; 64 only stops a loop.
constexpr size_t kMaxDepth = 64;

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      auto is_oct = [](char c) { return c >= '0' && c <= '7'; };
      if (is_oct(s[i + 1]) && is_oct(s[i + 2]) && is_oct(s[i + 3])) {
        out.push_back(
            static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t start = line.find_first_not_of(' ', pos);
    if (start == std::string_view::npos) break;
    size_t end = line.find(' ', start);
    if (end == std::string_view::npos) end = line.size();
    fields.push_back(line.substr(start, end - start));
    pos = end;
  }
  return fields;
}

}  // namespace

std::optional<Cgroup2Mount> find_cgroup2_mount(std::string_view mountinfo) {
  // "36 35 98:0 <root> <mount point> <options> [optional fields...] - <fstype> <source> <super>"
  size_t pos = 0;
  while (pos < mountinfo.size()) {
    size_t eol = mountinfo.find('\n', pos);
    std::string_view line =
        mountinfo.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? mountinfo.size() : eol + 1;

    auto fields = split_fields(line);
    if (fields.size() < 7) continue;
    size_t dash = 6;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (dash + 1 >= fields.size()) continue;
    if (fields[dash + 1] != "cgroup2") continue;
    return Cgroup2Mount{unescape_octal(fields[4]), unescape_octal(fields[3])};
  }
  return std::nullopt;
}

CgroupResolver::CgroupResolver(CgroupResolverConfig cfg) : cfg_(std::move(cfg)) {
  if (cfg_.max_entries == 0) cfg_.max_entries = 1;
}

bool CgroupResolver::locate_mount() {
  located_ = true;
  if (!cfg_.cgroup_root.empty()) {
    mount_point_ = cfg_.cgroup_root;
    return true;
  }
  if (cfg_.proc_root.empty()) return false;  // nothing of this host to look at
  std::string mountinfo_path = cfg_.proc_root + "/self/mountinfo";
  auto text = read_file(mountinfo_path, kMountinfoMax);
  if (!text) {
    spdlog::warn("cgroup: cannot read {}; container and cgroup context only from /proc/PID/cgroup",
                 mountinfo_path);
    return false;
  }
  auto mount = find_cgroup2_mount(*text);
  if (!mount) {
    spdlog::warn(
        "cgroup: no cgroup2 mount in {} (cgroup v1 only host); the cgroup of an exited process "
        "cannot be named",
        mountinfo_path);
    return false;
  }
  mount_point_ = mount->mount_point;
  // A mount of a sub-cgroup (a container that bind-mounts its own cgroup)
  // shows that cgroup as its top; prefix it so paths match /proc/PID/cgroup.
  // "/.." roots come from a foreign cgroup namespace and have no usable name.
  if (mount->root != "/" && mount->root.find("/..") == std::string::npos) {
    path_prefix_ = mount->root;
    while (path_prefix_.size() > 1 && path_prefix_.back() == '/') path_prefix_.pop_back();
  }
  spdlog::debug("cgroup: cgroup2 at {} (root {})", mount_point_, mount->root);
  return true;
}

void CgroupResolver::rebuild() {
  ++walks_;
  std::unordered_map<uint64_t, std::string> fresh;
  struct Pending {
    std::string rel;  // "" for the root, else "a/b"
    size_t depth;
  };
  std::vector<Pending> stack{{"", 0}};
  bool full = false;

  auto path_for = [this](const std::string& rel) {
    if (rel.empty()) return path_prefix_.empty() ? std::string("/") : path_prefix_;
    return path_prefix_ + "/" + rel;
  };

  {
    struct stat st {};
    if (::stat(mount_point_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      spdlog::warn("cgroup: cannot stat {}", mount_point_);
      return;
    }
    fresh.emplace(static_cast<uint64_t>(st.st_ino), path_for(""));
  }

  while (!stack.empty() && !full) {
    Pending cur = std::move(stack.back());
    stack.pop_back();
    std::string dir_path = cur.rel.empty() ? mount_point_ : mount_point_ + "/" + cur.rel;
    // One open directory at a time: the pending stack holds paths, not fds.
    UniqueFd fd(::open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) continue;  // removed while walking
    DIR* dir = ::fdopendir(fd.get());
    if (dir == nullptr) continue;
    fd.release();  // owned by dir now
    while (dirent* ent = ::readdir(dir)) {
      std::string_view name = ent->d_name;
      if (name == "." || name == "..") continue;
      if (ent->d_type != DT_DIR && ent->d_type != DT_UNKNOWN) continue;
      // st_ino, not d_ino: they differ on overlay filesystems (test trees),
      // and on cgroupfs the stat is what defines the id.
      struct stat st {};
      if (::fstatat(::dirfd(dir), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (!S_ISDIR(st.st_mode)) continue;
      std::string rel = cur.rel.empty() ? std::string(name) : cur.rel + "/" + std::string(name);
      fresh.emplace(static_cast<uint64_t>(st.st_ino), path_for(rel));
      if (fresh.size() >= cfg_.max_entries) {
        full = true;
        break;
      }
      if (cur.depth + 1 < kMaxDepth) stack.push_back({std::move(rel), cur.depth + 1});
    }
    ::closedir(dir);
  }
  if (full && !warned_full_) {
    warned_full_ = true;
    spdlog::warn("cgroup: more than {} cgroups under {}; some ids will stay unnamed",
                 cfg_.max_entries, mount_point_);
  }

  // Keep what we knew about cgroups that are gone, room permitting: a late
  // event from a removed container still gets its name. cgroupfs ids are
  // 64-bit and not reused, so an old entry can never name a new cgroup.
  for (auto& [id, path] : paths_) {
    if (fresh.size() >= cfg_.max_entries) break;
    fresh.try_emplace(id, std::move(path));
  }
  paths_ = std::move(fresh);
}

std::optional<std::string> CgroupResolver::path_of(uint64_t id) {
  if (!located_ && !locate_mount()) return std::nullopt;
  if (mount_point_.empty()) return std::nullopt;
  if (auto it = paths_.find(id); it != paths_.end()) return it->second;

  auto now = std::chrono::steady_clock::now();
  if (last_walk_ && now - *last_walk_ < cfg_.rebuild_interval) return std::nullopt;
  last_walk_ = now;
  rebuild();
  if (auto it = paths_.find(id); it != paths_.end()) return it->second;
  return std::nullopt;
}

}  // namespace qtap
