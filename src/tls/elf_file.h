// A read-only view of one ELF64 x86-64 file (a shared library or an
// executable), enough to place uprobes: loadable segments, sections, function
// symbols, vaddr -> file offset, bytes at a vaddr, strings in .rodata and the
// build id.
//
// The file is mmap'ed, never copied: node is ~90 MB and we only touch a few
// pages of it. Every offset read from the file is bounds-checked, so a
// truncated or hostile file yields an Error, never a crash. (A file truncated
// by someone else *while* mapped can still raise SIGBUS; libraries being
// probed are not rewritten in place in practice: package managers replace
// them by rename.)
//
// open() reads the headers only: it is on the exec path (a new program's
// TLS library must be probed before its first SSL_write), and indexing
// node's 180k symbols up front cost ~100 ms for the ~15 lookups of a probe
// plan. Symbol lookups read the tables in place and index them on demand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace qtap::tls {

// A PT_LOAD program header.
struct ElfSegment {
  uint64_t vaddr = 0;
  uint64_t memsz = 0;
  uint64_t offset = 0;
  uint64_t filesz = 0;
  uint32_t flags = 0;  // PF_R | PF_W | PF_X
  bool executable() const { return (flags & 0x1u) != 0; }
};

struct ElfSection {
  std::string_view name;  // view into the mapping
  uint32_t type = 0;      // SHT_*
  uint64_t flags = 0;     // SHF_*
  uint64_t addr = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint32_t link = 0;  // sh_link: for symbol tables, the index of their string table
  uint64_t entsize = 0;
};

enum class SymbolType : uint8_t { kFunc, kObject };

// A defined FUNC or OBJECT symbol from .symtab or .dynsym.
struct ElfSymbol {
  std::string_view name;  // without the "@VERSION"/"@@VERSION" suffix; view into the mapping
  uint64_t value = 0;     // vaddr
  uint64_t size = 0;      // 0 when the toolchain did not record it
  SymbolType type = SymbolType::kFunc;
  bool global = false;  // STB_GLOBAL or STB_WEAK (local otherwise)
};

class ElfFile {
 public:
  // Opens and validates `path`. Errors: unreadable, not a regular file, not
  // ELF64 little-endian x86-64, headers or tables outside the file.
  static Result<ElfFile> open(const std::string& path);

  ElfFile(ElfFile&&) noexcept;
  ElfFile& operator=(ElfFile&&) noexcept;
  ElfFile(const ElfFile&) = delete;
  ElfFile& operator=(const ElfFile&) = delete;
  ~ElfFile();

  const std::string& path() const { return path_; }
  uint64_t file_size() const;
  uint16_t elf_type() const { return elf_type_; }  // ET_EXEC (2) or ET_DYN (3)

  const std::vector<ElfSegment>& load_segments() const { return segments_; }
  const std::vector<ElfSection>& sections() const { return sections_; }
  const ElfSection* section(std::string_view name) const;

  // Defined functions and objects of .dynsym and .symtab. Names are unique
  // keys: a global definition wins over a local one of the same name, then
  // the first one, .dynsym before .symtab. Looked up in place: by name
  // through .gnu.hash for .dynsym and by a scan of .symtab, by address by a
  // scan; after many scans, through an index built then. Lookups are const
  // but fill these caches: an ElfFile is used from one thread at a time.
  // symbol_count() is the number of distinct names (it builds the index).
  size_t symbol_count() const;
  std::optional<ElfSymbol> symbol(std::string_view name) const;
  // A symbol that starts exactly at `vaddr` (functions preferred).
  std::optional<ElfSymbol> symbol_at(uint64_t vaddr) const;
  // The lowest function symbol address above `vaddr`: an upper bound for the
  // body of a function the symbol table does not describe (Debian's hidden
  // ssl_write_internal).
  std::optional<uint64_t> next_function_after(uint64_t vaddr) const;

  // The symbol a GOT slot is bound to by an R_X86_64_JUMP_SLOT or GLOB_DAT
  // relocation: a PLT stub `jmp *slot(%rip)` calls this function. Resolves
  // calls to imports and to the library's own interposable exports (libssl
  // calls its exported functions through its PLT). nullopt if no relocation.
  // The relocations are read at the first call.
  std::optional<std::string_view> got_symbol(uint64_t got_vaddr) const;

  // The file offset of `vaddr`, through the PT_LOAD segment whose file-backed
  // part contains it. Uprobes are attached by file offset. nullopt for an
  // address outside every segment or in .bss (no file bytes).
  std::optional<uint64_t> vaddr_to_offset(uint64_t vaddr) const;
  // True if `vaddr` is in the file-backed part of an executable PT_LOAD.
  bool is_executable(uint64_t vaddr) const;
  // Up to `max_len` bytes of the file at `vaddr`, clipped at the end of the
  // containing segment's file bytes. Empty if `vaddr` is not file-backed.
  std::span<const uint8_t> bytes_at(uint64_t vaddr, size_t max_len) const;

  // Finds `needle` in section `section_name` (e.g. ".rodata") and returns the
  // text from the needle to (not including) the next NUL:
  // find_string(".rodata", "OpenSSL 3.") -> "OpenSSL 3.0.19 27 Jan 2026".
  // Each occurrence, in file order, is passed to `accept` (when given); the
  // first accepted one is returned. One memmem pass, no copies.
  std::optional<std::string_view> find_string(
      std::string_view section_name, std::string_view needle,
      const std::function<bool(std::string_view)>& accept = {}) const;

  // The NT_GNU_BUILD_ID note as lowercase hex, "" if the file has none.
  std::string build_id() const;

 private:
  struct Mapping;
  struct SymbolTables;  // the symbol tables and their lazily built indexes
  ElfFile() = default;
  Result<void> parse();
  Result<void> parse_segments();
  Result<void> parse_sections();
  Result<void> add_symbol_table(size_t section_index);
  void parse_relocations(const ElfSection& rela, const ElfSection& symtab,
                         std::vector<std::pair<uint64_t, std::string_view>>* out) const;
  std::span<const uint8_t> file_bytes(uint64_t offset, uint64_t len) const;

  std::string path_;
  std::unique_ptr<Mapping> map_;
  uint16_t elf_type_ = 0;
  std::vector<ElfSegment> segments_;
  std::vector<ElfSection> sections_;
  struct FileRange {
    uint64_t offset = 0;
    uint64_t size = 0;
  };
  std::vector<FileRange> notes_;  // PT_NOTE segments and SHT_NOTE sections
  std::unique_ptr<SymbolTables> symbols_;
  // GOT slot -> symbol name, sorted by slot; read by the first got_symbol().
  mutable std::optional<std::vector<std::pair<uint64_t, std::string_view>>> got_symbols_;
};

}  // namespace qtap::tls
