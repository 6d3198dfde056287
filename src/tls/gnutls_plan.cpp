#include "tls/gnutls_plan.h"

#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <set>

#include "tls/elf_file.h"
#include "tls/function_scan.h"
#include "tls/probe_site.h"

namespace qtap::tls {
namespace {

// The record functions are small (recv: 0xa0 bytes in 3.7.9); this bounds a
// sweep when a symbol has no size.
constexpr size_t kMaxScanBytes = 4096;
constexpr uint64_t kApplicationData = 23;  // content_type_t GNUTLS_APPLICATION_DATA
constexpr const char* kRecvIntName = "_gnutls_recv_int";

// --- Register copies through a small function -------------------------------
//
// A forward dataflow over the function's control-flow graph: each of the 16
// general registers holds "argument i of the function", "the constant v" or
// "unknown". Only moves between registers, immediate loads and `xor r,r`
// are followed; any other write makes a register unknown, and a call makes
// the caller-saved ones unknown. At each direct call or jump out of the
// function, the state says what the callee receives.

struct Value {
  enum class Kind : uint8_t { kUnknown, kArg, kConst };
  Kind kind = Kind::kUnknown;
  uint64_t v = 0;
  bool operator==(const Value&) const = default;
};
using RegState = std::array<Value, 16>;

// Index of a general register in RegState (rax=0 ... r15=15), -1 otherwise.
int gpr(ZydisRegister r) {
  const ZydisRegister full = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
  if (full >= ZYDIS_REGISTER_RAX && full <= ZYDIS_REGISTER_R15) return full - ZYDIS_REGISTER_RAX;
  return -1;
}
const int kRax = gpr(ZYDIS_REGISTER_RAX), kRcx = gpr(ZYDIS_REGISTER_RCX),
          kRdx = gpr(ZYDIS_REGISTER_RDX), kRsi = gpr(ZYDIS_REGISTER_RSI),
          kRdi = gpr(ZYDIS_REGISTER_RDI), kR8 = gpr(ZYDIS_REGISTER_R8),
          kR9 = gpr(ZYDIS_REGISTER_R9), kR10 = gpr(ZYDIS_REGISTER_R10),
          kR11 = gpr(ZYDIS_REGISTER_R11);

RegState entry_state() {
  RegState s{};
  const int args[] = {kRdi, kRsi, kRdx, kRcx, kR8, kR9};
  for (int i = 0; i < 6; ++i) s[args[i]] = {Value::Kind::kArg, static_cast<uint64_t>(i)};
  return s;
}

struct Decoded {
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  Instruction insn;  // kind, target, cost
};

void apply(const Decoded& d, RegState* s) {
  const auto& in = d.in;
  const auto& ops = d.ops;
  if (in.mnemonic == ZYDIS_MNEMONIC_MOV && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER) {
    const int dst = gpr(ops[0].reg.value);
    if (dst >= 0 && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER && gpr(ops[1].reg.value) >= 0) {
      (*s)[dst] = (*s)[gpr(ops[1].reg.value)];  // 32-bit copies keep the value too (int args)
      return;
    }
    if (dst >= 0 && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
      const uint64_t mask = ops[0].size >= 64 ? ~uint64_t{0} : (uint64_t{1} << ops[0].size) - 1;
      (*s)[dst] = {Value::Kind::kConst, ops[1].imm.value.u & mask};
      return;
    }
  }
  if (in.mnemonic == ZYDIS_MNEMONIC_XOR && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
      ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[0].reg.value == ops[1].reg.value &&
      gpr(ops[0].reg.value) >= 0) {
    (*s)[gpr(ops[0].reg.value)] = {Value::Kind::kConst, 0};
    return;
  }
  for (uint8_t i = 0; i < in.operand_count; ++i) {
    if (ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER &&
        (ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) != 0 && gpr(ops[i].reg.value) >= 0) {
      (*s)[gpr(ops[i].reg.value)] = {};
    }
  }
}

void clobber_caller_saved(RegState* s) {
  for (const int r : {kRax, kRcx, kRdx, kRsi, kRdi, kR8, kR9, kR10, kR11}) (*s)[r] = {};
}

// A direct call or jump out of the function, with the registers it passes.
struct Transfer {
  uint64_t site = 0;
  uint64_t target = 0;
  RegState regs;
};

std::vector<Transfer> outgoing_transfers(const ElfFile& elf, uint64_t func) {
  uint64_t limit = kMaxScanBytes;
  if (const auto sym = elf.symbol_at(func); sym && sym->size != 0) {
    limit = std::min<uint64_t>(sym->size, kMaxScanBytes);
  } else if (const auto next = elf.next_function_after(func)) {
    limit = std::min<uint64_t>(*next - func, kMaxScanBytes);
  }
  const auto code = elf.bytes_at(func, limit);
  const uint64_t end = func + code.size();

  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  std::map<uint64_t, Decoded> decoded;
  auto decode_at = [&](uint64_t pc) -> const Decoded* {
    if (auto it = decoded.find(pc); it != decoded.end()) return &it->second;
    if (pc < func || pc >= end) return nullptr;
    const auto bytes = code.subspan(pc - func);
    Decoded d;
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, bytes.data(), bytes.size(), &d.in, d.ops))) {
      return nullptr;
    }
    auto insn = decode_instruction(bytes, pc, false);
    if (!insn) return nullptr;
    d.insn = *insn;
    return &decoded.emplace(pc, d).first->second;
  };

  std::map<uint64_t, RegState> states;
  std::map<uint64_t, Transfer> transfers;
  std::deque<uint64_t> work;
  auto flow = [&](uint64_t to, const RegState& s) {
    auto [it, fresh] = states.try_emplace(to, s);
    bool changed = fresh;
    if (!fresh) {
      for (size_t r = 0; r < s.size(); ++r) {
        if (it->second[r] != s[r] && it->second[r].kind != Value::Kind::kUnknown) {
          it->second[r] = {};
          changed = true;
        }
      }
    }
    if (changed) work.push_back(to);
  };
  flow(func, entry_state());
  // Each block is revisited only when a register of its state became less
  // known; states only go down a 3-level lattice, so this terminates.
  while (!work.empty()) {
    const uint64_t pc = work.front();
    work.pop_front();
    const Decoded* d = decode_at(pc);
    if (d == nullptr) continue;
    RegState s = states[pc];
    const Instruction& insn = d->insn;
    const uint64_t next = pc + insn.length;
    const bool inside = insn.target && *insn.target >= func && *insn.target < end;
    switch (insn.kind) {
      case InsnKind::kRet:
      case InsnKind::kTrap:
      case InsnKind::kJmpIndirect:
        break;
      case InsnKind::kJmpRel:
        if (inside) {
          flow(*insn.target, s);
        } else if (insn.target) {
          transfers[pc] = {pc, *insn.target, s};
        }
        break;
      case InsnKind::kJccRel:
        if (inside) {
          flow(*insn.target, s);
        } else if (insn.target) {
          transfers[pc] = {pc, *insn.target, s};
        }
        flow(next, s);
        break;
      case InsnKind::kCallRel:
        if (insn.target) transfers[pc] = {pc, *insn.target, s};
        clobber_caller_saved(&s);
        flow(next, s);
        break;
      default:
        apply(*d, &s);
        flow(next, s);
        break;
    }
  }
  std::vector<Transfer> out;
  out.reserve(transfers.size());
  for (const auto& [pc, t] : transfers) out.push_back(t);
  return out;
}

