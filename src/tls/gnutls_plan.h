// Where to put the GnuTLS uprobes in libgnutls.so.30, and how the BPF side
// reads the byte counts there.
//
//   ssize_t gnutls_record_send(gnutls_session_t, const void *data, size_t size);
//   ssize_t gnutls_record_send2(session, data, size, size_t pad, unsigned flags);  (>= 3.6.3)
//   ssize_t gnutls_record_send_range(session, data, size, const gnutls_range_st *);
//   ssize_t gnutls_record_recv(session, void *data, size_t size);
//   ssize_t gnutls_record_recv_seq(session, data, size, unsigned char *seq);
// The return value is the byte count (> 0), negative a GNUTLS_E_* code.
//
// The public entries are slow to probe on Debian's 3.7.9: gnutls_record_send
// is `xor %r8d,%r8d; xor %ecx,%ecx; jmp gnutls_record_send2@plt` and
// gnutls_record_recv starts with `sub $8,%rsp` (single-stepped). Cheaper:
//  - write: gnutls_record_send2 (exported, documented, `push %r15`), when
//    gnutls_record_send reaches it (call, tail call, or through the PLT):
//    every gnutls_record_send is captured there, with the same first three
//    arguments and return value. gnutls_record_send_range has its own path
//    (to the internal sender) and is probed at its entry when present.
//  - read: the internal _gnutls_recv_int(session, content_type_t type,
//    uint8_t *data, size_t size, void *seq, unsigned ms), found as the
//    common direct callee of gnutls_record_recv and gnutls_record_recv_seq
//    that both call (or tail-call) with (session, 23, data, size) in
//    (%rdi, %esi, %rdx, %rcx) - checked by following register copies through
//    the callers, so a release whose worker takes other arguments (3.3 had
//    (session, type, htype, packet, data, size, ...)) falls back to the public
//    functions. Other internal callers use it for alerts (21), change cipher
//    spec (20) and heartbeats (24): the BPF side keeps type 23 only. A second
//    such callee of gnutls_record_recv (the kTLS receive path of 3.7, which
//    bypasses _gnutls_recv_int) is probed too, with the same style.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace qtap::tls {

class ElfFile;

// How the BPF side finds the plaintext at a GnuTLS probe.
enum class GnuTlsArgStyle : uint8_t {
  kRecord,   // gnutls_record_{send,send2,send_range,recv,recv_seq}(session %rdi, data %rsi,
             // size %rdx, ...): bytes = the ssize_t return, if > 0
  kRecvInt,  // internal receive(session %rdi, type %esi, data %rdx, size %rcx, ...):
             // only calls with type == 23 (application data); bytes = return, if > 0
};

const char* to_string(GnuTlsArgStyle style);

// A function of the file, at its entry.
struct GnuTlsFunction {
  std::string name;  // the symbol, or the GnuTLS source name of a hidden function
  uint64_t vaddr = 0;
  uint64_t file_offset = 0;
  bool emulated = false;   // first instruction emulated by the kernel
  std::string first_insn;  // AT&T text
};

struct GnuTlsTarget {
  std::string role;  // "write" | "read"
  GnuTlsFunction function;
  GnuTlsArgStyle style = GnuTlsArgStyle::kRecord;
};

struct GnuTlsPlan {
  std::vector<GnuTlsTarget> targets;  // write targets first, then read targets
  std::string write_reason;           // why these write targets
  std::string read_reason;
  std::string version;  // "3.7.9" from .rodata, "" if not found

  // Session -> socket. The transport functions the file exports, of
  // gnutls_transport_{set,get}_{int,int2,ptr,ptr2}: set_int(s, fd) is a
  // macro for set_int2(s, fd, fd). The fd an application gives GnuTLS is
  // stored as a pointer-sized value in the session, read by
  // gnutls_transport_get_ptr2: transport_recv_offset / transport_send_offset
  // are the offsets of those two fields in the session struct, decoded
  // from gnutls_transport_set_ptr2's stores (nullopt if its code is not
  // the expected two stores). The value is an fd only when the application
  // uses GnuTLS's own socket I/O (set_int/set_int2, or set_ptr with an int
  // cast); applications with their own push/pull functions (curl 7.88 passes
  // its connection filter) store a pointer there: their fd comes from the
  // send/recv syscall made inside the gnutls_record_* call.
  std::vector<GnuTlsFunction> transport;
  std::optional<uint32_t> transport_recv_offset;
  std::optional<uint32_t> transport_send_offset;
  std::optional<GnuTlsFunction> deinit;  // gnutls_deinit(session): forget the session

  // One line for logs and `qtap check`.
  std::string describe() const;
};

// Errors when the file defines no gnutls_record_send/gnutls_record_recv, or
// their code cannot be read.
Result<GnuTlsPlan> plan_gnutls_probes(const ElfFile& elf);

}  // namespace qtap::tls
