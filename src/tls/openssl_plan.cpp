#include "tls/openssl_plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "tls/elf_file.h"
#include "tls/function_scan.h"
#include "tls/probe_site.h"

namespace qtap::tls {
namespace {

// The public functions are small wrappers (Debian: 0x83 and 0x1d bytes;
// node, with the worker inlined: ~0x1e0); this bounds a sweep when a symbol
// has no size.
constexpr size_t kMaxScanBytes = 4096;

struct Direction {
  const char* role;
  const char* pub;       // SSL_write(ssl, buf, int)
  const char* pub_ex;    // SSL_write_ex(ssl, buf, size_t, size_t*)
  const char* pub_ex2;   // SSL_write_ex2(ssl, buf, size_t, flags, size_t*), OpenSSL >= 3.3
  const char* internal;  // ssl_write_internal
};
constexpr Direction kWrite{"write", "SSL_write", "SSL_write_ex", "SSL_write_ex2",
                           "ssl_write_internal"};
constexpr Direction kRead{"read", "SSL_read", "SSL_read_ex", nullptr, "ssl_read_internal"};

std::optional<ElfSymbol> function(const ElfFile& elf, const char* name) {
  if (name == nullptr) return std::nullopt;
  auto sym = elf.symbol(name);
  if (!sym || sym->type != SymbolType::kFunc) return std::nullopt;
  return sym;
}

// The function at `vaddr` (named `name`) is called or tail-called by the
// scanned one, directly or through a PLT stub: libssl calls its own exports
// through its PLT, as they are interposable.
bool reaches(const ElfFile& elf, const FunctionScan& scan, uint64_t vaddr, std::string_view name) {
  auto hits = [&](uint64_t t) { return t == vaddr || resolve_plt_stub(elf, t) == name; };
  return std::any_of(scan.calls.begin(), scan.calls.end(), hits) ||
         std::any_of(scan.tail_jumps.begin(), scan.tail_jumps.end(), hits);
}

bool reaches_vaddr(const FunctionScan& scan, uint64_t vaddr) {
  return std::find(scan.calls.begin(), scan.calls.end(), vaddr) != scan.calls.end() ||
         std::find(scan.tail_jumps.begin(), scan.tail_jumps.end(), vaddr) != scan.tail_jumps.end();
}

// PLT stubs are common callees of everything (ERR_new@plt, __stack_chk_fail@plt).
bool in_plt(const ElfFile& elf, uint64_t vaddr) {
  for (const auto& s : elf.sections()) {
    if (s.name.starts_with(".plt") && vaddr >= s.addr && vaddr - s.addr < s.size) return true;
  }
  return false;
}

Result<ProbeTarget> make_target(const ElfFile& elf, const char* role, std::string symbol,
                                uint64_t vaddr, ArgStyle style) {
  const auto offset = elf.vaddr_to_offset(vaddr);
  if (!offset) return make_error(fmt::format("{}@{:#x}: not in the file", symbol, vaddr));
  auto insn = decode_instruction(elf, vaddr);
  if (!insn) return make_error(fmt::format("{}: {}", symbol, insn.error().message));
  return ProbeTarget{role,
                     std::move(symbol),
                     vaddr,
                     *offset,
                     style,
                     kernel_emulates(*insn),
                     std::move(insn->text)};
}

// The internal worker of one direction, or an Error saying why there is none
// usable (which becomes the plan's reason).
Result<ProbeTarget> find_worker(const ElfFile& elf, const Direction& dir, std::string* how) {
  const auto pub = function(elf, dir.pub);
  const auto pub_ex = function(elf, dir.pub_ex);
  const auto pub_ex2 = function(elf, dir.pub_ex2);
  if (!pub_ex) {
    return make_error(fmt::format("no {} (OpenSSL < 1.1.1 or BoringSSL)", dir.pub_ex));
  }
  // The function that calls the worker besides SSL_write: SSL_write_ex, or
  // from OpenSSL 3.3 on SSL_write_ex2 (which SSL_write_ex wraps).
  const char* partner_name = pub_ex2 ? dir.pub_ex2 : dir.pub_ex;
  const ElfSymbol& partner = pub_ex2 ? *pub_ex2 : *pub_ex;
  auto scan = scan_function(elf, pub->value, kMaxScanBytes);
  if (!scan) return make_error(fmt::format("{}: {}", dir.pub, scan.error().message));
  auto scan_partner = scan_function(elf, partner.value, kMaxScanBytes);
  if (!scan_partner) {
    return make_error(fmt::format("{}: {}", partner_name, scan_partner.error().message));
  }

  uint64_t worker = 0;
  if (const auto named = function(elf, dir.internal)) {
    // A static build keeps the symbol, but the compiler may have inlined the
    // worker into the public functions (node 20 does): then a probe on it
    // would miss every SSL_write call, so it only counts if both call it.
    if (!reaches_vaddr(*scan, named->value) || !reaches_vaddr(*scan_partner, named->value)) {
      return make_error(fmt::format("{} is not called by both {} and {} (inlined into them)",
                                    dir.internal, dir.pub, partner_name));
    }
    worker = named->value;
    *how = "symbol";
  } else {
    std::vector<uint64_t> common;
    auto consider = [&](uint64_t t) {
      if (!reaches_vaddr(*scan, t) || std::find(common.begin(), common.end(), t) != common.end()) {
        return;
      }
      if (!elf.is_executable(t) || in_plt(elf, t)) return;
      if (const auto other = elf.symbol_at(t); other && other->name != dir.internal) return;
      if (const auto first = decode_instruction(elf, t, false);
          !first || first->kind == InsnKind::kJmpIndirect) {
        return;  // a PLT-like stub in a file without section headers
      }
      common.push_back(t);
    };
    for (const uint64_t t : scan_partner->calls) consider(t);
    for (const uint64_t t : scan_partner->tail_jumps) consider(t);
    if (common.empty()) {
      return make_error(
          fmt::format("{} and {} share no unnamed direct callee", dir.pub, partner_name));
    }
    if (common.size() > 1) {
      return make_error(fmt::format("{} and {} share {} unnamed direct callees (ambiguous)",
                                    dir.pub, partner_name, common.size()));
    }
    worker = common.front();
    *how = "call target";
  }

  if (pub_ex2) {
    // SSL_write_ex must end up in the worker too: through SSL_write_ex2 (a
    // call, a tail call or its PLT stub), or directly when SSL_write_ex2 was
    // inlined into it.
    auto scan_ex = scan_function(elf, pub_ex->value, kMaxScanBytes);
    if (!scan_ex || (!reaches_vaddr(*scan_ex, worker) &&
                     !reaches(elf, *scan_ex, pub_ex2->value, dir.pub_ex2))) {
      return make_error(
          fmt::format("{} reaches neither {} nor {}", dir.pub_ex, dir.pub_ex2, dir.internal));
    }
  }

  const ArgStyle style = pub_ex2 ? ArgStyle::kInternalFlags : ArgStyle::kInternal;
  auto target = make_target(elf, dir.role, dir.internal, worker, style);
  if (!target) return target;
  if (!target->emulated) {
    return make_error(
        fmt::format("{} starts with `{}` (single-stepped)", dir.internal, target->first_insn));
  }
  return target;
}

// The public functions of one direction at their entries. One that calls or
// tail-calls another of them (BoringSSL's SSL_write_ex wraps SSL_write,
// OpenSSL 3.3's wraps SSL_write_ex2) is left out: every call through it is
// captured once, by the callee.
Result<void> add_public_targets(const ElfFile& elf, const Direction& dir,
                                std::vector<ProbeTarget>* out) {
  struct Candidate {
    const char* name;
    ArgStyle style;
    std::optional<ElfSymbol> sym;
    bool wrapper = false;
  };
  std::vector<Candidate> candidates;
  for (const auto& [name, style] :
       {std::pair{dir.pub, ArgStyle::kPublicInt}, std::pair{dir.pub_ex, ArgStyle::kPublicEx},
        std::pair{dir.pub_ex2, ArgStyle::kPublicEx2}}) {
    if (auto sym = function(elf, name)) candidates.push_back({name, style, sym});
  }
  for (Candidate& c : candidates) {
    auto scan = scan_function(elf, c.sym->value, kMaxScanBytes);
    if (!scan) continue;
    for (const Candidate& other : candidates) {
      if (&other != &c && reaches(elf, *scan, other.sym->value, other.name)) c.wrapper = true;
    }
  }
  const bool all_wrappers =
      std::all_of(candidates.begin(), candidates.end(), [](const auto& c) { return c.wrapper; });
  for (const Candidate& c : candidates) {
    if (c.wrapper && !all_wrappers) continue;
    auto t = make_target(elf, dir.role, c.name, c.sym->value, c.style);
    if (!t) return t.error();
    out->push_back(std::move(*t));
  }
  return {};
}

}  // namespace

const char* to_string(ArgStyle style) {
  switch (style) {
    case ArgStyle::kPublicInt:
      return "public-int";
    case ArgStyle::kPublicEx:
      return "public-ex";
    case ArgStyle::kInternal:
      return "internal";
    case ArgStyle::kPublicEx2:
      return "public-ex2";
    case ArgStyle::kInternalFlags:
      return "internal-flags";
  }
  return "?";
}

Result<OpenSslPlan> plan_openssl_probes(const ElfFile& elf, bool with_version) {
  if (!function(elf, kWrite.pub) || !function(elf, kRead.pub)) {
    return make_error(fmt::format("{}: no SSL_write/SSL_read symbols", elf.path()));
  }
  OpenSslPlan plan;
  if (with_version) plan.version = detect_openssl_version(elf);

  std::string how_write;
  std::string how_read;
  auto write_worker = find_worker(elf, kWrite, &how_write);
  auto read_worker = write_worker ? find_worker(elf, kRead, &how_read) : write_worker;
  if (write_worker && read_worker) {
    plan.placement = Placement::kInternalWorkers;
    plan.reason = how_write == how_read ? how_write : how_write + "/" + how_read;
    plan.targets.push_back(std::move(*write_worker));
    plan.targets.push_back(std::move(*read_worker));
    return plan;
  }

  plan.placement = Placement::kPublicFunctions;
  plan.reason = write_worker ? read_worker.error().message : write_worker.error().message;
  for (const Direction& dir : {kWrite, kRead}) {
    if (auto r = add_public_targets(elf, dir, &plan.targets); !r) {
      return make_error(fmt::format("{}: {}", elf.path(), r.error().message));
    }
  }
  return plan;
}

std::string OpenSslPlan::describe() const {
  std::string out = "OpenSSL";
  if (!version.version.empty()) {
    out += fmt::format(" {} ({})", version.version, version.source);
  } else {
    out += " (version unknown)";
  }
  out += placement == Placement::kInternalWorkers ? fmt::format(": internal workers ({}):", reason)
                                                  : fmt::format(": public functions ({}):", reason);
  for (size_t i = 0; i < targets.size(); ++i) {
    const ProbeTarget& t = targets[i];
    out += fmt::format("{} {}@{:#x} ({}{})", i == 0 ? "" : ",", t.symbol, t.vaddr, t.first_insn,
                       t.emulated ? "" : ", single-stepped");
  }
  return out;
}

}  // namespace qtap::tls
