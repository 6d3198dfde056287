// Finding Go functions by name in a Go executable, stripped or not.
//
// `go build -ldflags='-s -w'` drops .symtab and DWARF, but the runtime needs
// its own function table (for stack traces, GC stack maps, stack growth) and
// that table, pclntab, is always there: every function's entry PC and name.
// So symbols come from .symtab when the binary kept it, else from pclntab.
//
// pclntab layouts (runtime/symtab.go, debug/gosym/pclntab.go):
//   magic       format   header after magic, pad, quantum, ptrsize (8 bytes)
//   0xfffffffb  go1.2    nfunc, then functab {entry uintptr, funcoff uintptr}[nfunc]
//                        + end PC; funcoff and nameoff relative to the table
//   0xfffffffa  go1.16   nfunc, nfiles, funcnametab, cutab, filetab, pctab,
//                        pcln offsets; functab at pcln: {entry, funcoff} uintptrs
//   0xfffffff0  go1.18   nfunc, nfiles, textStart, funcnametab, cutab, filetab,
//   0xfffffff1  go1.20   pctab, pcln offsets; functab at pcln: {entryoff, funcoff}
//                        uint32s, entries relative to textStart
// Every _func record starts with its entry (uintptr before 1.18, uint32
// offset since) and the int32 offset of its name in funcnametab. The functab
// has nfunc + 1 entries: the last one's entry is the end of the last function.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

namespace qtap::tls {

class ElfFile;

enum class PclntabFormat : uint8_t { kGo12, kGo116, kGo118, kGo120 };
const char* to_string(PclntabFormat format);

struct GoFunction {
  std::string name;
  uint64_t entry = 0;       // vaddr of the first instruction
  uint64_t end = 0;         // pclntab: the next function's entry (includes the int3
                            // padding); .symtab: entry + st_size (padding excluded)
  const char* source = "";  // "symtab" or "pclntab"
};

// A parsed pclntab header over the file's bytes (nothing is copied: valid
// while the ElfFile it was opened from lives). All offsets are checked
// against the table; a corrupt entry is skipped.
class GoPclntab {
 public:
  // The table of `elf`: section .gopclntab, or .data.rel.ro.gopclntab
  // (-buildmode=pie). Errors: no such section, unknown magic, header or
  // tables outside the section, text start unknown.
  static Result<GoPclntab> open(const ElfFile& elf);

  PclntabFormat format() const { return format_; }
  uint64_t function_count() const { return nfunc_; }
  // The address function entries are relative to (go1.18+): runtime.text.
  // With external linking it is *not* the .text section's start (the C
  // startup code comes first), so it is taken from the runtime.text symbol,
  // else the header field (or its R_X86_64_RELATIVE addend in a PIE whose
  // field is left 0), else the .text section.
  uint64_t text_start() const { return text_start_; }
  const char* text_start_source() const { return text_start_source_; }

  // The function named exactly `name` (a linear scan of the functab: ~1 ms
  // per 10k functions). nullopt if absent. A few names occur twice (generic
  // instantiations share their shape's name, an assembly function's body
  // its ABI wrapper's): the lowest address wins. Not so for ordinary Go
  // functions and methods like crypto/tls.(*Conn).Write.
  std::optional<GoFunction> find(std::string_view name) const;
  // Function `index` in address order (index < function_count()).
  std::optional<GoFunction> function(uint64_t index) const;

 private:
  GoPclntab() = default;
  std::optional<uint64_t> entry_at(uint64_t index) const;
  std::optional<std::string_view> name_at(uint64_t index) const;

  std::span<const uint8_t> data_;  // the whole section
  PclntabFormat format_ = PclntabFormat::kGo118;
  uint64_t nfunc_ = 0;
  uint64_t text_start_ = 0;
  const char* text_start_source_ = "";
  std::span<const uint8_t> funcnametab_;
  std::span<const uint8_t> funcdata_;  // base of funcoff
  std::span<const uint8_t> functab_;   // (nfunc + 1) entries
  size_t field_size_ = 8;              // size of a functab field: 8 before go1.18, 4 since
};

// The function `name` of a Go executable: from .symtab (value + size) when
// the file has it, else from pclntab. nullopt if neither knows the name.
std::optional<GoFunction> find_go_function(const ElfFile& elf, std::string_view name);

}  // namespace qtap::tls
