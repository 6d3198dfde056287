#include "probes/tls_attacher.h"

#include <dirent.h>
#include <fcntl.h>
#include <cstring>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/log.h"
#include "qtap_abi.h"
#include "tls/elf_file.h"
#include "tls/gnutls_plan.h"
#include "tls/go_plan.h"
#include "tls/nss_plan.h"
#include "tls/openssl_plan.h"

namespace qtap::probes {

namespace {

constexpr size_t kMaxQueuedJobs = 4096;

uint8_t cookie_style(tls::ArgStyle s) {
  switch (s) {
    case tls::ArgStyle::kPublicInt: return QTAP_TLS_STYLE_RET;
    case tls::ArgStyle::kPublicEx:
    case tls::ArgStyle::kInternal: return QTAP_TLS_STYLE_DONE_ARG4;
    case tls::ArgStyle::kPublicEx2:
    case tls::ArgStyle::kInternalFlags: return QTAP_TLS_STYLE_DONE_ARG5;
  }
  return QTAP_TLS_STYLE_RET;
}

// The process's view of "/" (see TlsAttacher::RootKey); all zero if it is gone.
std::tuple<uint64_t, uint64_t, uint64_t> root_of(const std::string& proc_root, uint32_t pid) {
  const std::string dir = pid ? fmt::format("{}/{}", proc_root, pid) : proc_root + "/self";
  struct stat ns {};
  struct statx root {};
  if (stat((dir + "/ns/mnt").c_str(), &ns) != 0 ||
      statx(AT_FDCWD, (dir + "/root").c_str(), 0, STATX_INO | STATX_MNT_ID, &root) != 0) {
    return {0, 0, 0};
  }
  return {ns.st_ino, (root.stx_mask & STATX_MNT_ID) ? root.stx_mnt_id : 0, root.stx_ino};
}

std::vector<uint32_t> list_pids(const std::string& proc_root) {
  std::vector<uint32_t> pids;
  DIR* d = opendir(proc_root.c_str());
  if (!d) return pids;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    unsigned long pid = strtoul(e->d_name, &end, 10);
    if (end && *end == '\0' && pid > 0) pids.push_back(static_cast<uint32_t>(pid));
  }
  closedir(d);
  return pids;
}

// The uprobes for one OpenSSL plan: enter + return per read/write target,
// plus SSL_set_fd (names a session's socket) and SSL_free (forgets it).
std::vector<Uprobe> openssl_uprobes(const tls::ElfFile& elf, const tls::OpenSslPlan& plan) {
  std::vector<Uprobe> out;
  for (const auto& t : plan.targets) {
    uint8_t dir = t.role == "write" ? QTAP_DIR_SEND : QTAP_DIR_RECV;
    uint64_t cookie = QTAP_TLS_COOKIE(dir, cookie_style(t.style), QTAP_TLS_OPENSSL);
    out.push_back({UprobeKind::kTlsEnter, t.file_offset, cookie});
    out.push_back({UprobeKind::kTlsReturn, t.file_offset, cookie});
  }
  for (auto [name, kind] : {std::pair{"SSL_set_fd", UprobeKind::kTlsSetFd}, {"SSL_free", UprobeKind::kTlsFree}}) {
    auto sym = elf.symbol(name);
    if (!sym) continue;
    if (auto off = elf.vaddr_to_offset(sym->value)) out.push_back({kind, *off, 0});
  }
  return out;
}

std::string_view base_name(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool is_gnutls_path(std::string_view path) { return base_name(path).starts_with("libgnutls.so"); }
// NSS's TLS library (not OpenSSL's libssl.so.3, which is_libssl_path matches).
bool is_nss_ssl_path(std::string_view path) { return base_name(path).starts_with("libssl3.so"); }

uint64_t gnutls_cookie(const tls::GnuTlsTarget& t) {
  uint8_t dir = t.role == "write" ? QTAP_DIR_SEND : QTAP_DIR_RECV;
  uint8_t style = t.style == tls::GnuTlsArgStyle::kRecvInt ? QTAP_TLS_STYLE_RECORD_TYPE : QTAP_TLS_STYLE_RET_SSIZE;
  return QTAP_TLS_COOKIE(dir, style, QTAP_TLS_GNUTLS);
}

std::vector<Uprobe> gnutls_uprobes(const tls::GnuTlsPlan& plan) {
  std::vector<Uprobe> out;
  for (const auto& t : plan.targets) {
    out.push_back({UprobeKind::kTlsEnter, t.function.file_offset, gnutls_cookie(t)});
    out.push_back({UprobeKind::kTlsReturn, t.function.file_offset, gnutls_cookie(t)});
  }
  if (plan.deinit) out.push_back({UprobeKind::kTlsFree, plan.deinit->file_offset, 0});
  return out;
}

std::vector<Uprobe> nss_uprobes(const tls::NssSslPlan& plan) {
  std::vector<Uprobe> out;
  for (const auto& t : plan.targets) {
    uint8_t dir = t.role == "write" ? QTAP_DIR_SEND : QTAP_DIR_RECV;
    // ssl_Write/ssl_Read/ssl_Send/ssl_Recv return a PRInt32 byte count.
    uint64_t cookie = QTAP_TLS_COOKIE(dir, QTAP_TLS_STYLE_RET, QTAP_TLS_NSS);
    out.push_back({UprobeKind::kTlsEnter, t.file_offset, cookie});
    out.push_back({UprobeKind::kTlsReturn, t.file_offset, cookie});
  }
  return out;
}

std::vector<Uprobe> go_uprobes(const tls::GoTlsPlan& plan, uint32_t offsets_index) {
  std::vector<Uprobe> out;
  for (const auto& f : plan.functions) {
    uint8_t dir = f.role == "write" ? QTAP_DIR_SEND : QTAP_DIR_RECV;
    if (f.bytes_at_entry()) {
      uint64_t cookie = QTAP_TLS_COOKIE_EXTRA(
          QTAP_TLS_COOKIE(dir, QTAP_TLS_STYLE_GO_WRITE_AT_ENTRY, QTAP_TLS_GO), offsets_index);
      out.push_back({UprobeKind::kGoWriteAtEntry, f.entry.file_offset, cookie});
      continue;
    }
    uint64_t cookie = QTAP_TLS_COOKIE_EXTRA(QTAP_TLS_COOKIE(dir, 0, QTAP_TLS_GO), offsets_index);
    out.push_back({UprobeKind::kGoEnter, f.entry.file_offset, cookie});
    if (f.copy_out) {
      out.push_back({UprobeKind::kGoReadCopy, f.copy_out->file_offset, cookie});
      continue;
    }
    for (const auto& r : f.rets) out.push_back({UprobeKind::kGoReturn, r.file_offset, cookie});
  }
  return out;
}

}  // namespace

bool is_tls_library_path(std::string_view path) {
  return tls::is_libssl_path(path) || is_gnutls_path(path) || is_nss_ssl_path(path);
}

TlsAttacher::TlsAttacher(TlsAttacherConfig cfg, KernelProbes* probes)
    : cfg_(std::move(cfg)), probes_(probes), own_root_(root_of(cfg_.proc_root, 0)) {}

TlsAttacher::~TlsAttacher() {
  if (worker_.joinable()) {
    worker_.request_stop();
    cv_.notify_all();
  }
}

void TlsAttacher::examine_exe(uint32_t pid) {
  std::string link = fmt::format("{}/{}/exe", cfg_.proc_root, pid);
  char target[4096];
  ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
  // Opened through the link (it reaches into any mount namespace); named by
  // where it points.
  examine(link, true, n > 0 ? std::string(target, static_cast<size_t>(n)) : link);
}

void TlsAttacher::record(TlsLibraryInfo info, const std::string& path, const std::vector<Uprobe>& uprobes,
                         const std::function<std::string()>& describe) {
  if (info.error.empty() && probes_) {
    if (auto r = probes_->attach_uprobes(path, uprobes); !r) {
      info.error = r.error().message;
    } else {
      info.probes = uprobes.size();
    }
  }
  std::string delay;
  if (job_queued_ && probes_ && info.error.empty()) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - *job_queued_);
    delay = fmt::format(" (probes live {:.1f} ms after the event)", us.count() / 1000.0);
  }
  if (describe) info.description = describe();
  if (!info.error.empty()) {
    spdlog::warn("TLS: cannot probe {} ({}): {}", info.path, info.library, info.error);
  } else if (probes_) {
    spdlog::info("TLS: probing {}: {}{}", info.path, info.description, delay);
  }
  std::lock_guard lock(mu_);
  libs_.push_back(std::move(info));
}