// The transfer passes (session, 23, data, size): the caller's first three
// arguments (session, data, size) with the application-data type inserted.
bool passes_recv_int_args(const Transfer& t) {
  const Value arg0{Value::Kind::kArg, 0}, arg1{Value::Kind::kArg, 1}, arg2{Value::Kind::kArg, 2};
  const Value& type = t.regs[kRsi];
  return t.regs[kRdi] == arg0 && type.kind == Value::Kind::kConst &&
         (type.v & 0xffffffff) == kApplicationData && t.regs[kRdx] == arg1 && t.regs[kRcx] == arg2;
}

// --- Placement -------------------------------------------------------------

std::optional<ElfSymbol> function(const ElfFile& elf, const char* name) {
  auto sym = elf.symbol(name);
  if (!sym || sym->type != SymbolType::kFunc) return std::nullopt;
  return sym;
}

bool in_plt(const ElfFile& elf, uint64_t vaddr) {
  for (const auto& s : elf.sections()) {
    if (s.name.starts_with(".plt") && vaddr >= s.addr && vaddr - s.addr < s.size) return true;
  }
  return false;
}

Result<GnuTlsFunction> describe_function(const ElfFile& elf, std::string name, uint64_t vaddr) {
  const auto offset = elf.vaddr_to_offset(vaddr);
  if (!offset) return make_error(fmt::format("{}@{:#x}: not in the file", name, vaddr));
  auto insn = decode_instruction(elf, vaddr);
  if (!insn) return make_error(fmt::format("{}: {}", name, insn.error().message));
  return GnuTlsFunction{std::move(name), vaddr, *offset, kernel_emulates(*insn),
                        std::move(insn->text)};
}

