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
#include <vector>

#include "common/result.h"
#include "qtap_abi.h"

namespace qtap::probes {

struct ProbeConfig {
  uint32_t self_pid = 0;
  std::vector<uint32_t> pids;       // empty: every process
  uint32_t max_call_bytes = 1 << 20;  // bytes copied per read/write call
  uint32_t ringbuf_bytes = 32 << 20;  // power of two
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

 private:
  struct Impl;
  explicit KernelProbes(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace qtap::probes
