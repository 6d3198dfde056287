#include "probes/preflight.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace qtap::probes {

namespace {

std::string read_first_line(const char* path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  return line;
}

// Effective capability bits from /proc/self/status.
uint64_t effective_caps() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  }
  return 0;
}

Capability privileges() {
  constexpr int kCapSysAdmin = 21, kCapPerfmon = 38, kCapBpf = 39;
  uint64_t caps = effective_caps();
  bool admin = caps & (1ull << kCapSysAdmin);
  bool bpf = (caps & (1ull << kCapBpf)) && (caps & (1ull << kCapPerfmon));
  Capability c{"privileges", admin || bpf, true, ""};
  if (c.ok) {
    c.detail = geteuid() == 0 ? "running as root" : "CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) held";
  } else {
    c.detail = fmt::format(
        "qtap must run as root (or with CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE): running as "
        "uid {} without them",
        geteuid());
  }
  return c;
}

Capability architecture() {
  utsname u{};
  uname(&u);
  bool ok = std::string_view(u.machine) == "x86_64";
  return {"architecture", ok, true,
          ok ? fmt::format("x86_64, kernel {}", u.release)
             : fmt::format("qtap's syscall probes are built for x86_64, this machine is {}", u.machine)};
}

Capability kernel_btf(const btf* vmlinux) {
  if (vmlinux) return {"BTF", true, true, "/sys/kernel/btf/vmlinux present: CO-RE relocations work"};
  return {"BTF", false, true,
          "the kernel has no BTF (/sys/kernel/btf/vmlinux is missing): qtap's CO-RE programs "
          "need CONFIG_DEBUG_INFO_BTF=y"};
}

Capability ring_buffer(bool privileged) {
  int r = privileged ? libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) : -1;
  if (r == 1) return {"ring buffer", true, true, "BPF_MAP_TYPE_RINGBUF available"};
  return {"ring buffer", false, true,
          privileged ? "BPF ring buffers are not supported (kernel older than 5.8?)"
                     : "cannot test BPF ring buffers without privileges"};
}

Capability bpf_loop(bool privileged) {
  int r = privileged ? libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_FUNC_loop, nullptr) : -1;
  if (r == 1) return {"bpf_loop", true, true, "bpf_loop helper available: large buffers are copied in chunks"};
  return {"bpf_loop", false, true,
          privileged ? "the bpf_loop helper is missing (kernel older than 5.17): qtap copies "
                       "buffers chunk by chunk with it"
                     : "cannot test the bpf_loop helper without privileges"};
}

Capability tracepoints(const btf* vmlinux) {
  const char* needed[] = {"btf_trace_sys_enter", "btf_trace_sys_exit", "btf_trace_sched_process_exec",
                          "btf_trace_sched_process_exit"};
  std::string missing;
  for (const char* name : needed) {
    if (!vmlinux || btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) < 0) {
      missing += std::string(missing.empty() ? "" : ", ") + (name + 10);
    }
  }
  if (missing.empty()) {
    return {"tracepoints", true, true,
            "raw tracepoints sys_enter, sys_exit, sched_process_exec, sched_process_exit (tp_btf; no tracefs needed)"};
  }
  return {"tracepoints", false, true, fmt::format("raw tracepoints missing: {}", missing)};
}

Capability uprobes() {
  bool ok = access("/sys/bus/event_source/devices/uprobe/type", R_OK) == 0;
  return {"uprobes", ok, false,
          ok ? "uprobe PMU present: TLS libraries can be probed"
             : "no uprobe PMU (CONFIG_UPROBE_EVENTS off): TLS plaintext cannot be captured"};
}

Capability lockdown(bool privileged) {
  const char* path = "/sys/kernel/security/lockdown";
  if (access(path, R_OK) != 0 && privileged) {
    // securityfs is often not mounted at boot; mounting it changes nothing else.
    mount("securityfs", "/sys/kernel/security", "securityfs", 0, nullptr);
  }
  std::string line = read_first_line(path);
  if (line.empty()) return {"lockdown", true, true, "no lockdown LSM (or securityfs unavailable)"};
  auto open = line.find('['), close = line.find(']');
  std::string mode = open != std::string::npos && close != std::string::npos
                         ? line.substr(open + 1, close - open - 1)
                         : line;
  if (mode == "confidentiality") {
    return {"lockdown", false, true,
            "kernel lockdown is 'confidentiality': BPF may not read kernel memory, which qtap "
            "needs to map fds to sockets"};
  }
  return {"lockdown", true, true,
          fmt::format("lockdown '{}': reading memory allowed; bpf_probe_write_user refused (qtap never writes)", mode)};
}

Capability kprobes() {
  bool has = access("/sys/bus/event_source/devices/kprobe/type", R_OK) == 0;
  return {"kprobes", true, false,
          has ? "present, not used: qtap relies on tracepoints and uprobes only"
              : "absent (fine): qtap relies on tracepoints and uprobes only"};
}

}  // namespace

std::vector<Capability> check_capabilities() {
  std::vector<Capability> caps;
  caps.push_back(architecture());
  caps.push_back(privileges());
  bool privileged = caps.back().ok;
  libbpf_set_print(nullptr);
  btf* vmlinux = btf__load_vmlinux_btf();
  if (libbpf_get_error(vmlinux)) vmlinux = nullptr;
  caps.push_back(kernel_btf(vmlinux));
  caps.push_back(ring_buffer(privileged));
  caps.push_back(bpf_loop(privileged));
  caps.push_back(tracepoints(vmlinux));
  caps.push_back(uprobes());
  caps.push_back(lockdown(privileged));
  caps.push_back(kprobes());
  btf__free(vmlinux);
  return caps;
}

std::string first_blocker(const std::vector<Capability>& caps) {
  for (const auto& c : caps) {
    if (c.required && !c.ok) return c.detail;
  }
  return {};
}

}  // namespace qtap::probes