// `scan` calls or tail-calls `callee` (named `name`), directly or through a PLT stub.
bool reaches(const ElfFile& elf, const FunctionScan& scan, uint64_t callee, std::string_view name) {
  auto hits = [&](uint64_t t) { return t == callee || resolve_plt_stub(elf, t) == name; };
  return std::any_of(scan.calls.begin(), scan.calls.end(), hits) ||
         std::any_of(scan.tail_jumps.begin(), scan.tail_jumps.end(), hits);
}

Result<void> add_target(const ElfFile& elf, const char* role, std::string name, uint64_t vaddr,
                        GnuTlsArgStyle style, std::vector<GnuTlsTarget>* out) {
  auto f = describe_function(elf, std::move(name), vaddr);
  if (!f) return f.error();
  out->push_back({role, std::move(*f), style});
  return {};
}

// Write side. Returns the reason.
Result<std::string> plan_write(const ElfFile& elf, std::vector<GnuTlsTarget>* out) {
  const auto send = function(elf, "gnutls_record_send");
  const auto send2 = function(elf, "gnutls_record_send2");
  const auto range = function(elf, "gnutls_record_send_range");
  std::string reason;
  std::vector<std::pair<const char*, uint64_t>> probed;
  bool send_reaches_send2 = false;
  if (send2) {
    auto scan = scan_function(elf, send->value, kMaxScanBytes);
    if (!scan) return make_error(fmt::format("gnutls_record_send: {}", scan.error().message));
    send_reaches_send2 = reaches(elf, *scan, send2->value, "gnutls_record_send2");
  }
  if (send_reaches_send2) {
    auto f = describe_function(elf, "gnutls_record_send2", send2->value);
    if (!f) return f.error();
    if (f->emulated) {
      reason = "gnutls_record_send reaches gnutls_record_send2";
      probed.emplace_back("gnutls_record_send2", send2->value);
    } else {
      reason = fmt::format("gnutls_record_send2 starts with `{}` (single-stepped)", f->first_insn);
      // send reaches send2: probing send2 alone captures both, once each.
      probed.emplace_back("gnutls_record_send2", send2->value);
    }
  } else {
    reason = send2 ? "gnutls_record_send does not reach gnutls_record_send2"
                   : "no gnutls_record_send2 (GnuTLS < 3.6.3)";
    probed.emplace_back("gnutls_record_send", send->value);
    if (send2) probed.emplace_back("gnutls_record_send2", send2->value);
  }
  // send_range has its own path, unless it goes through one already probed.
  if (range) {
    auto scan = scan_function(elf, range->value, kMaxScanBytes);
    const bool covered = scan && std::any_of(probed.begin(), probed.end(), [&](const auto& p) {
                           return reaches(elf, *scan, p.second, p.first);
                         });
    if (!covered) probed.emplace_back("gnutls_record_send_range", range->value);
  }
  for (const auto& [name, vaddr] : probed) {
    if (auto r = add_target(elf, "write", name, vaddr, GnuTlsArgStyle::kRecord, out); !r) {
      return r.error();
    }
  }
  return reason;
}

