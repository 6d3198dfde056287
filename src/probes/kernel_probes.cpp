#include "probes/kernel_probes.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "common/log.h"
#include "qtap.skel.h"

namespace qtap::probes {

const char* const kCounterNames[QTAP_CTR__COUNT] = {
#define QTAP_COUNTER_NAME(name, str) str,
    QTAP_COUNTERS(QTAP_COUNTER_NAME)
#undef QTAP_COUNTER_NAME
};

namespace {

int libbpf_log(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (!spdlog::should_log(spdlog::level::debug)) return 0;
  // Verifier logs arrive as one long message: size the buffer to fit it.
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  if (n <= 0) return 0;
  std::string buf(static_cast<size_t>(n) + 1, '\0');
  vsnprintf(buf.data(), buf.size(), fmt, args);
  std::string_view line(buf.data(), static_cast<size_t>(n));
  while (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  spdlog::debug("libbpf{}: {}", level == LIBBPF_WARN ? " warning" : "", line);
  return 0;
}

std::string errno_text(int err) { return strerror(err < 0 ? -err : err); }

}  // namespace

struct KernelProbes::Impl {
  qtap_bpf* skel = nullptr;
  ring_buffer* rb = nullptr;
  SampleHandler handler;
  int ncpu = 1;

  ~Impl() {
    if (rb) ring_buffer__free(rb);
    if (skel) qtap_bpf__destroy(skel);
  }

  static int on_sample(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Impl*>(ctx);
    self->handler(std::span<const uint8_t>(static_cast<const uint8_t*>(data), size));
    return 0;
  }
};

KernelProbes::KernelProbes(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KernelProbes::~KernelProbes() = default;

Result<std::unique_ptr<KernelProbes>> KernelProbes::start(const ProbeConfig& cfg,
                                                          SampleHandler handler) {
  libbpf_set_print(libbpf_log);
  auto impl = std::make_unique<Impl>();
  impl->handler = std::move(handler);
  impl->ncpu = libbpf_num_possible_cpus();
  if (impl->ncpu <= 0) return make_error("cannot count the possible CPUs (/sys/devices/system/cpu/possible)");

  impl->skel = qtap_bpf__open();
  if (!impl->skel) {
    return make_error(fmt::format("cannot open the BPF object: {}", errno_text(errno)));
  }
  auto* ro = impl->skel->rodata;
  ro->qtap_self_pid = cfg.self_pid;
  ro->qtap_filter_pids = cfg.pids.empty() ? 0 : 1;
  ro->qtap_max_call_bytes = cfg.max_call_bytes;
  if (int err = bpf_map__set_max_entries(impl->skel->maps.events, cfg.ringbuf_bytes); err) {
    return make_error(fmt::format("ring buffer size {} rejected: {}", cfg.ringbuf_bytes, errno_text(err)));
  }

  // One data scratch slot per possible CPU (see bpf/maps.h).
  if (int err = bpf_map__set_max_entries(impl->skel->maps.data_scratch, impl->ncpu); err) {
    return make_error(fmt::format("cannot size the scratch map: {}", errno_text(err)));
  }
  if (int err = qtap_bpf__load(impl->skel); err) {
    return make_error(fmt::format(
        "the kernel refused qtap's BPF programs ({}); run `qtap check` to see which kernel "
        "feature is missing, and --log-level debug for the verifier's log",
        errno_text(err)));
  }
  for (uint32_t pid : cfg.pids) {
    uint8_t one = 1;
    if (bpf_map__update_elem(impl->skel->maps.pid_filter, &pid, sizeof(pid), &one, sizeof(one), 0)) {
      return make_error(fmt::format("cannot add pid {} to the pid filter: {}", pid, errno_text(errno)));
    }
  }

  impl->rb = ring_buffer__new(bpf_map__fd(impl->skel->maps.events), &Impl::on_sample, impl.get(),
                              nullptr);
  if (!impl->rb) return make_error(fmt::format("cannot map the ring buffer: {}", errno_text(errno)));

  if (int err = qtap_bpf__attach(impl->skel); err) {
    return make_error(fmt::format(
        "cannot attach qtap's tracepoints ({}); `qtap check` lists what this kernel lacks",
        errno_text(err)));
  }
  spdlog::debug("BPF programs attached: sys_enter, sys_exit, sched_process_exec, sched_process_exit");
  return std::unique_ptr<KernelProbes>(new KernelProbes(std::move(impl)));
}

int KernelProbes::ring_fd() const { return ring_buffer__epoll_fd(impl_->rb); }

Result<int> KernelProbes::consume() {
  int n = ring_buffer__consume(impl_->rb);
  if (n < 0 && n != -EINTR) return make_error(fmt::format("ring buffer: {}", errno_text(n)));
  return n < 0 ? 0 : n;
}

Counters KernelProbes::counters() const {
  Counters total{};
  std::vector<uint64_t> per_cpu(impl_->ncpu);
  int fd = bpf_map__fd(impl_->skel->maps.stats);
  for (uint32_t i = 0; i < QTAP_CTR__COUNT; i++) {
    if (bpf_map_lookup_elem(fd, &i, per_cpu.data()) != 0) continue;
    for (uint64_t v : per_cpu) total[i] += v;
  }
  return total;
}

void KernelProbes::forget(uint32_t pid, int32_t fd) {
  qtap_fd_key key{pid, fd};
  bpf_map__delete_elem(impl_->skel->maps.conns, &key, sizeof(key), 0);
}

}  // namespace qtap::probes