uint32_t TlsAttacher::go_offsets_index(const qtap_go_offsets& o) {
  for (size_t i = 0; i < go_offsets_.size(); i++) {
    if (std::memcmp(&go_offsets_[i], &o, sizeof(o)) == 0) return static_cast<uint32_t>(i);
  }
  if (go_offsets_.size() >= QTAP_GO_OFFSETS_MAX) return UINT32_MAX;
  go_offsets_.push_back(o);
  uint32_t index = static_cast<uint32_t>(go_offsets_.size() - 1);
  if (probes_) {
    if (auto r = probes_->set_go_offsets(index, o); !r) spdlog::warn("TLS: {}", r.error().message);
  }
  return index;
}

void TlsAttacher::examine_go(const tls::ElfFile& elf, const std::string& path, const std::string& shown) {
  auto plan = tls::plan_go_tls_probes(elf);
  TlsLibraryInfo info{shown, "go", "", 0, ""};
  if (!plan) {
    // Most Go programs (the compiler, linkers, tools) never link crypto/tls.
    if (plan.error().message.find("no function crypto/tls.") != std::string::npos) {
      spdlog::debug("TLS: {} is a Go program without crypto/tls", shown);
      return;
    }
    info.error = plan.error().message;
    record(std::move(info), path, {});
    return;
  }
  info.description = plan->describe();
  qtap_go_offsets o{};
  o.conn_itab = plan->offsets.tls_conn_conn;
  o.conn_data = plan->offsets.tls_conn_conn + plan->offsets.iface_data;
  o.tcpconn_fd = plan->offsets.conn_fd;
  o.netfd_sysfd = plan->offsets.netfd_pfd + plan->offsets.pfd_sysfd;
  // In a position-dependent executable the itab address is absolute; in a
  // PIE it moves with the load address, unknown here: walk without the check.
  o.tcp_conn_itab = elf.elf_type() == 2 ? plan->tcp_conn_itab.value_or(0) : 0;
  uint32_t index = go_offsets_index(o);
  if (index == UINT32_MAX) {
    info.error = "too many distinct Go struct layouts in use";
    record(std::move(info), path, {});
    return;
  }
  record(std::move(info), path, go_uprobes(*plan, index));
}

