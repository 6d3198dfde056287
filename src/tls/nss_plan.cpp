#include "tls/nss_plan.h"

#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <optional>

#include "tls/elf_file.h"
#include "tls/function_scan.h"
#include "tls/probe_site.h"

namespace qtap::tls {
namespace {

constexpr size_t kMaxScanBytes = 4096;
// ssl_InitIOLayer is ~0x200 bytes in NSS 3.87; the method table is filled
// in straight-line code.
constexpr size_t kMaxInitInsns = 400;
// The identity check (ssl_GetPrivate / ssl_FindSocket, usually inlined) comes
// within the first instructions of every SSL layer method.
constexpr size_t kIdentityCheckInsns = 16;
constexpr uint32_t kPrDescLayered = 4;  // PRDescType PR_DESC_LAYERED
constexpr uint64_t kPrIoMethodsSize = 0x120;

struct Decoded {
  uint64_t pc = 0;
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
};

class Decoder {
 public:
  Decoder() { ZydisDecoderInit(&decoder_, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64); }
  std::optional<Decoded> at(const ElfFile& elf, uint64_t pc) const {
    const auto bytes = elf.bytes_at(pc, ZYDIS_MAX_INSTRUCTION_LENGTH);
    Decoded d;
    d.pc = pc;
    if (bytes.empty() || !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder_, bytes.data(), bytes.size(),
                                                              &d.in, d.ops))) {
      return std::nullopt;
    }
    return d;
  }

 private:
  ZydisDecoder decoder_;
};

// The absolute address of a RIP-relative memory operand.
std::optional<uint64_t> rip_address(const Decoded& d, const ZydisDecodedOperand& op) {
  ZyanU64 a = 0;
  if (op.type != ZYDIS_OPERAND_TYPE_MEMORY || op.mem.base != ZYDIS_REGISTER_RIP ||
      !ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&d.in, &op, d.pc, &a))) {
    return std::nullopt;
  }
  return a;
}

// `[base + disp]` with no index: the displacement, if the base is `base`
// (any register when `base` is NONE).
std::optional<int64_t> base_disp(const ZydisDecodedOperand& op,
                                 ZydisRegister base = ZYDIS_REGISTER_NONE) {
  if (op.type != ZYDIS_OPERAND_TYPE_MEMORY || op.mem.index != ZYDIS_REGISTER_NONE ||
      op.mem.base == ZYDIS_REGISTER_RIP || op.mem.base == ZYDIS_REGISTER_NONE) {
    return std::nullopt;
  }
  if (base != ZYDIS_REGISTER_NONE && op.mem.base != base) return std::nullopt;
  return op.mem.disp.value;
}

Result<NssTarget> make_target(const ElfFile& elf, const char* role, std::string symbol,
                              uint64_t vaddr, NssArgStyle style, uint32_t slot) {
  const auto offset = elf.vaddr_to_offset(vaddr);
  if (!offset) return make_error(fmt::format("{}@{:#x}: not in the file", symbol, vaddr));
  auto insn = decode_instruction(elf, vaddr);
  if (!insn) return make_error(fmt::format("{}: {}", symbol, insn.error().message));
  return NssTarget{role,
                   std::move(symbol),
                   vaddr,
                   *offset,
                   style,
                   slot,
                   kernel_emulates(*insn),
                   std::move(insn->text)};
}

std::optional<ElfSymbol> function(const ElfFile& elf, const char* name) {
  auto sym = elf.symbol(name);
  if (!sym || sym->type != SymbolType::kFunc) return std::nullopt;
  return sym;
}