// The internal receive functions `func` calls with (session, 23, data, size).
std::vector<uint64_t> recv_workers(const ElfFile& elf, uint64_t func) {
  std::vector<uint64_t> out;
  for (const Transfer& t : outgoing_transfers(elf, func)) {
    if (!passes_recv_int_args(t) || !elf.is_executable(t.target) || in_plt(elf, t.target)) continue;
    // An exported function is not the hidden worker (a non-stripped build
    // may name the worker in .symtab: allowed).
    if (const auto sym = elf.symbol_at(t.target); sym && sym->name != kRecvIntName) continue;
    if (std::find(out.begin(), out.end(), t.target) == out.end()) out.push_back(t.target);
  }
  return out;
}

Result<std::string> plan_read(const ElfFile& elf, std::vector<GnuTlsTarget>* out) {
  const auto recv = function(elf, "gnutls_record_recv");
  const auto recv_seq = function(elf, "gnutls_record_recv_seq");
  const auto from_recv = recv_workers(elf, recv->value);
  const auto from_seq = recv_seq ? recv_workers(elf, recv_seq->value) : from_recv;
  std::vector<uint64_t> common;
  for (const uint64_t t : from_recv) {
    if (std::find(from_seq.begin(), from_seq.end(), t) != from_seq.end()) common.push_back(t);
  }
  std::string why_not;
  if (common.size() == 1) {
    auto worker = describe_function(elf, kRecvIntName, common.front());
    if (!worker) return worker.error();
    if (worker->emulated) {
      out->push_back({"read", std::move(*worker), GnuTlsArgStyle::kRecvInt});
      std::string reason = fmt::format("{} (common callee of gnutls_record_recv{})", kRecvIntName,
                                       recv_seq ? " and gnutls_record_recv_seq" : "");
      // The other internal receivers (kTLS) of either caller, probed with it.
      std::set<uint64_t> others(from_recv.begin(), from_recv.end());
      others.insert(from_seq.begin(), from_seq.end());
      others.erase(common.front());
      for (const uint64_t t : others) {
        // In 3.7 the one other is _gnutls_ktls_recv_int (gnutls_record_recv's
        // kTLS branch); a name for logs, the role is what matters.
        auto f = describe_function(
            elf, others.size() == 1 ? "_gnutls_ktls_recv_int" : fmt::format("receive_{:x}", t), t);
        if (!f) return f.error();
        out->push_back({"read", std::move(*f), GnuTlsArgStyle::kRecvInt});
      }
      if (!others.empty()) {
        reason += fmt::format(", and {} other receive path{} (kTLS)", others.size(),
                              others.size() == 1 ? "" : "s");
      }
      return reason;
    }
    why_not = fmt::format("{} starts with `{}` (single-stepped)", kRecvIntName, worker->first_insn);
  } else if (common.empty()) {
    why_not = "no internal callee receives (session, 23, data, size)";
  } else {
    why_not = fmt::format("{} internal callees receive (session, 23, data, size) (ambiguous)",
                          common.size());
  }
  // Public functions: recv, and recv_seq unless it merely calls recv.
  if (auto r =
          add_target(elf, "read", "gnutls_record_recv", recv->value, GnuTlsArgStyle::kRecord, out);
      !r) {
    return r.error();
  }
  if (recv_seq) {
    auto scan = scan_function(elf, recv_seq->value, kMaxScanBytes);
    if (!scan || !reaches(elf, *scan, recv->value, "gnutls_record_recv")) {
      if (auto r = add_target(elf, "read", "gnutls_record_recv_seq", recv_seq->value,
                              GnuTlsArgStyle::kRecord, out);
          !r) {
        return r.error();
      }
    }
  }
  return why_not;
}

