// Finds the TLS libraries in use on the machine and attaches the TLS uprobes
// to each file once (by device and inode, so every process mapping it is
// covered). At start it looks everywhere (library directories of the host and
// of every other mount namespace, libraries mapped by running processes,
// executables with OpenSSL linked in); afterwards it follows exec events (new
// executables, new mount namespaces) and executable mappings of files never
// seen before (dlopen, LD_LIBRARY_PATH copies) on a worker thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "probes/kernel_probes.h"
#include "tls/tls_discovery.h"

namespace qtap::probes {

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
  };

  void run(std::stop_token stop);
  void handle(const Job& job);
  void scan_process(uint32_t pid);
  void scan_root_once(uint32_t pid);
  // Plans and attaches `path` unless its file was examined already.
  // `must_have_openssl`: an executable, probed only if OpenSSL is linked in.
  // `shown`: the name for logs when `path` is a /proc link.
  void examine(const std::string& path, bool must_have_openssl, const std::string& shown = {});
  void examine_exe(uint32_t pid);

  TlsAttacherConfig cfg_;
  KernelProbes* probes_;
  uint64_t own_mnt_ns_ = 0;
  // Touched by discover_all() before start(), then by the worker only.
  std::unordered_set<tls::FileIdentity, tls::FileIdentityHash> examined_;
  std::unordered_set<uint64_t> mnt_ns_scanned_;

  mutable std::mutex mu_;  // guards queue_ and libs_
  std::condition_variable_any cv_;
  std::deque<Job> queue_;
  std::vector<TlsLibraryInfo> libs_;
  std::jthread worker_;
};

}  // namespace qtap::probes
