#include "tls/elf_file.h"

#include <elf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace qtap::tls {

// The mapped file. Owns the mapping; string_views handed out by ElfFile point
// into it, and stay valid across moves of the ElfFile (the pages do not move).
struct ElfFile::Mapping {
  const uint8_t* data = nullptr;
  uint64_t size = 0;
  ~Mapping() {
    if (data != nullptr) munmap(const_cast<uint8_t*>(data), size);
  }
};

namespace {

constexpr uint16_t kShnXindex = 0xffff;

// Copies a header struct out of the mapping: ELF tables need not be aligned in
// a hostile file, and memcpy is the defined way to read them.
template <typename T>
bool read_struct(std::span<const uint8_t> bytes, T* out) {
  if (bytes.size() < sizeof(T)) return false;
  std::memcpy(out, bytes.data(), sizeof(T));
  return true;
}

bool add_overflows(uint64_t a, uint64_t b) { return a + b < a; }

// "SSL_write@@OPENSSL_3.0.0" -> "SSL_write". Versioned names appear in
// .symtab of shared libraries; .dynsym keeps versions in .gnu.version.
std::string_view strip_version(std::string_view name) {
  const auto at = name.find('@');
  return at == std::string_view::npos ? name : name.substr(0, at);
}

}  // namespace

ElfFile::ElfFile(ElfFile&&) noexcept = default;
ElfFile& ElfFile::operator=(ElfFile&&) noexcept = default;
ElfFile::~ElfFile() = default;

uint64_t ElfFile::file_size() const { return map_ ? map_->size : 0; }

Result<ElfFile> ElfFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(fmt::format("{}: open: {}", path, std::strerror(errno)));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return make_error(fmt::format("{}: stat: {}", path, std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(fmt::format("{}: not a regular file", path));
  }
  if (st.st_size < static_cast<off_t>(sizeof(Elf64_Ehdr))) {
    ::close(fd);
    return make_error(fmt::format("{}: too small for an ELF header ({} bytes)", path, st.st_size));
  }
  void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  const int err = errno;
  ::close(fd);  // the mapping keeps the file referenced
  if (p == MAP_FAILED) return make_error(fmt::format("{}: mmap: {}", path, std::strerror(err)));

  ElfFile elf;
  elf.path_ = path;
  elf.map_ = std::make_unique<Mapping>();
  elf.map_->data = static_cast<const uint8_t*>(p);
  elf.map_->size = static_cast<uint64_t>(st.st_size);
  if (auto r = elf.parse(); !r) return make_error(fmt::format("{}: {}", path, r.error().message));
  return elf;
}

std::span<const uint8_t> ElfFile::file_bytes(uint64_t offset, uint64_t len) const {
  const uint64_t size = file_size();
  if (offset > size || len > size - offset) return {};
  return {map_->data + offset, static_cast<size_t>(len)};
}

Result<void> ElfFile::parse() {
  Elf64_Ehdr eh{};
  read_struct(file_bytes(0, sizeof(eh)), &eh);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return make_error("not an ELF file");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) return make_error("not a 64-bit ELF file");
  if (eh.e_ident[EI_DATA] != ELFDATA2LSB) return make_error("not a little-endian ELF file");
  if (eh.e_machine != EM_X86_64) {
    return make_error(fmt::format("not an x86-64 ELF file (e_machine {})", eh.e_machine));
  }
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
    return make_error(fmt::format("not an executable or shared object (e_type {})", eh.e_type));
  }
  elf_type_ = eh.e_type;
  if (auto r = parse_segments(); !r) return r;
  return parse_sections();
}

Result<void> ElfFile::parse_segments() {
  Elf64_Ehdr eh{};
  read_struct(file_bytes(0, sizeof(eh)), &eh);
  if (eh.e_phnum == 0) return make_error("no program headers");
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) {
    return make_error(fmt::format("bad program header size {}", eh.e_phentsize));
  }
  const auto table = file_bytes(eh.e_phoff, uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr));
  if (table.empty()) return make_error("program headers outside the file");
  for (uint16_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    read_struct(table.subspan(i * sizeof(Elf64_Phdr)), &ph);
    if (ph.p_type == PT_NOTE) {
      if (!file_bytes(ph.p_offset, ph.p_filesz).empty())
        notes_.push_back({ph.p_offset, ph.p_filesz});
      continue;
    }
    if (ph.p_type != PT_LOAD) continue;
    if (file_bytes(ph.p_offset, ph.p_filesz).size() != ph.p_filesz || ph.p_filesz > ph.p_memsz ||
        add_overflows(ph.p_vaddr, ph.p_memsz)) {
      return make_error(fmt::format("PT_LOAD {} (offset {:#x}, {} bytes) outside the file", i,
                                    ph.p_offset, ph.p_filesz));
    }
    segments_.push_back({ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz, ph.p_flags});
  }
  if (segments_.empty()) return make_error("no PT_LOAD segment");
  return {};
}

