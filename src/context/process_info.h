// Who is behind a byte: the process, its user, its cgroup/container, its host.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "context/container_info.h"

namespace qtap {

struct ProcessInfo {
  uint32_t pid = 0;
  std::string comm;
  std::string exe;      // absolute path of the executable
  std::string cmdline;  // argv joined with spaces
  uint32_t uid = 0;
  std::string user;    // name for uid, or the number as text
  std::string cgroup;  // cgroup v2 path (or the v1 "name=systemd"/first path on hybrid hosts)
  std::optional<ContainerInfo> container;  // when the cgroup path names one
  uint64_t netns = 0;  // inode of /proc/PID/ns/net; 0 unknown (the process was gone)

  bool operator==(const ProcessInfo&) const = default;
};

}  // namespace qtap
