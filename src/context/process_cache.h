// Process context for every event: filled from the kernel's exec events
// (authoritative, and still known after a short-lived process exited) and
// from /proc for processes that were running before qtap started.
// Bounded: entries are forgotten on exit, and the table has a hard cap.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "context/process_info.h"

namespace qtap {

class ContainerMetadataSource;  // context/container_metadata.h

struct ContextConfig {
  std::string proc_root = "/proc";  // empty: never read /proc nor ask a runtime (replay)
  std::string cgroup_root = "";  // cgroup2 mount; empty: found in /proc/self/mountinfo
  std::string passwd_path = "/etc/passwd";
  size_t max_processes = 65536;
  size_t max_cmdline_bytes = 4096;  // longer command lines are cut (argv can be 2 MiB)
  size_t max_cgroups = 65536;       // cgroup id -> path entries remembered
  // Docker Engine API socket, asked for container names, images and labels
  // (in the background); empty: not asked.
  std::string docker_socket = "/var/run/docker.sock";
  std::chrono::milliseconds runtime_timeout{1000};  // one request to the runtime, at most
};

// What the kernel told us about a process in an event (conn open, exec).
struct ProcessHint {
  std::string_view comm;
  uint32_t uid = 0;
  uint64_t cgroup_id = 0;  // cgroup v2 id (inode number of the cgroup directory)
};

// Not thread-safe: owned by the thread that consumes the event stream.
class ProcessCache {
 public:
  // Container metadata from cfg.docker_socket.
  explicit ProcessCache(ContextConfig cfg);
  // Container metadata from `metadata` (nullptr: none), e.g. a fake in tests.
  ProcessCache(ContextConfig cfg, std::unique_ptr<ContainerMetadataSource> metadata);
  ~ProcessCache();

  // The process replaced its image (execve). `args` is argv, NUL-separated.
  void on_exec(uint32_t pid, const ProcessHint& hint, std::string_view filename,
               std::string_view args);
  // The context of `pid`: cached, or read from /proc now; when /proc has
  // nothing (the process is gone) built from the hint.
  // The reference is valid until the next call on this cache. A hint-only
  // answer is not cached, so a reused pid is read from /proc again.
  // Never waits for a container runtime: a container's name, image and
  // labels appear in the answers once the runtime has given them.
  const ProcessInfo& get(uint32_t pid, const ProcessHint& hint);
  // The same answer as a shared pointer, which the records carry instead of a
  // copy. A changed answer (container metadata arrived) is a new object.
  const std::shared_ptr<const ProcessInfo>& share(uint32_t pid, const ProcessHint& hint);
  // A process's context known from elsewhere (a recording's snapshot of
  // /proc): answers for `info.pid` until it exits or execs.
  void seed(ProcessInfo info);
  // The process exited: forget it. Emit what is still open for the pid
  // first: a later get() only has the hint to go on.
  void on_exit(uint32_t pid);

  size_t size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The host's name (uname nodename), read once.
const std::string& host_name();

}  // namespace qtap
