// The kernel side of qtap, seen from userspace: loads the BPF skeleton,
// configures it, attaches every program and delivers ring buffer samples.
// Lifecycle as in libbpf-bootstrap: open -> set rodata -> load -> attach ->
// poll. Owns every libbpf object (RAII).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "qtap_abi.h"

namespace qtap::probes {

// What the kernel filters before copying anything (pushed down from --pid
// and the config file's filters). Empty lists: no filter of that kind.
// What the kernel drops before copying a byte (bpf/maps.h). An empty list
// restricts nothing, except include_pids with only_listed_pids.
struct KernelFilter {
  std::vector<uint32_t> include_pids;
  bool only_listed_pids = false;  // include_pids applies even when empty (drop all)
  std::vector<uint32_t> exclude_pids;
  std::vector<uint64_t> include_cgroups;  // cgroup v2 ids
  std::vector<uint64_t> exclude_cgroups;
  std::vector<uint16_t> exclude_ports;  // local or remote
  std::vector<uint16_t> exclude_local_ports;
  std::vector<uint16_t> exclude_remote_ports;
  std::vector<uint16_t> only_local_ports;   // non-empty: connections need one of these
  std::vector<uint16_t> only_remote_ports;
  bool drop_loopback = false;
  bool only_egress = false;
  bool only_ingress = false;
};

struct ProbeConfig {
  uint32_t self_pid = 0;
  KernelFilter filter;
  uint32_t max_call_bytes = 1 << 20;  // bytes copied per read/write call
  uint32_t ringbuf_bytes = 32 << 20;  // power of two
  bool noop = false;  // every program returns at once (benchmark floor)
  // The kernel wakes the agent when this much is waiting; the agent also
  // drains every `drain_interval_ms`. 0: wake on every event.
  uint32_t wakeup_bytes = 256 * 1024;
};

// One uprobe on a file, for every process that maps it.
enum class UprobeKind {
  kTlsEnter,
  kTlsReturn,
  kTlsSetFd,
  kTlsFree,
  kGoEnter,
  kGoReturn,
  kGoWriteAtEntry,
  kGoReadCopy,
};
struct Uprobe {
  UprobeKind kind;
  uint64_t file_offset = 0;
  uint64_t cookie = 0;  // QTAP_TLS_COOKIE for enter/return
};

using SampleHandler = std::function<void(std::span<const uint8_t>)>;
using Counters = std::array<uint64_t, QTAP_CTR__COUNT>;

extern const char* const kCounterNames[QTAP_CTR__COUNT];

class KernelProbes {
 public:
  // Loads and attaches; errors are one sentence naming what is missing.
  static Result<std::unique_ptr<KernelProbes>> start(const ProbeConfig& cfg, SampleHandler handler);
  ~KernelProbes();

  // An fd to wait on (readable when samples are pending).
  int ring_fd() const;
  // Hands every pending sample to the handler; returns how many.
  Result<int> consume();
  // Per-CPU counters summed.
  Counters counters() const;
  // Drops the kernel's entry for a socket fd of a process that exited.
  void forget(uint32_t pid, int32_t fd);
  // Attaches uprobes to `path` (all processes). All or nothing: on error the
  // ones already attached for this call are detached. Thread-safe with
  // respect to consume() (a different thread may attach).
  Result<void> attach_uprobes(const std::string& path, const std::vector<Uprobe>& probes);
  // Replaces the kernel-side filters (start, config reload).
  Result<void> set_filter(const KernelFilter& f);
  // Stores where Go keeps the socket fd for one Go version; the index goes
  // into the cookie of that binary's Go probes.
  Result<void> set_go_offsets(uint32_t index, const qtap_go_offsets& offsets);
  // Lets the kernel report the executable mapping of this file again.
  void forget_file(uint32_t dev, uint64_t ino);
  size_t uprobe_count() const;

 private:
  struct Impl;
  explicit KernelProbes(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace qtap::probes
