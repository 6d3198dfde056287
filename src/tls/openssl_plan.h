// Where to put the OpenSSL uprobes in one file (libssl.so.* or an executable
// with OpenSSL linked in statically, like node), and how the BPF side reads
// the byte counts there.
//
// Placement, in order of preference (docs/tls-discovery.md has the why):
//  1. the internal workers ssl_write_internal / ssl_read_internal, when the
//     public functions of a direction (SSL_write + SSL_write_ex, SSL_read +
//     SSL_read_ex) call them directly and their first instruction is one the
//     kernel emulates. Found by symbol when the file keeps one, else as the one
//     common direct-call target of the two public functions (Debian's
//     libssl.so.3 hides the workers but its SSL_write_ex is
//     `sub $8,%rsp; call <ssl_write_internal>`). From OpenSSL 3.3 on (the file
//     exports SSL_write_ex2) the write worker takes an extra flags argument
//     and SSL_write_ex reaches it through SSL_write_ex2;
//  2. otherwise the public functions at their entry, each its own target,
//     except one that calls another of them (captured once, by the callee).
// Never mixed: either the two workers cover all public functions, or the
// public functions are probed, so no call is captured twice.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "tls/openssl_version.h"

namespace qtap::tls {

class ElfFile;

// How the BPF side finds the plaintext byte count at a probe.
enum class ArgStyle : uint8_t {
  kPublicInt,      // SSL_write/SSL_read(ssl, buf, int num): return value = bytes (<= 0: none)
  kPublicEx,       // SSL_write_ex/SSL_read_ex(ssl, buf, size_t num, size_t* done):
                   // returns 1 on success, bytes in *done (4th argument, %rcx at entry)
  kInternal,       // ssl_write_internal/ssl_read_internal(ssl, buf, num, size_t* done):
                   // returns > 0 on success, bytes in *done (4th argument, %rcx)
  kPublicEx2,      // SSL_write_ex2(ssl, buf, num, uint64_t flags, size_t* done) (OpenSSL >= 3.3):
                   // returns 1 on success, bytes in *done (5th argument, %r8 at entry)
  kInternalFlags,  // ssl_write_internal(ssl, buf, num, uint64_t flags, size_t* done) of
                   // OpenSSL >= 3.3 (the file exports SSL_write_ex2): returns > 0 on
                   // success, bytes in *done (5th argument, %r8)
};

const char* to_string(ArgStyle style);

struct ProbeTarget {
  std::string role;    // "write" | "read"
  std::string symbol;  // the function's name (for a worker found as a call target, its
                       // OpenSSL source name: the file has no such symbol)
  uint64_t vaddr = 0;
  uint64_t file_offset = 0;  // what the uprobe is attached with
  ArgStyle style = ArgStyle::kPublicInt;
  bool emulated = false;   // first instruction emulated by the kernel (cheap hit)
  std::string first_insn;  // AT&T text, e.g. "push %r14"
};

enum class Placement : uint8_t {
  kInternalWorkers,
  kPublicFunctions,
};

struct OpenSslPlan {
  Placement placement = Placement::kPublicFunctions;
  std::vector<ProbeTarget> targets;  // write targets first, then read targets
  OpenSslVersion version;
  // How the workers were found ("symbol" / "call target"), or why they were
  // not used (e.g. "ssl_write_internal is not called by SSL_write (inlined)").
  std::string reason;

  // One line for logs and `qtap check`, e.g.
  // "OpenSSL 3 (file name): internal workers (call target):
  //  ssl_write_internal@0x355a0 (push %r14), ssl_read_internal@0x35290 (push %r13)"
  std::string describe() const;
};

// Errors when the file defines no SSL_write/SSL_read, or their code cannot be
// read. BoringSSL and OpenSSL < 1.1.1 (no *_ex) get the public functions
// that exist. `with_version`: also look for the version banner, which reads
// all of .rodata (~8 ms for node): the attacher does it after attaching.
Result<OpenSslPlan> plan_openssl_probes(const ElfFile& elf, bool with_version = true);

}  // namespace qtap::tls