// Straight-line instructions from `start`, at most `max`, up to a RET or an
// indirect jump (included).
std::vector<Decoded> sweep(const ElfFile& elf, const Decoder& dec, uint64_t start, size_t max) {
  std::vector<Decoded> out;
  uint64_t pc = start;
  for (size_t n = 0; n < max; ++n) {
    auto d = dec.at(elf, pc);
    if (!d) break;
    out.push_back(*d);
    if (d->in.mnemonic == ZYDIS_MNEMONIC_RET ||
        (d->in.mnemonic == ZYDIS_MNEMONIC_JMP && d->ops[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)) {
      break;
    }
    pc += d->in.length;
  }
  return out;
}

// --- libnspr4.so -----------------------------------------------------------

// PR_Read & co.: `mov (%rdi),%rax; jmp *slot(%rax)`: the slot.
std::optional<uint32_t> dispatch_slot(const ElfFile& elf, const Decoder& dec, uint64_t func) {
  for (const Decoded& d : sweep(elf, dec, func, 4)) {
    if (d.in.mnemonic == ZYDIS_MNEMONIC_JMP) {
      if (const auto disp = base_disp(d.ops[0]); disp && *disp >= 0) {
        return static_cast<uint32_t>(*disp);
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

Result<void> check_layout(const ElfFile& elf, const Decoder& dec, PrFileDescLayout* layout) {
  // PR_GetIdentitiesLayer(fd, id): `cmp %esi,identity(%rax)`, `mov lower(%rax),%rax`.
  const auto layers = function(elf, "PR_GetIdentitiesLayer");
  if (!layers) return make_error("no PR_GetIdentitiesLayer");
  std::optional<int64_t> identity;
  std::optional<int64_t> lower;
  for (const Decoded& d : sweep(elf, dec, layers->value, 32)) {
    const auto& ops = d.ops;
    if (d.in.mnemonic == ZYDIS_MNEMONIC_CMP && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
        ops[1].reg.value == ZYDIS_REGISTER_ESI && !identity) {
      identity = base_disp(ops[0]);
    }
    if (d.in.mnemonic == ZYDIS_MNEMONIC_MOV && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
        ops[0].size == 64 && !lower) {
      lower = base_disp(ops[1], ops[0].reg.value);  // p = p->lower
    }
  }
  if (identity != int64_t{layout->identity} || lower != int64_t{layout->lower}) {
    return make_error(fmt::format(
        "PR_GetIdentitiesLayer compares identity at {} and follows lower at {} (prio.h: {}, {})",
        identity ? fmt::format("{:#x}", *identity) : "?",
        lower ? fmt::format("{:#x}", *lower) : "?", layout->identity, layout->lower));
  }
  // PR_FileDesc2NativeHandle: `mov secret(%rax),%rax; mov osfd(%rax),%eax`.
  const auto native = function(elf, "PR_FileDesc2NativeHandle");
  if (!native) return make_error("no PR_FileDesc2NativeHandle");
  const auto insns = sweep(elf, dec, native->value, 32);
  for (size_t i = 0; i + 1 < insns.size(); ++i) {
    const auto& a = insns[i].ops;
    const auto& b = insns[i + 1].ops;
    if (insns[i].in.mnemonic != ZYDIS_MNEMONIC_MOV ||
        insns[i + 1].in.mnemonic != ZYDIS_MNEMONIC_MOV ||
        a[0].type != ZYDIS_OPERAND_TYPE_REGISTER || a[0].size != 64 ||
        b[0].type != ZYDIS_OPERAND_TYPE_REGISTER || b[0].size != 32) {
      continue;
    }
    const auto secret = base_disp(a[1]);
    const auto osfd = base_disp(b[1], a[0].reg.value);
    if (secret && osfd && *secret == layout->secret && *osfd >= 0) {
      layout->osfd = static_cast<uint32_t>(*osfd);
      return {};
    }
  }
  return make_error("PR_FileDesc2NativeHandle: no `mov secret(%r),%r; mov osfd(%r),%e` found");
}

// --- libssl3.so ------------------------------------------------------------

// The PLT stub that jumps to `name`.
std::optional<uint64_t> plt_stub(const ElfFile& elf, std::string_view name) {
  for (const ElfSection& s : elf.sections()) {
    if (!s.name.starts_with(".plt") || s.addr == 0) continue;
    const uint64_t stride = s.name == ".plt.got" ? 8 : 16;
    for (uint64_t a = s.addr; a + stride <= s.addr + s.size; a += stride) {
      if (resolve_plt_stub(elf, a) == name) return a;
    }
  }
  return std::nullopt;
}

// Function starts from .eh_frame_hdr's sorted table: {start, next start}
// around `vaddr`. Only the encodings every GNU toolchain emits
// (eh_frame_ptr pcrel|sdata4, fde_count udata4, table datarel|sdata4).
std::optional<std::pair<uint64_t, uint64_t>> function_bounds(const ElfFile& elf, uint64_t vaddr) {
  const ElfSection* s = elf.section(".eh_frame_hdr");
  if (s == nullptr || s->addr == 0) return std::nullopt;
  const auto hdr = elf.bytes_at(s->addr, s->size);
  if (hdr.size() < 12 || hdr[0] != 1 || hdr[1] != 0x1b || hdr[2] != 0x03 || hdr[3] != 0x3b) {
    return std::nullopt;
  }
  uint32_t count;
  std::memcpy(&count, hdr.data() + 8, 4);
  if (count == 0 || (hdr.size() - 12) / 8 < count) return std::nullopt;
  auto start_of = [&](uint32_t i) {
    int32_t rel;
    std::memcpy(&rel, hdr.data() + 12 + uint64_t{i} * 8, 4);
    return s->addr + static_cast<uint64_t>(static_cast<int64_t>(rel));
  };
  // The last entry starting at or before vaddr.
  uint32_t lo = 0, hi = count;
  while (hi - lo > 1) {
    const uint32_t mid = lo + (hi - lo) / 2;
    (start_of(mid) <= vaddr ? lo : hi) = mid;
  }
  if (start_of(lo) > vaddr) return std::nullopt;
  const uint64_t next = lo + 1 < count ? start_of(lo + 1) : start_of(lo) + kMaxScanBytes;
  return std::pair{start_of(lo), next};
}

// The functions that directly call `target`: a byte scan of .text for
// `e8 rel32` hitting it, each confirmed by decoding its function from the
// start (the bytes could be inside another instruction).
std::vector<std::pair<uint64_t, uint64_t>> callers_of(const ElfFile& elf, const Decoder& dec,
                                                      uint64_t target) {
  std::vector<std::pair<uint64_t, uint64_t>> out;  // {function start, call site}
  const ElfSection* text = elf.section(".text");
  if (text == nullptr) return out;
  const auto code = elf.bytes_at(text->addr, text->size);
  for (size_t i = 0; i + 5 <= code.size(); ++i) {
    if (code[i] != 0xe8) continue;
    int32_t rel;
    std::memcpy(&rel, code.data() + i + 1, 4);
    const uint64_t site = text->addr + i;
    if (site + 5 + static_cast<uint64_t>(static_cast<int64_t>(rel)) != target) continue;
    const auto bounds = function_bounds(elf, site);
    if (!bounds) continue;
    for (uint64_t pc = bounds->first; pc <= site && pc < bounds->second;) {
      const auto d = dec.at(elf, pc);
      if (!d) break;
      if (pc == site) out.emplace_back(bounds->first, site);
      pc += d->in.length;
    }
  }
  return out;
}

// Follows the stores of ssl_InitIOLayer into the method table, in program
// order. Values are addresses (from `lea x(%rip)`), moved through general
// registers, the two 64-bit lanes of xmm registers (movq, punpcklqdq,
// movlhps, movhps) and the stack (spills), and stored to RIP-relative
// memory. Everything else makes what it writes unknown; a call clobbers the
// caller-saved registers. Branches are not followed: the table is filled in
// straight-line code, and the result is checked afterwards.
class InitEmulator {
 public:
  InitEmulator(const ElfFile& elf, uint64_t identity_stub) : elf_(elf), stub_(identity_stub) {}

  void run(const Decoder& dec, uint64_t start) {
    uint64_t pc = start;
    for (size_t n = 0; n < kMaxInitInsns; ++n) {
      const auto d = dec.at(elf_, pc);
      if (!d || d->in.mnemonic == ZYDIS_MNEMONIC_RET) return;
      step(*d);
      pc += d->in.length;
    }
  }

  std::optional<uint64_t> layer_id() const { return layer_id_; }
  std::optional<uint64_t> table() const { return layered_store_; }
  std::optional<uint64_t> copy_dest() const { return copy_dest_; }
  std::optional<uint64_t> word(uint64_t addr) const {
    const auto it = mem_.find(addr);
    return it == mem_.end() ? std::nullopt : it->second;
  }

 private:
  using Word = std::optional<uint64_t>;
  using Lanes = std::array<Word, 2>;

  static int gpr(ZydisRegister r) {
    const ZydisRegister full = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
    if (full >= ZYDIS_REGISTER_RAX && full <= ZYDIS_REGISTER_R15) return full - ZYDIS_REGISTER_RAX;
    return -1;
  }
  static int xmm(ZydisRegister r) {
    if (r >= ZYDIS_REGISTER_XMM0 && r <= ZYDIS_REGISTER_XMM31) return r - ZYDIS_REGISTER_XMM0;
    if (r >= ZYDIS_REGISTER_YMM0 && r <= ZYDIS_REGISTER_YMM31) return r - ZYDIS_REGISTER_YMM0;
    if (r >= ZYDIS_REGISTER_ZMM0 && r <= ZYDIS_REGISTER_ZMM31) return r - ZYDIS_REGISTER_ZMM0;
    return -1;
  }
  static bool is_reg(const ZydisDecodedOperand& op) {
    return op.type == ZYDIS_OPERAND_TYPE_REGISTER;
  }
  // The tracked lanes of an xmm/ymm/zmm register operand, else nullptr.
  Lanes* lanes(const ZydisDecodedOperand& op) {
    const int x = is_reg(op) ? xmm(op.reg.value) : -1;
    return x >= 0 ? &xmm_[x] : nullptr;
  }

  // A memory operand as a place: {true, absolute} for RIP-relative,
  // {false, rsp offset} for the stack, nullopt otherwise.
  std::optional<std::pair<bool, uint64_t>> place(const Decoded& d,
                                                 const ZydisDecodedOperand& op) const {
    if (const auto a = rip_address(d, op)) return std::pair{true, *a};
    if (const auto disp = base_disp(op, ZYDIS_REGISTER_RSP)) {
      return std::pair{false, static_cast<uint64_t>(sp_ + *disp)};
    }
    return std::nullopt;
  }
  Word load(const std::optional<std::pair<bool, uint64_t>>& p) const {
    if (!p) return std::nullopt;
    const auto& m = p->first ? mem_ : stack_;
    const auto it = m.find(p->second);
    return it == m.end() ? std::nullopt : it->second;
  }
  void store(const std::optional<std::pair<bool, uint64_t>>& p, Word w) {
    if (p) (p->first ? mem_ : stack_)[p->second] = w;
  }

  void clobber_written(const Decoded& d) {
    for (uint8_t i = 0; i < d.in.operand_count; ++i) {
      const auto& op = d.ops[i];
      if (!is_reg(op) || (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) == 0) continue;
      if (const int g = gpr(op.reg.value); g >= 0) {
        gpr_[g].reset();
        if (g == 0) rax_is_identity_ = false;
      }
      if (const int x = xmm(op.reg.value); x >= 0) xmm_[x] = {};
    }
  }

  void step(const Decoded& d) {
    const auto& ops = d.ops;
    const auto m = d.in.mnemonic;
    switch (m) {
      case ZYDIS_MNEMONIC_CALL: {
        for (const int r : {0, 1, 2, 6, 7, 8, 9, 10, 11}) gpr_[r].reset();  // rax..r11
        for (auto& x : xmm_) x = {};
        ZyanU64 target = 0;
        rax_is_identity_ = ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
                           ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&d.in, &ops[0], d.pc, &target)) &&
                           target == stub_;
        return;
      }
      case ZYDIS_MNEMONIC_LEA:
        if (const int g = gpr(ops[0].reg.value); g >= 0) {
          gpr_[g] = rip_address(d, ops[1]);
          if (g == 0) rax_is_identity_ = false;
        }
        return;
      case ZYDIS_MNEMONIC_MOV:
        if (is_reg(ops[0])) {
          const int g = gpr(ops[0].reg.value);
          if (g < 0) break;
          Word w;
          if (is_reg(ops[1]) && ops[0].size == 64 && gpr(ops[1].reg.value) >= 0) {
            w = gpr_[gpr(ops[1].reg.value)];
          } else if (ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
            w = ops[1].imm.value.u;
          } else if (ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[0].size == 64) {
            w = load(place(d, ops[1]));
          }
          gpr_[g] = w;
          if (g == 0) rax_is_identity_ = false;
          return;
        }
        if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY) {
          const auto p = place(d, ops[0]);
          if (is_reg(ops[1]) && gpr(ops[1].reg.value) == 0 && rax_is_identity_ && p && p->first &&
              ops[0].size == 32) {
            layer_id_ = p->second;  // ssl_layer_id = PR_GetUniqueIdentity("SSL")
            return;
          }
          if (ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && ops[0].size == 32 &&
              ops[1].imm.value.u == kPrDescLayered && p && p->first && !layered_store_) {
            layered_store_ = p->second;  // combined_methods.file_type = PR_DESC_LAYERED
            return;
          }
          if (ops[0].size == 64) {
            store(p, is_reg(ops[1]) && gpr(ops[1].reg.value) >= 0  ? gpr_[gpr(ops[1].reg.value)]
                     : ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE ? Word(ops[1].imm.value.u)
                                                                   : Word());
          }
          return;
        }
        break;
      case ZYDIS_MNEMONIC_MOVQ:
        if (Lanes* dst = lanes(ops[0])) {
          Word w;
          if (is_reg(ops[1]) && gpr(ops[1].reg.value) >= 0) {
            w = gpr_[gpr(ops[1].reg.value)];
          } else if (const Lanes* src = lanes(ops[1])) {
            w = (*src)[0];
          } else if (ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY) {
            w = load(place(d, ops[1]));
          }
          *dst = {w, uint64_t{0}};
          return;
        }
        if (const Lanes* src = lanes(ops[1])) {
          if (is_reg(ops[0]) && gpr(ops[0].reg.value) >= 0) {
            gpr_[gpr(ops[0].reg.value)] = (*src)[0];
            if (gpr(ops[0].reg.value) == 0) rax_is_identity_ = false;
            return;
          }
          if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY) {
            store(place(d, ops[0]), (*src)[0]);
            return;
          }
        }
        break;
      case ZYDIS_MNEMONIC_PUNPCKLQDQ:
      case ZYDIS_MNEMONIC_MOVLHPS:
        if (Lanes* dst = lanes(ops[0])) {
          const Lanes* src = lanes(ops[1]);
          (*dst)[1] = src != nullptr ? (*src)[0] : load(place(d, ops[1]));
          return;
        }
        break;
      case ZYDIS_MNEMONIC_MOVHPS:
      case ZYDIS_MNEMONIC_MOVLPS: {
        const int lane = m == ZYDIS_MNEMONIC_MOVHPS ? 1 : 0;
        if (Lanes* dst = lanes(ops[0])) {
          (*dst)[lane] = load(place(d, ops[1]));
          return;
        }
        if (const Lanes* src = lanes(ops[1])) {
          store(place(d, ops[0]), (*src)[lane]);
          return;
        }
        break;
      }
      case ZYDIS_MNEMONIC_MOVAPS:
      case ZYDIS_MNEMONIC_MOVUPS:
      case ZYDIS_MNEMONIC_MOVDQA:
      case ZYDIS_MNEMONIC_MOVDQU:
      case ZYDIS_MNEMONIC_MOVAPD:
      case ZYDIS_MNEMONIC_MOVUPD:
      case ZYDIS_MNEMONIC_VMOVAPS:
      case ZYDIS_MNEMONIC_VMOVUPS:
      case ZYDIS_MNEMONIC_VMOVDQA:
      case ZYDIS_MNEMONIC_VMOVDQU: {
        if (ops[0].size != 128) break;
        Lanes* dst = lanes(ops[0]);
        const Lanes* src = lanes(ops[1]);
        if (dst != nullptr && src != nullptr) {
          *dst = *src;
        } else if (dst != nullptr) {
          const auto p = place(d, ops[1]);
          *dst = {load(p), p ? load(std::pair{p->first, p->second + 8}) : Word()};
        } else if (src != nullptr) {
          const auto p = place(d, ops[0]);
          store(p, (*src)[0]);
          if (p) store(std::pair{p->first, p->second + 8}, (*src)[1]);
        } else {
          break;
        }
        return;
      }
      case ZYDIS_MNEMONIC_SUB:
      case ZYDIS_MNEMONIC_ADD:
        if (is_reg(ops[0]) && ops[0].reg.value == ZYDIS_REGISTER_RSP &&
            ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
          sp_ += (m == ZYDIS_MNEMONIC_SUB ? -1 : 1) * ops[1].imm.value.s;
          return;
        }
        break;
      case ZYDIS_MNEMONIC_PUSH:
        sp_ -= 8;
        stack_[static_cast<uint64_t>(sp_)].reset();
        return;
      case ZYDIS_MNEMONIC_POP:
        sp_ += 8;
        break;  // clobbers its destination below
      case ZYDIS_MNEMONIC_MOVSQ:
        // `rep movsq`: combined_methods = *PR_GetDefaultIOMethods().
        if (gpr_[7] && gpr_[1] && *gpr_[1] * 8 == kPrIoMethodsSize) copy_dest_ = gpr_[7];
        break;
      default:
        break;
    }
    clobber_written(d);
  }

  const ElfFile& elf_;
  uint64_t stub_;
  std::array<Word, 16> gpr_{};
  std::array<Lanes, 32> xmm_{};
  int64_t sp_ = 0;
  std::map<uint64_t, Word> stack_;
  std::map<uint64_t, Word> mem_;
  bool rax_is_identity_ = false;
  std::optional<uint64_t> layer_id_;
  std::optional<uint64_t> layered_store_;
  std::optional<uint64_t> copy_dest_;
};

// The function checks `fd->identity == ssl_layer_id` early, itself or in a
// function it calls first thing (ssl_FindSocket when not inlined).
bool checks_layer_identity(const ElfFile& elf, const Decoder& dec, uint64_t func, uint64_t layer_id,
                           int depth = 1) {
  for (const Decoded& d : sweep(elf, dec, func, kIdentityCheckInsns)) {
    for (uint8_t i = 0; i < d.in.operand_count_visible; ++i) {
      if (rip_address(d, d.ops[i]) == layer_id) return true;
    }
    ZyanU64 target = 0;
    if (depth > 0 && d.in.mnemonic == ZYDIS_MNEMONIC_CALL &&
        d.ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
        ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&d.in, &d.ops[0], d.pc, &target)) &&
        checks_layer_identity(elf, dec, target, layer_id, depth - 1)) {
      return true;
    }
  }
  return false;
}