void TlsAttacher::examine(const std::string& path, bool executable, const std::string& shown_name) {
  auto id = tls::file_identity(path);
  if (!id || !examined_.insert(*id).second) return;
  const std::string& shown = shown_name.empty() ? path : shown_name;
  auto elf = tls::ElfFile::open(path);
  if (!elf) {
    spdlog::debug("TLS: cannot read {}: {}", shown, elf.error().message);
    return;
  }
  if (executable) {
    // Go never calls a C TLS library; its own crypto/tls is in the binary.
    if (auto build = tls::read_go_buildinfo(*elf)) {
      if (cfg_.go) examine_go(*elf, path, shown);
      return;
    }
    if (!cfg_.openssl || !tls::has_openssl_symbols(*elf)) return;
  }
  if (cfg_.gnutls && is_gnutls_path(shown)) {
    auto plan = tls::plan_gnutls_probes(*elf);
    TlsLibraryInfo info{shown, "gnutls", plan ? plan->describe() : "", 0, plan ? "" : plan.error().message};
    record(std::move(info), path, plan ? gnutls_uprobes(*plan) : std::vector<Uprobe>{});
    return;
  }
  if (cfg_.nss && is_nss_ssl_path(shown)) {
    auto plan = tls::plan_nss_ssl_probes(*elf);
    TlsLibraryInfo info{shown, "nss", plan ? plan->describe() : "", 0, plan ? "" : plan.error().message};
    record(std::move(info), path, plan ? nss_uprobes(*plan) : std::vector<Uprobe>{});
    return;
  }
  if (!cfg_.openssl || !(executable || tls::is_libssl_path(shown))) return;
  auto plan = tls::plan_openssl_probes(*elf, /*with_version=*/false);
  TlsLibraryInfo info{shown, "openssl", "", 0, plan ? "" : plan.error().message};
  record(std::move(info), path, plan ? openssl_uprobes(*elf, *plan) : std::vector<Uprobe>{}, [&] {
    if (!plan) return std::string();
    plan->version = tls::detect_openssl_version(*elf);
    return plan->describe();
  });
}

