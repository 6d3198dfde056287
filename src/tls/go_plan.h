// Where to put uprobes on a Go program's crypto/tls, and what the BPF side
// finds there.
//
// Go programs link crypto/tls statically and call no TLS library, so the
// probes go on `crypto/tls.(*Conn).Write` and `(*Conn).Read` in the
// executable itself. Two Go facts shape the plan:
//
//  - No uretprobes. A uretprobe replaces the return address on the stack;
//    Go copies (moves) goroutine stacks when they grow and walks them for GC
//    and tracebacks, and a foreign return address there crashes the program
//    ("unexpected return pc"). So the return side is a plain uprobe on every
//    RET instruction of the function (found by linear disassembly; Go emits
//    no data in .text). RETs are single-stepped (~10 us each on a VM); there
//    is no cheaper return site, as the instructions before a RET restore the
//    frame and set the results.
//  - Every Go function starts with the stack-growth check,
//      [lea -X(%rsp),%r12;] cmp 0x10(%r14),%rsp|%r12; jbe <morestack>
//    whose `jbe` the kernel emulates (cheap) and before which no argument
//    register has been written. The entry probe goes on the first emulated
//    instruction of the prologue that every call reaches with the arguments
//    intact, else on the entry (single-stepped). The morestack trampoline at
//    the end of the function (`spill args; call runtime.morestack_noctxt;
//    reload; jmp <entry>`) re-runs the prologue after growing the stack, so
//    an entry probe can fire twice for one call with the same registers: the
//    second hit replaces the first (key in-flight calls by goroutine). When
//    the probe is on that `jbe`, its flags (CF|ZF) tell the first hit apart.
//  - Write has its plaintext at entry, and tls.Conn write errors are
//    permanent, so with a stack-check entry Write needs no RET probes at
//    all: the bytes are taken at entry (skipping the hit that branches to
//    morestack), which halves the cost of a traced Write.
//  - Read hands out plaintext with `n, _ := c.input.Read(b)`, and the
//    compiler inlines bytes.(*Reader).Read there: one `call runtime.memmove`
//    whose registers hold the source, b.ptr and n, the count Read returns. When Read has
//    exactly one call to runtime.memmove, that call (emulated) is probed
//    instead of every RET (single-stepped).
//
// Register ABI (ABIInternal, amd64, go1.17+): integer arguments and results
// in RAX, RBX, RCX, RDI, RSI, R8-R11, in order; R14 = the current goroutine
// (g), kept across calls and at every RET; R15 is the GOT pointer only in
// dynamically linked code. So at the entry site of
//   func (c *Conn) Write(b []byte) (n int, err error)   (Read has the same shape)
// RAX = c, RBX = b.ptr, RCX = b.len, RDI = b.cap; at a RET, RAX = n (bytes
// written/read, valid also when err != nil), RBX:RCX = err (itab, data; RBX
// == 0 means nil). A goroutine may move to another thread between entry and
// RET: key by R14, not by thread id.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "tls/go_buildinfo.h"
#include "tls/go_offsets.h"
#include "tls/go_pclntab.h"
#include "tls/probe_site.h"

namespace qtap::tls {

class ElfFile;

struct GoProbeSite {
  uint64_t vaddr = 0;
  uint64_t file_offset = 0;  // what the uprobe is attached with
  ProbeCost cost = ProbeCost::kSingleStepped;
  std::string insn;  // AT&T text
};

// The entry site chosen in a function's prologue.
struct GoEntrySite {
  uint64_t vaddr = 0;
  ProbeCost cost = ProbeCost::kSingleStepped;
  std::string insn;
  bool fallback = false;  // no emulated site before the arguments change: the entry
  std::string reason;     // "`jbe` of the stack check at +9" or why it fell back
};

// The shape of a function body by linear disassembly.
struct GoBodyScan {
  std::vector<uint64_t> rets;         // RETs of the body (morestack tail excluded)
  // Direct calls of the body (morestack tail excluded): (address of the call, target).
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  std::optional<uint64_t> morestack;  // start of the morestack trampoline, if recognised
};

// Picks the entry site in `code`, the function's bytes from its entry at
// `entry`: the first instruction the kernel emulates among the straight-line
// prologue instructions that precede any write to an argument register (RAX,
// RBX, RCX, RDI, RSI, R8-R11), to RSP or to R14. The entry itself otherwise.
Result<GoEntrySite> choose_go_entry_site(std::span<const uint8_t> code, uint64_t entry);

// Sweeps `code` (the whole function, entry to end): every RET, and the
// morestack trampoline: the target of the prologue's first conditional
// jump, when it is a forward jump into the function to code that calls
// something and then jumps back to the entry. RETs from there on are not the
// body's (there are none in practice). Errors on an undecodable instruction.
Result<GoBodyScan> scan_go_function(std::span<const uint8_t> code, uint64_t entry);

struct GoFunctionPlan {
  std::string role;  // "write" | "read"
  GoFunction function;
  GoProbeSite entry;  // the entry probe
  std::string entry_reason;
  bool entry_fallback = false;
  // The entry probe is the `jbe` of the stack check, whose flags say at the
  // probe whether this hit will grow the stack and re-run the prologue.
  bool entry_is_stack_check = false;
  std::optional<uint64_t> morestack;
  std::vector<GoProbeSite> rets;  // one uprobe per RET (never a uretprobe)
  // Read: its only `call runtime.memmove`, the copy of plaintext into b
  // (bytes.(*Reader).Read inlined: RAX = b.ptr, RBX = the plaintext in
  // c.input, RCX = n). A call is emulated, so when there is exactly one, it
  // replaces the RET probes; the bytes are read from RBX (b is not written yet).
  std::optional<GoProbeSite> copy_out;

  // Write with a stack-check entry: one probe, at entry, and no RETs.
  bool bytes_at_entry() const { return role == "write" && entry_is_stack_check; }
};

struct GoTlsPlan {
  GoBuildInfo build;
  GoOffsets offsets;
  std::vector<GoFunctionPlan> functions;  // (*Conn).Write, then (*Conn).Read
  // The itab of (*net.TCPConn, net.Conn) ("go:itab.*net.TCPConn,net.Conn",
  // "go.itab..." before go1.20) when .symtab has it: the first word of
  // tls.Conn.conn equals it (plus the load bias in a PIE) when the
  // connection is a plain TCP one. Stripped binaries: nullopt.
  std::optional<uint64_t> tcp_conn_itab;

  // One line for logs and `qtap check`, e.g. "Go go1.19.8 (example.com/app):
  // crypto/tls.(*Conn).Write@0x5878a0 entry +9 (jbe, emulated), 8 RETs;
  // crypto/tls.(*Conn).Read@0x588d60 entry +4 (jbe, emulated), 7 RETs"
  std::string describe() const;
};

// The plan for a Go executable. Errors: not a Go binary (no build info),
// Go older than go1.17 or newer than the offsets table (go_offsets), the
// functions not found (a program that does not use crypto/tls), or their
// code unreadable.
Result<GoTlsPlan> plan_go_tls_probes(const ElfFile& elf);

// The names probed, write first.
inline constexpr const char* kGoTlsWrite = "crypto/tls.(*Conn).Write";
inline constexpr const char* kGoTlsRead = "crypto/tls.(*Conn).Read";

}  // namespace qtap::tls
