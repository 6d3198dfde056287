#include "tls/go_plan.h"

#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "tls/elf_file.h"

namespace qtap::tls {
namespace {

// A prologue longer than this has no stack check worth looking for.
constexpr size_t kMaxPrologueInsns = 16;
// The morestack trampoline spills and reloads up to 9 argument registers
// around its call: ~20 instructions.
constexpr size_t kMaxTrampolineInsns = 32;
// (*Conn).Write is ~2 KB in go1.19; a bound for a corrupt pclntab end.
constexpr uint64_t kMaxFunctionBytes = 1 << 20;

// Registers the BPF side reads at the entry site: the Go argument registers,
// the stack pointer and the goroutine register.
constexpr std::array<ZydisRegister, 11> kProtected = {
    ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RBX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDI,
    ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_R8,  ZYDIS_REGISTER_R9,  ZYDIS_REGISTER_R10,
    ZYDIS_REGISTER_R11, ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_R14};

// The first protected register `code`'s first instruction writes, if any.
std::optional<ZydisRegister> written_protected_register(std::span<const uint8_t> code) {
  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, code.data(), code.size(), &in, ops))) {
    return ZYDIS_REGISTER_NONE;  // undecodable: treat as clobbering
  }
  for (uint8_t i = 0; i < in.operand_count; ++i) {  // hidden operands too (push: %rsp)
    const ZydisDecodedOperand& op = ops[i];
    if (op.type != ZYDIS_OPERAND_TYPE_REGISTER ||
        (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) == 0) {
      continue;
    }
    const ZydisRegister full =
        ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, op.reg.value);
    if (std::find(kProtected.begin(), kProtected.end(), full) != kProtected.end()) return full;
  }
  return std::nullopt;
}

std::string register_name(ZydisRegister r) {
  const char* s = r == ZYDIS_REGISTER_NONE ? nullptr : ZydisRegisterGetString(r);
  return s != nullptr ? fmt::format("%{}", s) : "a register";
}

bool is_control_flow(InsnKind k) {
  return k == InsnKind::kJmpRel || k == InsnKind::kJccRel || k == InsnKind::kCallRel ||
         k == InsnKind::kRet || k == InsnKind::kJmpIndirect || k == InsnKind::kTrap;
}

// The code at `tail` is the morestack trampoline of the function at `entry`:
// a call, then a jump back to the entry, without a RET or other way out.
bool is_morestack_trampoline(std::span<const uint8_t> code, uint64_t entry, uint64_t tail) {
  if (tail <= entry || tail - entry >= code.size()) return false;
  size_t pos = tail - entry;
  bool called = false;
  for (size_t n = 0; n < kMaxTrampolineInsns && pos < code.size(); ++n) {
    auto insn = decode_instruction(code.subspan(pos), entry + pos, false);
    if (!insn) return false;
    pos += insn->length;
    switch (insn->kind) {
      case InsnKind::kCallRel:
        called = true;
        break;
      case InsnKind::kJmpRel:
        return called && insn->target == entry;
      case InsnKind::kJccRel:
      case InsnKind::kRet:
      case InsnKind::kJmpIndirect:
      case InsnKind::kTrap:
        return false;
      default:
        break;
    }
  }
  return false;
}

Result<GoProbeSite> make_site(const ElfFile& elf, uint64_t vaddr) {
  const auto offset = elf.vaddr_to_offset(vaddr);
  if (!offset) return make_error(fmt::format("{:#x}: not in the file", vaddr));
  auto insn = decode_instruction(elf, vaddr);
  if (!insn) return insn.error();
  return GoProbeSite{vaddr, *offset, insn->cost, std::move(insn->text)};
}

Result<GoFunctionPlan> plan_function(const ElfFile& elf, const char* role, const char* name) {
  const auto fn = find_go_function(elf, name);
  if (!fn) return make_error(fmt::format("no function {}", name));
  if (fn->end <= fn->entry || fn->end - fn->entry > kMaxFunctionBytes) {
    return make_error(fmt::format("{}: implausible extent {:#x}-{:#x}", name, fn->entry, fn->end));
  }
  if (!elf.is_executable(fn->entry)) {
    return make_error(fmt::format("{}@{:#x}: not in an executable segment", name, fn->entry));
  }
  const auto code = elf.bytes_at(fn->entry, fn->end - fn->entry);
  auto site = choose_go_entry_site(code, fn->entry);
  if (!site) return make_error(fmt::format("{}: {}", name, site.error().message));
  auto body = scan_go_function(code, fn->entry);
  if (!body) return make_error(fmt::format("{}: {}", name, body.error().message));
  if (body->rets.empty()) return make_error(fmt::format("{}: no RET found", name));

  GoFunctionPlan plan;
  plan.role = role;
  plan.function = *fn;
  auto entry = make_site(elf, site->vaddr);
  if (!entry) return make_error(fmt::format("{}: {}", name, entry.error().message));
  plan.entry = std::move(*entry);
  plan.entry_reason = std::move(site->reason);
  plan.entry_fallback = site->fallback;
  plan.morestack = body->morestack;
  if (body->morestack && !site->fallback) {
    auto at = decode_instruction(code.subspan(site->vaddr - fn->entry), site->vaddr);
    plan.entry_is_stack_check = at && at->kind == InsnKind::kJccRel && at->target == *body->morestack &&
                                at->text.starts_with("jbe");
  }
  for (const uint64_t ret : body->rets) {
    auto r = make_site(elf, ret);
    if (!r) return make_error(fmt::format("{}: {}", name, r.error().message));
    plan.rets.push_back(std::move(*r));
  }
  if (plan.role == "read") {
    if (const auto memmove = find_go_function(elf, "runtime.memmove")) {
      std::vector<uint64_t> copies;
      for (const auto& [at, target] : body->calls) {
        if (target == memmove->entry) copies.push_back(at);
      }
      if (copies.size() == 1) {
        auto c = make_site(elf, copies.front());
        if (c && c->cost == ProbeCost::kEmulated) plan.copy_out = std::move(*c);
      }
    }
  }
  return plan;
}

}  // namespace