void TlsAttacher::scan_root_once(uint32_t pid) {
  const RootKey key = root_of(cfg_.proc_root, pid);
  if (std::get<0>(key) == 0 || !roots_scanned_.insert(key).second) return;
  // Our own root is the host's; others are reached through a process that
  // has them as "/".
  std::string root = key == own_root_ ? "" : fmt::format("{}/{}/root", cfg_.proc_root, pid);
  for (const auto& lib : tls::scan_library_dirs(root, is_tls_library_path)) {
    examine(lib.host_path, false, lib.host_path);
  }
}

void TlsAttacher::scan_process(uint32_t pid) {
  if (pid == static_cast<uint32_t>(getpid())) return;
  scan_root_once(pid);
  if (auto files = tls::find_mapped_files(cfg_.proc_root, pid, is_tls_library_path)) {
    for (const auto& f : *files) examine(f.access_path, false, f.path);
  }
  examine_exe(pid);
}

void TlsAttacher::discover_all() {
  if (!cfg_.any()) return;
  roots_scanned_.insert(own_root_);
  for (const auto& lib : tls::scan_library_dirs("", is_tls_library_path)) examine(lib.host_path, false, lib.host_path);
  for (uint32_t pid : list_pids(cfg_.proc_root)) scan_process(pid);
}

void TlsAttacher::start() {
  if (!cfg_.any()) return;
  worker_ = std::jthread([this](std::stop_token st) { run(st); });
}

void TlsAttacher::on_exec(uint32_t pid) {
  std::lock_guard lock(mu_);
  if (queue_.size() < kMaxQueuedJobs) queue_.push_back({Job::kExec, pid, 0, 0, std::chrono::steady_clock::now()});
  cv_.notify_one();
}

void TlsAttacher::on_exec_mapping(uint32_t pid, uint32_t dev, uint64_t ino, std::string_view name) {
  if (!is_tls_library_path(name)) return;
  std::lock_guard lock(mu_);
  if (queue_.size() < kMaxQueuedJobs) queue_.push_back({Job::kMapping, pid, dev, ino, std::chrono::steady_clock::now()});
  cv_.notify_one();
}

void TlsAttacher::run(std::stop_token stop) {
  // A new program races this thread to its first TLS call, and on a busy host
  // the program (just exec'd, runnable) would otherwise often run first. The
  // work here is short and comes only with new files, so a higher priority
  // costs others little. Needs CAP_SYS_NICE, which the agent has as root.
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kWorkerNice) != 0) {
    spdlog::debug("TLS: cannot raise the attacher's priority: {}", std::strerror(errno));
  }
  while (true) {
    Job job;
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait(lock, stop, [&] { return !queue_.empty(); })) return;
      job = queue_.front();
      queue_.pop_front();
    }
    job_queued_ = job.queued;
    handle(job);
    job_queued_.reset();
  }
}

void TlsAttacher::handle(const Job& job) {
  if (job.kind == Job::kExec) {
    scan_root_once(job.pid);
    examine_exe(job.pid);
    return;
  }
  // A libssl mapped for the first time: find it through the process's maps.
  auto files = tls::find_mapped_files(cfg_.proc_root, job.pid, is_tls_library_path);
  bool found = false;
  if (files) {
    for (const auto& f : *files) {
      if (f.inode != job.ino) continue;
      found = true;
      examine(f.access_path, false, f.path);
    }
  }
  // The process went away before we looked: let the kernel report the file
  // again when someone else maps it.
  if (!found && probes_) probes_->forget_file(job.dev, job.ino);
}

std::vector<TlsLibraryInfo> TlsAttacher::libraries() const {
  std::lock_guard lock(mu_);
  return libs_;
}

}  // namespace qtap::probes