// The session offsets gnutls_transport_set_ptr2(session, recv_ptr, send_ptr)
// stores its arguments at: `mov %rsi,R(%rdi)` and `mov %rdx,S(%rdi)`.
void decode_transport_offsets(const ElfFile& elf, GnuTlsPlan* plan) {
  const auto set_ptr2 = function(elf, "gnutls_transport_set_ptr2");
  if (!set_ptr2) return;
  const auto code = elf.bytes_at(set_ptr2->value, 64);
  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  size_t pos = 0;
  for (int n = 0; n < 8 && pos < code.size(); ++n) {
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!ZYAN_SUCCESS(
            ZydisDecoderDecodeFull(&decoder, code.data() + pos, code.size() - pos, &in, ops))) {
      return;
    }
    pos += in.length;
    if (in.mnemonic == ZYDIS_MNEMONIC_RET) return;
    if (in.mnemonic != ZYDIS_MNEMONIC_MOV || ops[0].type != ZYDIS_OPERAND_TYPE_MEMORY ||
        ops[0].mem.base != ZYDIS_REGISTER_RDI || ops[0].mem.index != ZYDIS_REGISTER_NONE ||
        ops[1].type != ZYDIS_OPERAND_TYPE_REGISTER || ops[0].size != 64 ||
        ops[0].mem.disp.value < 0) {
      continue;
    }
    const auto disp = static_cast<uint32_t>(ops[0].mem.disp.value);
    if (ops[1].reg.value == ZYDIS_REGISTER_RSI) plan->transport_recv_offset = disp;
    if (ops[1].reg.value == ZYDIS_REGISTER_RDX) plan->transport_send_offset = disp;
  }
}

}  // namespace

const char* to_string(GnuTlsArgStyle style) {
  switch (style) {
    case GnuTlsArgStyle::kRecord:
      return "record";
    case GnuTlsArgStyle::kRecvInt:
      return "recv-int";
  }
  return "?";
}

Result<GnuTlsPlan> plan_gnutls_probes(const ElfFile& elf) {
  if (!function(elf, "gnutls_record_send") || !function(elf, "gnutls_record_recv")) {
    return make_error(fmt::format("{}: no gnutls_record_send/gnutls_record_recv", elf.path()));
  }
  GnuTlsPlan plan;
  auto write = plan_write(elf, &plan.targets);
  if (!write) return make_error(fmt::format("{}: {}", elf.path(), write.error().message));
  plan.write_reason = std::move(*write);
  auto read = plan_read(elf, &plan.targets);
  if (!read) return make_error(fmt::format("{}: {}", elf.path(), read.error().message));
  plan.read_reason = std::move(*read);

  // "Enabled GnuTLS 3.7.9 logging..." is the one place the version is a string.
  if (const auto banner = elf.find_string(".rodata", "Enabled GnuTLS ")) {
    const std::string_view rest = banner->substr(15);
    plan.version = std::string(rest.substr(0, rest.find(' ')));
  }
  for (const char* name :
       {"gnutls_transport_set_int2", "gnutls_transport_set_ptr", "gnutls_transport_set_ptr2",
        "gnutls_transport_get_int", "gnutls_transport_get_int2", "gnutls_transport_get_ptr",
        "gnutls_transport_get_ptr2"}) {
    if (const auto sym = function(elf, name)) {
      if (auto f = describe_function(elf, name, sym->value)) plan.transport.push_back(*f);
    }
  }
  decode_transport_offsets(elf, &plan);
  if (const auto deinit = function(elf, "gnutls_deinit")) {
    if (auto f = describe_function(elf, "gnutls_deinit", deinit->value)) plan.deinit = *f;
  }
  return plan;
}

std::string GnuTlsPlan::describe() const {
  std::string out = "GnuTLS";
  out += version.empty() ? " (version unknown)" : " " + version;
  out += fmt::format(": write ({}), read ({}):", write_reason, read_reason);
  for (size_t i = 0; i < targets.size(); ++i) {
    const GnuTlsFunction& f = targets[i].function;
    out += fmt::format("{} {}@{:#x} ({}{})", i == 0 ? "" : ",", f.name, f.vaddr, f.first_insn,
                       f.emulated ? "" : ", single-stepped");
  }
  return out;
}

}  // namespace qtap::tls
