// cgroup v2 id -> path. bpf_get_current_cgroup_id() gives the id of the
// task's cgroup in the v2 (unified) hierarchy, which is the inode number of
// that cgroup's directory in cgroupfs. Nothing in the kernel maps an id back
// to a path cheaply, so this walks the mounted tree and caches the result.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace qtap {

// Where cgroup2 is mounted, from one /proc/PID/mountinfo.
struct Cgroup2Mount {
  std::string mount_point;  // e.g. /sys/fs/cgroup or /sys/fs/cgroup/unified (hybrid)
  std::string root;         // the cgroup the mount shows at its top, usually "/"
};

// The first cgroup2 mount in a mountinfo text, nullopt when there is none
// (a pure cgroup v1 host).
std::optional<Cgroup2Mount> find_cgroup2_mount(std::string_view mountinfo);

struct CgroupResolverConfig {
  // mountinfo is read from <proc_root>/self/mountinfo. Empty, with no
  // cgroup_root: ids are not resolved (a replay: this host's cgroups are not
  // the recording's).
  std::string proc_root = "/proc";
  std::string cgroup_root;  // cgroup2 mount point; empty: found in mountinfo
  size_t max_entries = 65536;       // ids remembered (the walk stops there too)
  // A miss re-walks the tree at most this often: a burst of events from a
  // cgroup we cannot find (removed, or not in this mount) costs one walk.
  std::chrono::milliseconds rebuild_interval{1000};
};

class CgroupResolver {
 public:
  explicit CgroupResolver(CgroupResolverConfig cfg);

  // The path of cgroup `id` relative to the cgroup2 root ("/" for the root,
  // "/system.slice/nginx.service" below it), nullopt if not found.
  std::optional<std::string> path_of(uint64_t id);

  // The mount point walked; empty until the first lookup, or when the host
  // has no cgroup2 mount.
  const std::string& mount_point() const { return mount_point_; }
  size_t size() const { return paths_.size(); }
  size_t walks() const { return walks_; }

 private:
  bool locate_mount();
  void rebuild();

  CgroupResolverConfig cfg_;
  bool located_ = false;
  std::string mount_point_;
  std::string path_prefix_;  // mount root when the mount shows a sub-cgroup
  std::unordered_map<uint64_t, std::string> paths_;
  std::optional<std::chrono::steady_clock::time_point> last_walk_;
  size_t walks_ = 0;
  bool warned_full_ = false;
};

}  // namespace qtap