Result<void> ElfFile::parse_sections() {
  Elf64_Ehdr eh{};
  read_struct(file_bytes(0, sizeof(eh)), &eh);
  if (eh.e_shoff == 0) return {};  // section headers stripped (sstrip): segments still work
  if (eh.e_shentsize != sizeof(Elf64_Shdr)) {
    return make_error(fmt::format("bad section header size {}", eh.e_shentsize));
  }
  Elf64_Shdr first{};
  if (!read_struct(file_bytes(eh.e_shoff, sizeof(first)), &first)) {
    return make_error("section headers outside the file");
  }
  // Extended numbering: with >= 0xff00 sections the count and the string
  // table index live in section 0.
  const uint64_t count = eh.e_shnum != 0 ? eh.e_shnum : first.sh_size;
  const uint64_t strndx = eh.e_shstrndx != kShnXindex ? eh.e_shstrndx : first.sh_link;
  if (count == 0) return {};
  if (count > file_size() / sizeof(Elf64_Shdr))
    return make_error("section headers outside the file");
  const auto table = file_bytes(eh.e_shoff, count * sizeof(Elf64_Shdr));
  if (table.empty()) return make_error("section headers outside the file");

  std::vector<Elf64_Shdr> raw(count);
  for (uint64_t i = 0; i < count; ++i) read_struct(table.subspan(i * sizeof(Elf64_Shdr)), &raw[i]);
  std::span<const uint8_t> names;
  if (strndx != SHN_UNDEF) {
    if (strndx >= count) return make_error("section name table index out of range");
    names = file_bytes(raw[strndx].sh_offset, raw[strndx].sh_size);
    if (names.empty() && raw[strndx].sh_size != 0) {
      return make_error("section name table outside the file");
    }
  }

  sections_.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const Elf64_Shdr& sh = raw[i];
    if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL &&
        file_bytes(sh.sh_offset, sh.sh_size).size() != sh.sh_size) {
      return make_error(fmt::format("section {} (offset {:#x}, {} bytes) outside the file", i,
                                    sh.sh_offset, sh.sh_size));
    }
    std::string_view name;
    if (sh.sh_name < names.size()) {
      const auto* start = reinterpret_cast<const char*>(names.data()) + sh.sh_name;
      const size_t avail = names.size() - sh.sh_name;
      const void* nul = std::memchr(start, 0, avail);
      name = std::string_view(start, nul ? static_cast<const char*>(nul) - start : avail);
    }
    sections_.push_back({name, sh.sh_type, sh.sh_flags, sh.sh_addr, sh.sh_offset, sh.sh_size,
                         sh.sh_link, sh.sh_entsize});
    if (sh.sh_type == SHT_NOTE) notes_.push_back({sh.sh_offset, sh.sh_size});
  }

  // .dynsym first, then .symtab: for equal names the first definition of
  // equal binding is kept, so the exported one is what lookups return.
  for (const uint32_t type : {SHT_DYNSYM, SHT_SYMTAB}) {
    for (const ElfSection& s : sections_) {
      if (s.type != type) continue;
      if (s.link >= sections_.size() || sections_[s.link].type != SHT_STRTAB) {
        return make_error(fmt::format("symbol table {} has no string table", s.name));
      }
      if (auto r = parse_symbols(s, sections_[s.link]); !r) return r;
    }
  }
  for (const ElfSection& s : sections_) {
    if (s.type == SHT_RELA && s.link < sections_.size() &&
        (sections_[s.link].type == SHT_DYNSYM || sections_[s.link].type == SHT_SYMTAB)) {
      parse_relocations(s, sections_[s.link]);
    }
  }
  for (const auto& sym : symbols_) {
    if (sym.type == SymbolType::kFunc) function_addrs_.push_back(sym.value);
  }
  std::sort(function_addrs_.begin(), function_addrs_.end());
  function_addrs_.erase(std::unique(function_addrs_.begin(), function_addrs_.end()),
                        function_addrs_.end());
  return {};
}