struct SslMethod {
  const char* role;
  const char* name;
  NssArgStyle style;
  uint32_t slot;
};

}  // namespace

const char* to_string(NssArgStyle style) {
  switch (style) {
    case NssArgStyle::kReadWrite:
      return "read-write";
    case NssArgStyle::kRecvSend:
      return "recv-send";
  }
  return "?";
}

Result<NsprPlan> plan_nss_probes(const ElfFile& nspr) {
  NsprPlan plan;
  const Decoder dec;
  const SslMethod methods[] = {
      {"write", "PR_Write", NssArgStyle::kReadWrite, plan.slots.write},
      {"write", "PR_Send", NssArgStyle::kRecvSend, plan.slots.send},
      {"read", "PR_Read", NssArgStyle::kReadWrite, plan.slots.read},
      {"read", "PR_Recv", NssArgStyle::kRecvSend, plan.slots.recv},
  };
  for (const SslMethod& m : methods) {
    const auto sym = function(nspr, m.name);
    if (!sym) return make_error(fmt::format("{}: no {}", nspr.path(), m.name));
    const auto slot = dispatch_slot(nspr, dec, sym->value);
    if (slot != m.slot) {
      return make_error(fmt::format("{}: {} dispatches through slot {} (prio.h: {:#x})",
                                    nspr.path(), m.name, slot ? fmt::format("{:#x}", *slot) : "?",
                                    m.slot));
    }
    auto t = make_target(nspr, m.role, m.name, sym->value, m.style, m.slot);
    if (!t) return make_error(fmt::format("{}: {}", nspr.path(), t.error().message));
    plan.targets.push_back(std::move(*t));
  }
  if (auto r = check_layout(nspr, dec, &plan.layout); !r) {
    return make_error(fmt::format("{}: {}", nspr.path(), r.error().message));
  }
  return plan;
}

