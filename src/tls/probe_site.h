// One x86-64 instruction at a candidate uprobe address, and what the kernel
// does when a uprobe there is hit.
//
// Why it matters: on a KVM guest a uprobe whose instruction must be
// single-stepped out of line costs ~10 us per hit (the debug trap exits to
// the hypervisor); one the kernel emulates costs <1 us
// (arch/x86/kernel/uprobes.c: branch_setup_xol_ops, push_setup_xol_ops and
// the nop emulation). See docs/tls-discovery.md for the measured table.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"

namespace qtap::tls {

class ElfFile;

enum class InsnKind : uint8_t {
  kOther,
  kPush,         // push reg
  kNop,          // 90, 66 90 (xchg %ax,%ax), 0f 1f /0 (nopl/nopw)
  kJmpRel,       // eb / e9
  kJccRel,       // 70-7f / 0f 80-8f
  kCallRel,      // e8
  kRet,          // c3 / c2 (also with rep/bnd prefix)
  kJmpIndirect,  // jmp *reg / *mem: ends a linear sweep
  kEndbr,        // endbr64: a CET landing pad, single-stepped
  kTrap,         // int3, ud2, hlt: never falls through
};

// What the kernel does with a uprobe on this instruction.
enum class ProbeCost : uint8_t {
  kEmulated,       // handled in the trap, no single-step (cheap)
  kSingleStepped,  // copied out of line and single-stepped (expensive on VMs)
  kRejected,       // uprobe registration fails (ES/CS/SS/DS/LOCK prefix, int3)
};

struct Instruction {
  uint64_t vaddr = 0;
  uint8_t length = 0;
  InsnKind kind = InsnKind::kOther;
  ProbeCost cost = ProbeCost::kSingleStepped;
  std::optional<uint64_t> target;      // branch target of call/jmp/jcc rel
  std::optional<uint64_t> rip_memory;  // address of a RIP-relative memory operand
                                       // (the GOT slot of a PLT stub's `jmp *disp(%rip)`)
  std::string text;                    // AT&T syntax, e.g. "push %r14" (empty if not requested)
};

// Decodes the instruction at the start of `code`, located at `vaddr`.
Result<Instruction> decode_instruction(std::span<const uint8_t> code, uint64_t vaddr,
                                       bool with_text = true);
// Decodes the instruction at `vaddr` in `elf` (file-backed bytes only).
Result<Instruction> decode_instruction(const ElfFile& elf, uint64_t vaddr, bool with_text = true);

// True for what the kernel emulates instead of single-stepping: `push reg`
// (no prefix, or exactly REX.B 0x41 for r8-r15), the nops (90, 66 90,
// 0f 1f), `jmp rel8/rel32`, `jcc rel8/rel32`, `call rel32` (the branches
// without a 0x66 prefix).
inline bool kernel_emulates(const Instruction& insn) { return insn.cost == ProbeCost::kEmulated; }

const char* to_string(ProbeCost cost);

}  // namespace qtap::tls
