#include "probes/kernel_probes.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <map>
#include <mutex>
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
  std::mutex links_mu;
  std::vector<bpf_link*> links;  // uprobes; the skeleton owns the tracepoint links

  ~Impl() {
    for (bpf_link* l : links) bpf_link__destroy(l);
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
  ro->qtap_max_call_bytes = cfg.max_call_bytes;
  ro->qtap_noop = cfg.noop ? 1 : 0;
  ro->qtap_wakeup_bytes = std::min(cfg.wakeup_bytes, cfg.ringbuf_bytes / 4);
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
  impl->rb = ring_buffer__new(bpf_map__fd(impl->skel->maps.events), &Impl::on_sample, impl.get(),
                              nullptr);
  if (!impl->rb) return make_error(fmt::format("cannot map the ring buffer: {}", errno_text(errno)));

  // The skeleton attaches what it can name (tracepoints); uprobes are attached
  // per library file by attach_uprobes().
  bpf_program__set_autoattach(impl->skel->progs.qtap_tls_enter, false);
  bpf_program__set_autoattach(impl->skel->progs.qtap_tls_return, false);
  bpf_program__set_autoattach(impl->skel->progs.qtap_tls_set_fd, false);
  bpf_program__set_autoattach(impl->skel->progs.qtap_tls_free, false);
  bpf_program__set_autoattach(impl->skel->progs.qtap_go_tls_enter, false);
  bpf_program__set_autoattach(impl->skel->progs.qtap_go_tls_ret, false);
  bpf_program__set_autoattach(impl->skel->progs.qtap_go_tls_write, false);
  bpf_program__set_autoattach(impl->skel->progs.qtap_go_tls_read_copy, false);
  if (int err = qtap_bpf__attach(impl->skel); err) {
    return make_error(fmt::format(
        "cannot attach qtap's tracepoints ({}); `qtap check` lists what this kernel lacks",
        errno_text(err)));
  }
  spdlog::debug("BPF programs attached: sys_enter, sys_exit, sched_process_exec, sched_process_exit");
  std::unique_ptr<KernelProbes> kp(new KernelProbes(std::move(impl)));
  if (auto r = kp->set_filter(cfg.filter); !r) return r.error();
  return kp;
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

Result<void> KernelProbes::attach_uprobes(const std::string& path, const std::vector<Uprobe>& wanted) {
  // Returns before entries: a call that starts while we attach then meets
  // either both probes or only its return (ignored), never an entry whose
  // return is not there yet (its bytes would be lost, the stream cut).
  std::vector<Uprobe> probes = wanted;
  std::stable_partition(probes.begin(), probes.end(), [](const Uprobe& p) {
    return p.kind == UprobeKind::kTlsReturn || p.kind == UprobeKind::kGoReturn;
  });
  std::vector<bpf_link*> made;
  for (const Uprobe& p : probes) {
    bpf_program* prog = nullptr;
    LIBBPF_OPTS(bpf_uprobe_opts, opts);
    opts.bpf_cookie = p.cookie;
    switch (p.kind) {
      case UprobeKind::kTlsEnter: prog = impl_->skel->progs.qtap_tls_enter; break;
      case UprobeKind::kTlsReturn:
        prog = impl_->skel->progs.qtap_tls_return;
        opts.retprobe = true;
        break;
      case UprobeKind::kTlsSetFd: prog = impl_->skel->progs.qtap_tls_set_fd; break;
      case UprobeKind::kTlsFree: prog = impl_->skel->progs.qtap_tls_free; break;
      case UprobeKind::kGoEnter: prog = impl_->skel->progs.qtap_go_tls_enter; break;
      // Go: a plain uprobe on each RET, never a uretprobe (see bpf/tls_go.h).
      case UprobeKind::kGoReturn: prog = impl_->skel->progs.qtap_go_tls_ret; break;
      case UprobeKind::kGoWriteAtEntry: prog = impl_->skel->progs.qtap_go_tls_write; break;
      case UprobeKind::kGoReadCopy: prog = impl_->skel->progs.qtap_go_tls_read_copy; break;
    }
    bpf_link* link = bpf_program__attach_uprobe_opts(prog, -1, path.c_str(), p.file_offset, &opts);
    if (!link) {
      int err = errno;
      for (bpf_link* l : made) bpf_link__destroy(l);
      return make_error(fmt::format("uprobe at {}+0x{:x}: {}", path, p.file_offset, errno_text(err)));
    }
    made.push_back(link);
  }
  std::lock_guard lock(impl_->links_mu);
  impl_->links.insert(impl_->links.end(), made.begin(), made.end());
  return {};
}

namespace {
// Empties a hash map whose keys are K.
template <typename K>
void clear_map(bpf_map* m) {
  K key{}, next{};
  while (bpf_map__get_next_key(m, nullptr, &next, sizeof(next)) == 0) {
    key = next;
    bpf_map__delete_elem(m, &key, sizeof(key), 0);
  }
}

template <typename K>
Result<void> fill_map(bpf_map* m, const std::vector<K>& keys, const char* what) {
  clear_map<K>(m);
  uint8_t one = 1;
  for (K k : keys) {
    if (bpf_map__update_elem(m, &k, sizeof(k), &one, sizeof(one), 0) != 0) {
      return make_error(fmt::format("cannot add {} {} to the kernel filter: {}", what, k, errno_text(errno)));
    }
  }
  return {};
}
// One bit set per port: how it filters as a local and as a remote port.
Result<void> fill_ports(bpf_map* m, const KernelFilter& f) {
  std::map<uint16_t, uint8_t> bits;
  for (uint16_t p : f.exclude_ports) bits[p] |= QTAP_PORT_EXCLUDE_LOCAL | QTAP_PORT_EXCLUDE_REMOTE;
  for (uint16_t p : f.exclude_local_ports) bits[p] |= QTAP_PORT_EXCLUDE_LOCAL;
  for (uint16_t p : f.exclude_remote_ports) bits[p] |= QTAP_PORT_EXCLUDE_REMOTE;
  for (uint16_t p : f.only_local_ports) bits[p] |= QTAP_PORT_ONLY_LOCAL;
  for (uint16_t p : f.only_remote_ports) bits[p] |= QTAP_PORT_ONLY_REMOTE;
  clear_map<uint16_t>(m);
  for (auto [port, b] : bits) {
    if (bpf_map__update_elem(m, &port, sizeof(port), &b, sizeof(b), 0) != 0) {
      return make_error(fmt::format("cannot add port {} to the kernel filter: {}", port, errno_text(errno)));
    }
  }
  return {};
}

}  // namespace

Result<void> KernelProbes::set_filter(const KernelFilter& f) {
  auto& maps = impl_->skel->maps;
  // Off while the maps change, then on with the new sets.
  qtap_filter off{}, on{};
  uint32_t zero = 0;
  bpf_map__update_elem(maps.filter, &zero, sizeof(zero), &off, sizeof(off), 0);
  if (auto r = fill_map(maps.pid_filter, f.include_pids, "pid"); !r) return r;
  if (auto r = fill_map(maps.pid_exclude, f.exclude_pids, "pid"); !r) return r;
  if (auto r = fill_map(maps.cgroup_include, f.include_cgroups, "cgroup"); !r) return r;
  if (auto r = fill_map(maps.cgroup_exclude, f.exclude_cgroups, "cgroup"); !r) return r;
  if (auto r = fill_ports(maps.port_filter, f); !r) return r;
  if (!f.include_pids.empty() || f.only_listed_pids) on.flags |= QTAP_FILTER_PID_INCLUDE;
  if (!f.exclude_pids.empty()) on.flags |= QTAP_FILTER_PID_EXCLUDE;
  if (!f.include_cgroups.empty()) on.flags |= QTAP_FILTER_CGROUP_INCLUDE;
  if (!f.exclude_cgroups.empty()) on.flags |= QTAP_FILTER_CGROUP_EXCLUDE;
  if (!f.exclude_ports.empty() || !f.exclude_local_ports.empty() || !f.exclude_remote_ports.empty())
    on.flags |= QTAP_FILTER_PORTS;
  if (!f.only_local_ports.empty()) on.flags |= QTAP_FILTER_ONLY_LOCAL_PORTS;
  if (!f.only_remote_ports.empty()) on.flags |= QTAP_FILTER_ONLY_REMOTE_PORTS;
  if (f.drop_loopback) on.flags |= QTAP_FILTER_DROP_LOOPBACK;
  if (f.only_egress) on.flags |= QTAP_FILTER_ONLY_EGRESS;
  if (f.only_ingress) on.flags |= QTAP_FILTER_ONLY_INGRESS;
  if (bpf_map__update_elem(maps.filter, &zero, sizeof(zero), &on, sizeof(on), 0) != 0) {
    return make_error(fmt::format("cannot set the kernel filter: {}", errno_text(errno)));
  }
  return {};
}

Result<void> KernelProbes::set_go_offsets(uint32_t index, const qtap_go_offsets& offsets) {
  if (bpf_map__update_elem(impl_->skel->maps.go_offsets, &index, sizeof(index), &offsets,
                           sizeof(offsets), 0) != 0) {
    return make_error(fmt::format("cannot store Go offsets #{}: {}", index, errno_text(errno)));
  }
  return {};
}

size_t KernelProbes::uprobe_count() const {
  std::lock_guard lock(impl_->links_mu);
  return impl_->links.size();
}

void KernelProbes::forget_file(uint32_t dev, uint64_t ino) {
  uint64_t key = (uint64_t(dev) << 32) ^ ino;
  bpf_map__delete_elem(impl_->skel->maps.seen_files, &key, sizeof(key), 0);
}

void KernelProbes::forget(uint32_t pid, int32_t fd) {
  qtap_fd_key key{pid, fd};
  bpf_map__delete_elem(impl_->skel->maps.conns, &key, sizeof(key), 0);
}

}  // namespace qtap::probes