Result<void> ElfFile::parse_symbols(const ElfSection& symtab, const ElfSection& strtab) {
  if (symtab.entsize != sizeof(Elf64_Sym)) {
    return make_error(fmt::format("symbol table {}: entry size {}", symtab.name, symtab.entsize));
  }
  const auto table = file_bytes(symtab.offset, symtab.size);
  const auto strings = file_bytes(strtab.offset, strtab.size);
  const uint64_t n = symtab.size / sizeof(Elf64_Sym);
  symbols_.reserve(symbols_.size() + n);
  by_name_.reserve(by_name_.size() + n);
  by_addr_.reserve(by_addr_.size() + n);
  for (uint64_t i = 1; i < n; ++i) {  // entry 0 is the null symbol
    Elf64_Sym sym{};
    read_struct(table.subspan(i * sizeof(Elf64_Sym)), &sym);
    const unsigned type = ELF64_ST_TYPE(sym.st_info);
    if (sym.st_shndx == SHN_UNDEF || (type != STT_FUNC && type != STT_OBJECT)) continue;
    if (sym.st_name == 0 || sym.st_name >= strings.size()) continue;
    const auto* start = reinterpret_cast<const char*>(strings.data()) + sym.st_name;
    const size_t avail = strings.size() - sym.st_name;
    const void* nul = std::memchr(start, 0, avail);
    if (nul == nullptr) continue;  // unterminated name: ignore rather than read past the table
    const std::string_view name =
        strip_version(std::string_view(start, static_cast<const char*>(nul) - start));
    if (name.empty()) continue;

    const unsigned bind = ELF64_ST_BIND(sym.st_info);
    const ElfSymbol es{name, sym.st_value, sym.st_size,
                       type == STT_FUNC ? SymbolType::kFunc : SymbolType::kObject,
                       bind == STB_GLOBAL || bind == STB_WEAK};
    const auto idx = static_cast<uint32_t>(symbols_.size());
    symbols_.push_back(es);

    auto [it, inserted] = by_name_.try_emplace(name, idx);
    if (!inserted && !symbols_[it->second].global && es.global) it->second = idx;

    // By address: functions over objects, then global over local, then first.
    auto [at, added] = by_addr_.try_emplace(es.value, idx);
    if (!added) {
      const ElfSymbol& old = symbols_[at->second];
      const bool better = (es.type == SymbolType::kFunc && old.type != SymbolType::kFunc) ||
                          (es.type == old.type && es.global && !old.global);
      if (better) at->second = idx;
    }
  }
  return {};
}

void ElfFile::parse_relocations(const ElfSection& rela, const ElfSection& symtab) {
  // symtab and its string table were validated by parse_sections().
  if (rela.entsize != sizeof(Elf64_Rela) || symtab.link >= sections_.size()) return;
  const auto relocs = file_bytes(rela.offset, rela.size);
  const auto syms = file_bytes(symtab.offset, symtab.size);
  const ElfSection& strtab = sections_[symtab.link];
  const auto strings = file_bytes(strtab.offset, strtab.size);
  const uint64_t n = rela.size / sizeof(Elf64_Rela);
  for (uint64_t i = 0; i < n; ++i) {
    Elf64_Rela r{};
    read_struct(relocs.subspan(i * sizeof(Elf64_Rela)), &r);
    const auto type = ELF64_R_TYPE(r.r_info);
    if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) continue;
    const uint64_t index = ELF64_R_SYM(r.r_info);
    Elf64_Sym sym{};
    if (index == 0 || index >= syms.size() / sizeof(Elf64_Sym) ||
        !read_struct(syms.subspan(index * sizeof(Elf64_Sym)), &sym) ||
        sym.st_name >= strings.size()) {
      continue;
    }
    const auto* start = reinterpret_cast<const char*>(strings.data()) + sym.st_name;
    const void* nul = std::memchr(start, 0, strings.size() - sym.st_name);
    if (nul == nullptr) continue;
    got_symbols_.emplace(
        r.r_offset, strip_version(std::string_view(start, static_cast<const char*>(nul) - start)));
  }
}

