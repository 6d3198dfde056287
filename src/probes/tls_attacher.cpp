#include "probes/tls_attacher.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/log.h"
#include "qtap_abi.h"
#include "tls/elf_file.h"
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

uint64_t mnt_ns_of(const std::string& proc_root, uint32_t pid) {
  struct stat st {};
  std::string p = pid ? fmt::format("{}/{}/ns/mnt", proc_root, pid) : proc_root + "/self/ns/mnt";
  if (stat(p.c_str(), &st) != 0) return 0;
  return st.st_ino;
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

}  // namespace

TlsAttacher::TlsAttacher(TlsAttacherConfig cfg, KernelProbes* probes)
    : cfg_(std::move(cfg)), probes_(probes), own_mnt_ns_(mnt_ns_of(cfg_.proc_root, 0)) {}

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

void TlsAttacher::examine(const std::string& path, bool must_have_openssl, const std::string& shown) {
  auto id = tls::file_identity(path);
  if (!id || !examined_.insert(*id).second) return;
  auto elf = tls::ElfFile::open(path);
  if (!elf) {
    spdlog::debug("TLS: cannot read {}: {}", shown.empty() ? path : shown, elf.error().message);
    return;
  }
  if (must_have_openssl && !tls::has_openssl_symbols(*elf)) return;
  TlsLibraryInfo info{shown.empty() ? path : shown, "openssl", "", 0, ""};
  auto plan = tls::plan_openssl_probes(*elf);
  if (!plan) {
    info.error = plan.error().message;
    spdlog::warn("TLS: {} has OpenSSL but no probe plan: {}", info.path, info.error);
  } else {
    info.description = plan->describe();
    if (probes_) {
      auto uprobes = openssl_uprobes(*elf, *plan);
      if (auto r = probes_->attach_uprobes(path, uprobes); !r) {
        info.error = r.error().message;
        spdlog::warn("TLS: cannot probe {}: {}", info.path, info.error);
      } else {
        info.probes = uprobes.size();
        spdlog::info("TLS: probing {}: {}", info.path, info.description);
      }
    }
  }
  std::lock_guard lock(mu_);
  libs_.push_back(std::move(info));
}

void TlsAttacher::scan_root_once(uint32_t pid) {
  uint64_t ns = mnt_ns_of(cfg_.proc_root, pid);
  if (ns == 0 || !mnt_ns_scanned_.insert(ns).second) return;
  // Our own namespace is the host's root; others are reached through a
  // process living in them.
  std::string root = ns == own_mnt_ns_ ? "" : fmt::format("{}/{}/root", cfg_.proc_root, pid);
  for (const auto& lib : tls::scan_library_dirs(root, tls::is_libssl_path)) examine(lib.host_path, false);
}

void TlsAttacher::scan_process(uint32_t pid) {
  if (pid == static_cast<uint32_t>(getpid())) return;
  scan_root_once(pid);
  if (auto files = tls::find_mapped_files(cfg_.proc_root, pid, tls::is_libssl_path)) {
    for (const auto& f : *files) examine(f.access_path, false);
  }
  examine_exe(pid);
}

void TlsAttacher::discover_all() {
  if (!cfg_.any()) return;
  mnt_ns_scanned_.insert(own_mnt_ns_);
  for (const auto& lib : tls::scan_library_dirs("", tls::is_libssl_path)) examine(lib.host_path, false);
  for (uint32_t pid : list_pids(cfg_.proc_root)) scan_process(pid);
}

void TlsAttacher::start() {
  if (!cfg_.any()) return;
  worker_ = std::jthread([this](std::stop_token st) { run(st); });
}

void TlsAttacher::on_exec(uint32_t pid) {
  std::lock_guard lock(mu_);
  if (queue_.size() < kMaxQueuedJobs) queue_.push_back({Job::kExec, pid, 0, 0});
  cv_.notify_one();
}

void TlsAttacher::on_exec_mapping(uint32_t pid, uint32_t dev, uint64_t ino, std::string_view name) {
  if (!tls::is_libssl_path(name)) return;
  std::lock_guard lock(mu_);
  if (queue_.size() < kMaxQueuedJobs) queue_.push_back({Job::kMapping, pid, dev, ino});
  cv_.notify_one();
}

void TlsAttacher::run(std::stop_token stop) {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait(lock, stop, [&] { return !queue_.empty(); })) return;
      job = queue_.front();
      queue_.pop_front();
    }
    handle(job);
  }
}

void TlsAttacher::handle(const Job& job) {
  if (job.kind == Job::kExec) {
    scan_root_once(job.pid);
    examine_exe(job.pid);
    return;
  }
  // A libssl mapped for the first time: find it through the process's maps.
  auto files = tls::find_mapped_files(cfg_.proc_root, job.pid, tls::is_libssl_path);
  bool found = false;
  if (files) {
    for (const auto& f : *files) {
      if (f.inode != job.ino) continue;
      found = true;
      examine(f.access_path, false);
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
