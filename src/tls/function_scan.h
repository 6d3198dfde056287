// A linear sweep over one function body: the direct calls it makes, its tail
// jumps and its RET sites. Used to find the internal worker a public TLS
// function calls, and (for Go) the returns to probe instead of a uretprobe.
//
// The sweep decodes only the function, never the whole .text: on node's 27 MB
// of code that is the difference between microseconds and seconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace qtap::tls {

class ElfFile;

struct FunctionScan {
  uint64_t start = 0;
  uint64_t end = 0;                  // one past the last byte swept
  bool size_known = false;           // a symbol gave the size (else heuristics stopped the sweep)
  std::vector<uint64_t> calls;       // direct `call rel32` targets, in code order (repeats kept)
  std::vector<uint64_t> tail_jumps;  // `jmp rel` targets outside the swept range, in order
  std::vector<uint64_t> rets;        // vaddrs of RET instructions
};

// Sweeps the function at `func_vaddr`. Its extent is the symbol size when a
// symbol starts there (capped at `max_bytes`). Otherwise the range is up to
// the next function symbol (capped at `max_bytes`), and the sweep stops after
// the first RET, jump out of that range, indirect jump or trap that no
// earlier branch jumps past, since a linear sweep cannot know what follows
// them. Errors if `func_vaddr` is not in an executable segment or its first
// instruction does not decode; a later undecodable byte ends the sweep.
Result<FunctionScan> scan_function(const ElfFile& elf, uint64_t func_vaddr, size_t max_bytes);

// The function a PLT stub at `vaddr` jumps to, by name: decodes an optional
// endbr64 and then `jmp *slot(%rip)` ([bnd] jmp), and looks the GOT slot up
// in the relocations (ElfFile::got_symbol). Works for .plt, .plt.sec and
// .plt.got entries. nullopt if `vaddr` is not such a stub.
std::optional<std::string_view> resolve_plt_stub(const ElfFile& elf, uint64_t vaddr);

// The direct `call rel32` targets of the function, in order (see scan_function).
std::vector<uint64_t> call_targets(const ElfFile& elf, uint64_t func_vaddr, size_t max_bytes);
// The vaddrs of the function's RET instructions (see scan_function).
std::vector<uint64_t> ret_sites(const ElfFile& elf, uint64_t func_vaddr, size_t max_bytes);

}  // namespace qtap::tls