Result<GoEntrySite> choose_go_entry_site(std::span<const uint8_t> code, uint64_t entry) {
  auto at_entry = decode_instruction(code, entry);
  if (!at_entry) return at_entry.error();
  size_t pos = 0;
  std::string why;
  for (size_t n = 0; n < kMaxPrologueInsns && pos < code.size(); ++n) {
    auto insn = decode_instruction(code.subspan(pos), entry + pos);
    if (!insn) {
      why = "undecodable prologue";
      break;
    }
    if (insn->cost == ProbeCost::kEmulated) {
      std::string mnemonic = insn->text.substr(0, insn->text.find(' '));
      return GoEntrySite{
          insn->vaddr, insn->cost, insn->text, false,
          pos == 0 ? fmt::format("first instruction `{}` emulated", mnemonic)
                   : fmt::format("`{}` at +{} (emulated, arguments intact)", mnemonic, pos)};
    }
    if (is_control_flow(insn->kind)) {
      why = fmt::format("`{}` at +{} before any emulated instruction", insn->text, pos);
      break;
    }
    if (const auto reg = written_protected_register(code.subspan(pos))) {
      why = fmt::format("`{}` at +{} writes {} before any emulated instruction", insn->text, pos,
                        register_name(*reg));
      break;
    }
    pos += insn->length;
  }
  if (why.empty()) why = "no emulated instruction in the prologue";
  return GoEntrySite{entry, at_entry->cost, at_entry->text, true,
                     fmt::format("entry, {} ({})", to_string(at_entry->cost), why)};
}

Result<GoBodyScan> scan_go_function(std::span<const uint8_t> code, uint64_t entry) {
  GoBodyScan scan;
  std::optional<uint64_t> first_jcc;
  bool straight = true;  // no control flow seen yet: still in the prologue
  size_t pos = 0;
  while (pos < code.size()) {
    const uint64_t pc = entry + pos;
    auto insn = decode_instruction(code.subspan(pos), pc, false);
    if (!insn) return make_error(fmt::format("{:#x}: undecodable instruction", pc));
    if (insn->kind == InsnKind::kRet) scan.rets.push_back(pc);
    if (insn->kind == InsnKind::kCallRel && insn->target) scan.calls.emplace_back(pc, *insn->target);
    if (straight && insn->kind == InsnKind::kJccRel) first_jcc = insn->target;
    if (is_control_flow(insn->kind)) straight = false;
    pos += insn->length;
  }
  if (first_jcc && is_morestack_trampoline(code, entry, *first_jcc)) {
    scan.morestack = first_jcc;
    std::erase_if(scan.rets, [&](uint64_t r) { return r >= *first_jcc; });
    std::erase_if(scan.calls, [&](const auto& c) { return c.first >= *first_jcc; });
  }
  return scan;
}

Result<GoTlsPlan> plan_go_tls_probes(const ElfFile& elf) {
  auto build = read_go_buildinfo(elf);
  if (!build) return make_error(fmt::format("{}: not a Go executable (no build info)", elf.path()));
  auto offsets = go_offsets(*build);
  if (!offsets) return make_error(fmt::format("{}: {}", elf.path(), offsets.error().message));
  GoTlsPlan plan;
  plan.build = std::move(*build);
  plan.offsets = std::move(*offsets);
  for (const auto& [role, name] :
       {std::pair{"write", kGoTlsWrite}, std::pair{"read", kGoTlsRead}}) {
    auto f = plan_function(elf, role, name);
    if (!f) return make_error(fmt::format("{}: {}", elf.path(), f.error().message));
    plan.functions.push_back(std::move(*f));
  }
  for (const char* itab : {"go:itab.*net.TCPConn,net.Conn", "go.itab.*net.TCPConn,net.Conn"}) {
    if (const auto sym = elf.symbol(itab); sym && sym->type == SymbolType::kObject) {
      plan.tcp_conn_itab = sym->value;
      break;
    }
  }
  return plan;
}

std::string GoTlsPlan::describe() const {
  std::string out = fmt::format("Go {}", build.version);
  if (!build.main_path.empty()) out += fmt::format(" ({})", build.main_path);
  out += ":";
  for (size_t i = 0; i < functions.size(); ++i) {
    const GoFunctionPlan& f = functions[i];
    const std::string mnemonic = f.entry.insn.substr(0, f.entry.insn.find(' '));
    out += fmt::format("{} {}@{:#x} ({}) entry +{} ({}, {}), ", i == 0 ? "" : ";", f.function.name,
                       f.function.entry, f.function.source, f.entry.vaddr - f.function.entry, mnemonic,
                       to_string(f.entry.cost));
    if (f.bytes_at_entry()) {
      out += "bytes taken at entry, no RET probes";
    } else if (f.copy_out) {
      out += fmt::format("bytes taken at its copy out (call runtime.memmove at +{}, {}), no RET probes",
                         f.copy_out->vaddr - f.function.entry, to_string(f.copy_out->cost));
    } else {
      out += fmt::format("{} RET{}", f.rets.size(), f.rets.size() == 1 ? "" : "s");
    }
  }
  return out;
}

}  // namespace qtap::tls