Result<NssSslPlan> plan_nss_ssl_probes(const ElfFile& libssl3) {
  const Decoder dec;
  const std::string& path = libssl3.path();
  const auto stub = plt_stub(libssl3, "PR_GetUniqueIdentity");
  if (!stub) return make_error(fmt::format("{}: no PLT stub for PR_GetUniqueIdentity", path));
  const auto callers = callers_of(libssl3, dec, *stub);
  if (callers.empty()) {
    return make_error(fmt::format("{}: no function calls PR_GetUniqueIdentity@plt", path));
  }
  const PrIoMethodSlots slots;
  const SslMethod methods[] = {
      {"write", "ssl_Write", NssArgStyle::kReadWrite, slots.write},
      {"write", "ssl_Send", NssArgStyle::kRecvSend, slots.send},
      {"read", "ssl_Read", NssArgStyle::kReadWrite, slots.read},
      {"read", "ssl_Recv", NssArgStyle::kRecvSend, slots.recv},
  };
  std::string why = "the method table stores were not recognised";
  for (const auto& [start, site] : callers) {
    InitEmulator emu(libssl3, *stub);
    emu.run(dec, start);
    const auto layer_id = emu.layer_id();
    const auto table = emu.table();
    if (!layer_id || !table) continue;
    if (emu.copy_dest() && emu.copy_dest() != table) {
      why = fmt::format("PR_DESC_LAYERED stored at {:#x}, default methods copied to {:#x}", *table,
                        *emu.copy_dest());
      continue;
    }
    NssSslPlan plan;
    plan.init_function = start;
    plan.layer_id_vaddr = *layer_id;
    plan.methods_vaddr = *table;
    std::map<std::string, uint64_t> found;
    for (const SslMethod& m : methods) {
      const auto fn = emu.word(*table + m.slot);
      if (!fn || !libssl3.is_executable(*fn)) {
        why = fmt::format("slot {:#x} ({}) of the table at {:#x} not recognised", m.slot, m.name,
                          *table);
        break;
      }
      if (!checks_layer_identity(libssl3, dec, *fn, *layer_id)) {
        return make_error(fmt::format("{}: {}@{:#x} does not check the SSL layer identity at {:#x}",
                                      path, m.name, *fn, *layer_id));
      }
      found[m.name] = *fn;
    }
    if (found.size() != std::size(methods)) continue;

    // ssl_Write(fd, buf, len) is ssl_Send(fd, buf, len, 0, timeout) in NSS's
    // source; if it calls ssl_Send rather than inlining it, probing both
    // would capture a write twice.
    for (const SslMethod& m : methods) {
      const bool wrapper_pair = m.style == NssArgStyle::kReadWrite;
      const char* callee = m.slot == slots.write ? "ssl_Send" : "ssl_Recv";
      if (wrapper_pair) {
        auto scan = scan_function(libssl3, found[m.name], kMaxScanBytes);
        const uint64_t c = found[callee];
        if (scan && (std::count(scan->calls.begin(), scan->calls.end(), c) != 0 ||
                     std::count(scan->tail_jumps.begin(), scan->tail_jumps.end(), c) != 0)) {
          plan.reason +=
              fmt::format("{}{} calls {}", plan.reason.empty() ? "" : ", ", m.name, callee);
          continue;
        }
      }
      auto t = make_target(libssl3, m.role, m.name, found[m.name], m.style, m.slot);
      if (!t) return make_error(fmt::format("{}: {}", path, t.error().message));
      plan.targets.push_back(std::move(*t));
    }
    return plan;
  }
  return make_error(fmt::format("{}: {}", path, why));
}

std::string NsprPlan::describe() const {
  std::string out = fmt::format(
      "NSPR: entry points (every NSPR read/write; keep TLS fds only), md.osfd at {:#x}:",
      layout.osfd);
  for (size_t i = 0; i < targets.size(); ++i) {
    const NssTarget& t = targets[i];
    out += fmt::format("{} {}@{:#x} ({}{})", i == 0 ? "" : ",", t.symbol, t.vaddr, t.first_insn,
                       t.emulated ? "" : ", single-stepped");
  }
  return out;
}

std::string NssSslPlan::describe() const {
  std::string out =
      fmt::format("NSS SSL layer (ssl_layer_id@{:#x}, methods@{:#x}{}{}):", layer_id_vaddr,
                  methods_vaddr, reason.empty() ? "" : "; ", reason);
  for (size_t i = 0; i < targets.size(); ++i) {
    const NssTarget& t = targets[i];
    out += fmt::format("{} {}@{:#x} ({}{})", i == 0 ? "" : ",", t.symbol, t.vaddr, t.first_insn,
                       t.emulated ? "" : ", single-stepped");
  }
  return out;
}

}  // namespace qtap::tls
