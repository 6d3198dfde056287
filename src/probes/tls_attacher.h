// Finds the TLS libraries in use on the machine and attaches the TLS uprobes
// to each file once (by device and inode, so every process mapping it is
// covered). At start it looks everywhere (library directories of the host and
// of every other mount namespace, libraries mapped by running processes,
// executables with OpenSSL linked in); afterwards it follows exec events (new
// executables, new mount namespaces) and executable mappings of files never
// seen before (dlopen, LD_LIBRARY_PATH copies) on a worker thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "probes/kernel_probes.h"
#include "tls/tls_discovery.h"

namespace qtap::tls {
class ElfFile;
}

namespace qtap::probes {

// libssl.so* (OpenSSL), libgnutls.so*, libssl3.so (NSS).
bool is_tls_library_path(std::string_view path);

struct TlsAttacherConfig {
  std::string proc_root = "/proc";
  bool openssl = true;
  bool go = true;
  bool gnutls = true;
  bool nss = true;
  bool any() const { return openssl || go || gnutls || nss; }
};

// What was found in one file, for logs and `qtap check`.
struct TlsLibraryInfo {
  std::string path;         // as qtap opened it
  std::string library;      // "openssl"
  std::string description;  // version and probe placement
  size_t probes = 0;        // uprobes attached (0 in a dry run or on error)
  std::string error;        // why it could not be probed
};

class TlsAttacher {
 public:
  // `probes` null: plan only (`qtap check`).
  TlsAttacher(TlsAttacherConfig cfg, KernelProbes* probes);
  ~TlsAttacher();
  TlsAttacher(const TlsAttacher&) = delete;
  TlsAttacher& operator=(const TlsAttacher&) = delete;

  // Everything present now; returns when every probe is attached.
  void discover_all();
  // From now on, follow events on a worker thread.
  void start();

  // Event hooks (cheap: they queue work for the worker).
  void on_exec(uint32_t pid);
  void on_exec_mapping(uint32_t pid, uint32_t dev, uint64_t ino, std::string_view name);

  std::vector<TlsLibraryInfo> libraries() const;

 private:
  struct Job {
    enum Kind { kExec, kMapping } kind;
    uint32_t pid = 0;
    uint32_t dev = 0;
    uint64_t ino = 0;
    std::chrono::steady_clock::time_point queued{};
  };

  static constexpr int kWorkerNice = -10;
  void run(std::stop_token stop);
  void handle(const Job& job);
  void scan_process(uint32_t pid);
  void scan_root_once(uint32_t pid);
  // Plans and attaches `path` unless its file was examined already.
  // `executable`: a program (Go, or OpenSSL linked in) rather than a library
  // recognised by its name. `shown`: its name for logs and for recognising
  // the library (`path` may be a /proc link).
  void examine(const std::string& path, bool executable, const std::string& shown = {});
  void examine_exe(uint32_t pid);
  void examine_go(const tls::ElfFile& elf, const std::string& path, const std::string& shown);
  // Attaches `uprobes` to `path` and logs the outcome. `describe`, if given,
  // fills info.description once the probes are live (the slow part of a
  // description is not on the way to attaching).
  void record(TlsLibraryInfo info, const std::string& path, const std::vector<Uprobe>& uprobes,
              const std::function<std::string()>& describe = {});
  uint32_t go_offsets_index(const qtap_go_offsets& o);

  TlsAttacherConfig cfg_;
  KernelProbes* probes_;
  // What a process sees as "/": its mount namespace, and the mount and
  // inode of its root directory (a container runtime starts its first program
  // in the new namespace before pivot_root, and chroot keeps the namespace).
  using RootKey = std::tuple<uint64_t, uint64_t, uint64_t>;
  RootKey own_root_{};
  // Touched by discover_all() before start(), then by the worker only.
  std::unordered_set<tls::FileIdentity, tls::FileIdentityHash> examined_;
  std::set<RootKey> roots_scanned_;
  std::vector<qtap_go_offsets> go_offsets_;  // index = the Go probes' cookie extra

  mutable std::mutex mu_;  // guards queue_ and libs_
  std::condition_variable_any cv_;
  std::deque<Job> queue_;
  std::vector<TlsLibraryInfo> libs_;
  std::jthread worker_;
  // When the event behind the job being handled arrived (worker only): the
  // log says how long a new program ran unprobed.
  std::optional<std::chrono::steady_clock::time_point> job_queued_;
};

}  // namespace qtap::probes