std::optional<std::string_view> ElfFile::got_symbol(uint64_t got_vaddr) const {
  const auto it = got_symbols_.find(got_vaddr);
  if (it == got_symbols_.end()) return std::nullopt;
  return it->second;
}

const ElfSection* ElfFile::section(std::string_view name) const {
  for (const auto& s : sections_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::optional<ElfSymbol> ElfFile::symbol(std::string_view name) const {
  const auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return symbols_[it->second];
}

std::optional<ElfSymbol> ElfFile::symbol_at(uint64_t vaddr) const {
  const auto it = by_addr_.find(vaddr);
  if (it == by_addr_.end()) return std::nullopt;
  return symbols_[it->second];
}

std::optional<uint64_t> ElfFile::next_function_after(uint64_t vaddr) const {
  const auto it = std::upper_bound(function_addrs_.begin(), function_addrs_.end(), vaddr);
  if (it == function_addrs_.end()) return std::nullopt;
  return *it;
}

std::optional<uint64_t> ElfFile::vaddr_to_offset(uint64_t vaddr) const {
  for (const auto& seg : segments_) {
    if (vaddr >= seg.vaddr && vaddr - seg.vaddr < seg.filesz)
      return seg.offset + (vaddr - seg.vaddr);
  }
  return std::nullopt;
}

bool ElfFile::is_executable(uint64_t vaddr) const {
  for (const auto& seg : segments_) {
    if (vaddr >= seg.vaddr && vaddr - seg.vaddr < seg.filesz) return seg.executable();
  }
  return false;
}

std::span<const uint8_t> ElfFile::bytes_at(uint64_t vaddr, size_t max_len) const {
  for (const auto& seg : segments_) {
    if (vaddr >= seg.vaddr && vaddr - seg.vaddr < seg.filesz) {
      const uint64_t in_seg = vaddr - seg.vaddr;
      const uint64_t len = std::min<uint64_t>(max_len, seg.filesz - in_seg);
      return file_bytes(seg.offset + in_seg, len);
    }
  }
  return {};
}

std::optional<std::string_view> ElfFile::find_string(
    std::string_view section_name, std::string_view needle,
    const std::function<bool(std::string_view)>& accept) const {
  const ElfSection* s = section(section_name);
  if (s == nullptr || s->type == SHT_NOBITS || needle.empty()) return std::nullopt;
  const auto bytes = file_bytes(s->offset, s->size);
  const auto* data = reinterpret_cast<const char*>(bytes.data());
  const size_t size = bytes.size();
  size_t pos = 0;
  while (pos < size) {
    const void* hit = memmem(data + pos, size - pos, needle.data(), needle.size());
    if (hit == nullptr) break;
    const size_t start = static_cast<const char*>(hit) - data;
    const void* nul = std::memchr(data + start, 0, size - start);
    const size_t end = nul ? static_cast<const char*>(nul) - data : size;
    const std::string_view found(data + start, end - start);
    if (!accept || accept(found)) return found;
    pos = start + 1;
  }
  return std::nullopt;
}

std::string ElfFile::build_id() const {
  for (const auto& note : notes_) {
    const auto bytes = file_bytes(note.offset, note.size);
    uint64_t pos = 0;
    while (pos + sizeof(Elf64_Nhdr) <= bytes.size()) {
      Elf64_Nhdr nh{};
      read_struct(bytes.subspan(pos), &nh);
      const uint64_t name_at = pos + sizeof(nh);
      const uint64_t desc_at = name_at + ((uint64_t{nh.n_namesz} + 3) & ~uint64_t{3});
      const uint64_t next = desc_at + ((uint64_t{nh.n_descsz} + 3) & ~uint64_t{3});
      if (desc_at + nh.n_descsz > bytes.size()) break;
      // Build ids are 8-32 bytes (xxhash, md5, sha1, sha256); a hostile size is ignored.
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && nh.n_descsz <= 64 &&
          std::memcmp(bytes.data() + name_at, "GNU", 4) == 0) {
        std::string hex;
        hex.reserve(uint64_t{nh.n_descsz} * 2);
        for (uint64_t i = 0; i < nh.n_descsz; ++i) {
          fmt::format_to(std::back_inserter(hex), "{:02x}", bytes[desc_at + i]);
        }
        return hex;
      }
      pos = next;
    }
  }
  return {};
}

}  // namespace qtap::tls
