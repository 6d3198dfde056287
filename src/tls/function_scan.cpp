#include "tls/function_scan.h"

#include <fmt/format.h>

#include <algorithm>

#include "tls/elf_file.h"
#include "tls/probe_site.h"

namespace qtap::tls {

Result<FunctionScan> scan_function(const ElfFile& elf, uint64_t func_vaddr, size_t max_bytes) {
  if (!elf.is_executable(func_vaddr)) {
    return make_error(fmt::format("{:#x}: not in an executable segment", func_vaddr));
  }
  FunctionScan scan;
  scan.start = func_vaddr;
  uint64_t limit = max_bytes;
  if (const auto sym = elf.symbol_at(func_vaddr); sym && sym->size != 0) {
    scan.size_known = true;
    limit = std::min<uint64_t>(sym->size, max_bytes);
  } else if (const auto next = elf.next_function_after(func_vaddr)) {
    limit = std::min<uint64_t>(*next - func_vaddr, max_bytes);
  }
  const auto code = elf.bytes_at(func_vaddr, limit);
  const uint64_t range_end = func_vaddr + code.size();

  // Without a size, the body ends at an unconditional transfer that no
  // earlier branch jumps past ("reach"), the usual linear-sweep heuristic.
  uint64_t reach = func_vaddr;
  size_t pos = 0;
  while (pos < code.size()) {
    const uint64_t pc = func_vaddr + pos;
    auto insn = decode_instruction(code.subspan(pos), pc, /*with_text=*/false);
    if (!insn) {
      if (pos == 0) return insn.error();
      break;
    }
    pos += insn->length;
    const uint64_t next = pc + insn->length;
    const bool in_range = insn->target && *insn->target >= func_vaddr && *insn->target < range_end;
    if (in_range) reach = std::max(reach, *insn->target);

    bool terminates = false;
    switch (insn->kind) {
      case InsnKind::kCallRel:
        if (insn->target) scan.calls.push_back(*insn->target);
        break;
      case InsnKind::kRet:
        scan.rets.push_back(pc);
        terminates = true;
        break;
      case InsnKind::kJmpRel:
        if (insn->target && !in_range) scan.tail_jumps.push_back(*insn->target);
        terminates = true;
        break;
      case InsnKind::kJmpIndirect:
      case InsnKind::kTrap:
        terminates = true;
        break;
      default:
        break;
    }
    if (terminates && !scan.size_known && next > reach) {
      scan.end = next;
      return scan;
    }
  }
  scan.end = func_vaddr + pos;
  return scan;
}

std::optional<std::string_view> resolve_plt_stub(const ElfFile& elf, uint64_t vaddr) {
  auto insn = decode_instruction(elf, vaddr, /*with_text=*/false);
  if (insn && insn->kind == InsnKind::kEndbr)
    insn = decode_instruction(elf, vaddr + insn->length, false);
  if (!insn || insn->kind != InsnKind::kJmpIndirect || !insn->rip_memory) return std::nullopt;
  return elf.got_symbol(*insn->rip_memory);
}

std::vector<uint64_t> call_targets(const ElfFile& elf, uint64_t func_vaddr, size_t max_bytes) {
  auto scan = scan_function(elf, func_vaddr, max_bytes);
  return scan ? std::move(scan->calls) : std::vector<uint64_t>{};
}

std::vector<uint64_t> ret_sites(const ElfFile& elf, uint64_t func_vaddr, size_t max_bytes) {
  auto scan = scan_function(elf, func_vaddr, max_bytes);
  return scan ? std::move(scan->rets) : std::vector<uint64_t>{};
}

}  // namespace qtap::tls
