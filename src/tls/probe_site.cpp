#include "tls/probe_site.h"

#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "tls/elf_file.h"

namespace qtap::tls {
namespace {

struct Prefixes {
  std::array<uint8_t, ZYDIS_MAX_INSTRUCTION_LENGTH> bytes{};
  size_t count = 0;

  bool has(uint8_t b) const {
    return std::find(bytes.begin(), bytes.begin() + count, b) != bytes.begin() + count;
  }
  bool has_rex() const {
    return std::any_of(bytes.begin(), bytes.begin() + count,
                       [](uint8_t b) { return (b & 0xf0) == 0x40; });
  }
};

bool is_default_map(const ZydisDecodedInstruction& in) {
  return in.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT;
}
bool is_0f_map(const ZydisDecodedInstruction& in) { return in.opcode_map == ZYDIS_OPCODE_MAP_0F; }

InsnKind kind_of(const ZydisDecodedInstruction& in, const Prefixes& pfx) {
  const uint8_t op = in.opcode;
  if (is_default_map(in)) {
    if (op >= 0x50 && op <= 0x57) return InsnKind::kPush;
    if (op == 0x90 && !pfx.has_rex()) return InsnKind::kNop;  // 41 90 is xchg %eax,%r8d
    if (op == 0xeb || op == 0xe9) return InsnKind::kJmpRel;
    if (op >= 0x70 && op <= 0x7f) return InsnKind::kJccRel;
    if (op == 0xe8) return InsnKind::kCallRel;
    if (op == 0xc3 || op == 0xc2) return InsnKind::kRet;
    if (op == 0xcc || op == 0xf4) return InsnKind::kTrap;
    if (in.mnemonic == ZYDIS_MNEMONIC_JMP) return InsnKind::kJmpIndirect;  // ff /4, ff /5
    return InsnKind::kOther;
  }
  if (is_0f_map(in)) {
    if (op == 0x1f && in.mnemonic == ZYDIS_MNEMONIC_NOP) return InsnKind::kNop;
    if (op >= 0x80 && op <= 0x8f) return InsnKind::kJccRel;
    if (op == 0x0b) return InsnKind::kTrap;  // ud2
    if (in.mnemonic == ZYDIS_MNEMONIC_ENDBR64) return InsnKind::kEndbr;
  }
  return InsnKind::kOther;
}

// Mirrors arch/x86/kernel/uprobes.c (kernel 6.18): uprobe_init_insn rejects
// the segment-override and LOCK prefixes; branch_setup_xol_ops emulates
// jmp/jcc/call rel unless a 0x66 prefix is present, and "prefix* + 0x90";
// push_setup_xol_ops emulates 50+r alone or with exactly the REX prefix 0x41;
// multi-byte nops (0f 1f) are emulated since the nop-emulation change.
ProbeCost cost_of(const ZydisDecodedInstruction& in, const Prefixes& pfx, InsnKind kind) {
  for (const uint8_t bad :
       {uint8_t{0x26}, uint8_t{0x2e}, uint8_t{0x36}, uint8_t{0x3e}, uint8_t{0xf0}}) {
    if (pfx.has(bad)) return ProbeCost::kRejected;
  }
  switch (kind) {
    case InsnKind::kPush:
      if (in.length == 1) return ProbeCost::kEmulated;
      if (in.length == 2 && pfx.count == 1 && pfx.bytes[0] == 0x41) return ProbeCost::kEmulated;
      return ProbeCost::kSingleStepped;
    case InsnKind::kNop:
      return ProbeCost::kEmulated;
    case InsnKind::kJmpRel:
    case InsnKind::kJccRel:
    case InsnKind::kCallRel:
      // 16-bit branches (66 e8 ...) make the kernel refuse the probe.
      return pfx.has(0x66) ? ProbeCost::kRejected : ProbeCost::kEmulated;
    case InsnKind::kTrap:
      return in.opcode == 0xcc && is_default_map(in) ? ProbeCost::kRejected
                                                     : ProbeCost::kSingleStepped;
    default:
      return ProbeCost::kSingleStepped;
  }
}

}  // namespace

const char* to_string(ProbeCost cost) {
  switch (cost) {
    case ProbeCost::kEmulated:
      return "emulated";
    case ProbeCost::kSingleStepped:
      return "single-stepped";
    case ProbeCost::kRejected:
      return "rejected";
  }
  return "?";
}

Result<Instruction> decode_instruction(std::span<const uint8_t> code, uint64_t vaddr,
                                       bool with_text) {
  if (code.empty()) return make_error(fmt::format("{:#x}: no bytes to decode", vaddr));
  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, code.data(), code.size(), &in, ops))) {
    return make_error(fmt::format("{:#x}: cannot decode instruction", vaddr));
  }
  Prefixes pfx;
  pfx.count = std::min<size_t>(in.raw.prefix_count, pfx.bytes.size());
  for (size_t i = 0; i < pfx.count; ++i) pfx.bytes[i] = in.raw.prefixes[i].value;

  Instruction out;
  out.vaddr = vaddr;
  out.length = in.length;
  out.kind = kind_of(in, pfx);
  out.cost = cost_of(in, pfx, out.kind);
  if (out.kind == InsnKind::kJmpRel || out.kind == InsnKind::kJccRel ||
      out.kind == InsnKind::kCallRel) {
    ZyanU64 target = 0;
    if (ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&in, &ops[0], vaddr, &target))) out.target = target;
  }
  for (uint8_t i = 0; i < in.operand_count_visible; ++i) {
    const ZydisDecodedOperand& op = ops[i];
    ZyanU64 address = 0;
    if (op.type == ZYDIS_OPERAND_TYPE_MEMORY && op.mem.base == ZYDIS_REGISTER_RIP &&
        ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&in, &op, vaddr, &address))) {
      out.rip_memory = address;
    }
  }
  if (with_text) {
    ZydisFormatter formatter;
    ZydisFormatterInit(&formatter, ZYDIS_FORMATTER_STYLE_ATT);
    char buf[256];
    if (ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&formatter, &in, ops, in.operand_count_visible,
                                                     buf, sizeof(buf), vaddr, nullptr))) {
      out.text = buf;
    }
  }
  return out;
}

Result<Instruction> decode_instruction(const ElfFile& elf, uint64_t vaddr, bool with_text) {
  const auto bytes = elf.bytes_at(vaddr, ZYDIS_MAX_INSTRUCTION_LENGTH);
  if (bytes.empty()) return make_error(fmt::format("{:#x}: not in the file", vaddr));
  return decode_instruction(bytes, vaddr, with_text);
}

}  // namespace qtap::tls
