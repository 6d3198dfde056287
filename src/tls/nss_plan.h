// Where to put uprobes for NSS (Firefox, Thunderbird, curl-nss, LibreOffice),
// and how to tell TLS sockets from everything else there.
//
// NSS does TLS as an NSPR I/O layer: an SSL socket is a stack of PRFileDesc
// layers, the SSL layer on (or near) the top, NSPR's OS socket layer at the
// bottom. The application reads and writes plaintext with
//   PRInt32 PR_Write(PRFileDesc *fd, const void *buf, PRInt32 amount);
//   PRInt32 PR_Read (PRFileDesc *fd, void *buf, PRInt32 amount);
//   PRInt32 PR_Send (PRFileDesc *fd, const void *buf, PRInt32 amount,
//                    PRIntn flags, PRIntervalTime timeout);
//   PRInt32 PR_Recv (PRFileDesc *fd, void *buf, PRInt32 amount, PRIntn flags,
//                    PRIntervalTime timeout);
// (libnspr4.so), returning the byte count (> 0; -1 on error). Each is
// `mov (%rdi),%rax; jmp *slot(%rax)`: a dispatch through fd->methods to the
// top layer's function. Two ways to probe:
//
//  1. plan_nss_ssl_probes(libssl3.so), preferred: the SSL layer's own
//     methods ssl_Write/ssl_Read/ssl_Send/ssl_Recv (static in NSS's
//     sslsock.c), the functions PR_Write & co. jump to for an SSL fd. Only
//     TLS sockets get there, so no filtering is needed; each starts with
//     `push` (emulated) on Debian's NSS 3.87. They are not symbols: they are
//     found in the code that fills the SSL layer's method table at
//     initialisation (ssl_InitIOLayer, the one caller of
//     PR_GetUniqueIdentity@plt: `ssl_layer_id = PR_GetUniqueIdentity("SSL")`,
//     then combined_methods = *PR_GetDefaultIOMethods() with the ssl_*
//     functions stored into its slots), by following those stores. Every
//     function found must check `fd->identity == ssl_layer_id` (NSS's
//     ssl_GetPrivate), or the plan is refused.
//  2. plan_nss_probes(libnspr4.so): PR_Write & co. at their entries
//     (`mov`, single-stepped), hit by every NSPR read/write, files and
//     plain sockets included. The BPF side must then keep only TLS fds: walk
//     at most a few layers from fd down `lower`, looking for
//     `identity == ssl_layer_id` (the value of that static in the process:
//     NssSslPlan::layer_id_vaddr + the load bias of libssl3.so) or
//     `methods == combined_methods` (NssSslPlan::methods_vaddr + the bias).
//     Both need a per-process address.
//
// The OS fd, from any layer: follow `lower` to the bottom layer (lower ==
// NULL; its identity is PR_NSPR_IO_LAYER, 0), then secret->md.osfd:
//   fd->lower...->secret (PRFilePrivate*) + osfd: int
// which is what PR_FileDesc2NativeHandle does (its code gives the offsets).
//
// Only a bottom layer whose identity is PR_NSPR_IO_LAYER has a PRFilePrivate
// as its secret: check the identity before reading md.osfd. An application
// that runs TLS over its own transport ends on a layer of its own (Firefox
// tunnels TLS through an HTTPS proxy with a custom bottom layer whose I/O
// goes through the outer connection): no OS fd there, and the outer
// connection's ssl_Write carries the inner session's TLS records.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace qtap::tls {

class ElfFile;

// PRFileDesc (prio.h: a public ABI, checked against the header in the
// tests): { const PRIOMethods *methods; PRFilePrivate *secret; PRFileDesc
// *lower, *higher; void (*dtor)(PRFileDesc *); PRDescIdentity identity; }.
struct PrFileDescLayout {
  uint32_t methods = 0;
  uint32_t secret = 8;
  uint32_t lower = 16;
  uint32_t higher = 24;
  uint32_t dtor = 32;
  uint32_t identity = 40;  // PRDescIdentity (PRIntn, 4 bytes)
  // PRFilePrivate.md.osfd (NSPR's private primpl.h; 0x1c on Linux x86-64):
  // decoded from PR_FileDesc2NativeHandle.
  uint32_t osfd = 0x1c;
  int32_t nspr_layer_identity = 0;  // PR_NSPR_IO_LAYER: the bottom (OS) layer
};

// Slots of PRIOMethods (prio.h) that carry plaintext.
struct PrIoMethodSlots {
  uint32_t read = 0x10;
  uint32_t write = 0x18;
  uint32_t recv = 0x88;
  uint32_t send = 0x90;
};

enum class NssArgStyle : uint8_t {
  kReadWrite,  // (PRFileDesc *fd %rdi, buf %rsi, PRInt32 amount %edx): bytes = %eax, if > 0
  kRecvSend,   // (fd %rdi, buf %rsi, PRInt32 amount %edx, flags %ecx, timeout %r8d): bytes = %eax
};
const char* to_string(NssArgStyle style);

struct NssTarget {
  std::string role;    // "write" | "read"
  std::string symbol;  // PR_Write..., or ssl_Write... (NSS source names: not symbols)
  uint64_t vaddr = 0;
  uint64_t file_offset = 0;
  NssArgStyle style = NssArgStyle::kReadWrite;
  uint32_t method_slot = 0;  // the PRIOMethods slot it implements / dispatches through
  bool emulated = false;
  std::string first_insn;
};

struct NsprPlan {
  std::vector<NssTarget> targets;  // PR_Write, PR_Send, PR_Read, PR_Recv
  PrFileDescLayout layout;
  PrIoMethodSlots slots;
  std::string describe() const;
};

// The NSPR entry points of libnspr4.so, with the PRFileDesc layout and
// method slots checked against (and md.osfd taken from) its code:
// PR_GetIdentitiesLayer walks `lower` comparing `identity`,
// PR_FileDesc2NativeHandle reads `secret` then `md.osfd`, and PR_Read & co.
// jump through their slots. Errors when a function is missing or its code
// disagrees with prio.h.
Result<NsprPlan> plan_nss_probes(const ElfFile& nspr);

struct NssSslPlan {
  std::vector<NssTarget> targets;  // ssl_Write, ssl_Send, ssl_Read, ssl_Recv (minus wrappers)
  uint64_t init_function = 0;      // ssl_InitIOLayer
  uint64_t layer_id_vaddr = 0;     // static PRDescIdentity ssl_layer_id (.bss, 4 bytes)
  uint64_t methods_vaddr = 0;      // static PRIOMethods combined_methods (.bss)
  std::string reason;              // how the wrappers were decided, when any
  std::string describe() const;
};

// The SSL layer of NSS's libssl3.so, see option 1 above. Errors when the
// file does not call PR_GetUniqueIdentity through its PLT, the method table
// stores cannot be followed, or a function found does not check the SSL
// layer identity.
Result<NssSslPlan> plan_nss_ssl_probes(const ElfFile& libssl3);

}  // namespace qtap::tls
