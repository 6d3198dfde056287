// Who is behind a byte: the process, its user, its cgroup/container, its host.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace qtap {

struct ProcessInfo {
  uint32_t pid = 0;
  std::string comm;
  std::string exe;      // absolute path of the executable
  std::string cmdline;  // argv joined with spaces
  uint32_t uid = 0;
  std::string user;     // name for uid, or the number as text
  std::string cgroup;   // cgroup v2 path (or the v1 "name=systemd"/first path on hybrid hosts)
  std::optional<std::string> container_id;  // 64-hex id when the cgroup path names one
};

}  // namespace qtap
