#include "tls/elf_file.h"

#include <elf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <functional>
#include <string>
#include <utility>

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

// Lookups answered by scanning the symbol tables before an index is built.
// On node (180k symbols, 2-vCPU VM) a scan costs ~0.9 ms by name (a miss in
// .gnu.hash, then all of .symtab) and ~0.2 ms by address; building the index
// costs ~24 ms and ~9 ms. So an index is built once the scans have cost as
// much (never more than twice the best choice in hindsight). A probe plan
// makes ~2 scans by name and ~6 by address: it builds neither.
constexpr uint32_t kNameScansBeforeIndex = 24;
constexpr uint32_t kAddressScansBeforeIndex = 48;

// Copies a header struct out of the mapping: ELF tables need not be aligned in
// a hostile file, and memcpy is the defined way to read them.
template <typename T>
bool read_struct(std::span<const uint8_t> bytes, T* out) {
  if (bytes.size() < sizeof(T)) return false;
  std::memcpy(out, bytes.data(), sizeof(T));
  return true;
}

// Word `index` of a table of 32-bit words; the caller checks the bounds.
uint32_t word_at(std::span<const uint8_t> words, uint64_t index) {
  uint32_t v;
  std::memcpy(&v, words.data() + index * sizeof(v), sizeof(v));
  return v;
}

bool add_overflows(uint64_t a, uint64_t b) { return a + b < a; }

// "SSL_write@@OPENSSL_3.0.0" -> "SSL_write". Versioned names appear in
// .symtab of shared libraries; .dynsym keeps versions in .gnu.version.
std::string_view strip_version(std::string_view name) {
  const auto at = name.find('@');
  return at == std::string_view::npos ? name : name.substr(0, at);
}

// The string at `offset` of a string table; nullopt if it is outside the
// table or not NUL-terminated inside it (never read past the table).
std::optional<std::string_view> string_at(std::span<const uint8_t> strings, uint64_t offset) {
  if (offset >= strings.size()) return std::nullopt;
  const auto* start = reinterpret_cast<const char*>(strings.data()) + offset;
  const void* nul = std::memchr(start, 0, strings.size() - offset);
  if (nul == nullptr) return std::nullopt;
  return std::string_view(start, static_cast<const char*>(nul) - start);
}

// A symbol's name without its version; "" (skip the symbol) if it has none
// or it is not inside the string table.
std::string_view symbol_name(std::span<const uint8_t> strings, uint32_t st_name) {
  if (st_name == 0) return {};
  return strip_version(string_at(strings, st_name).value_or(std::string_view()));
}

// symbol_name(strings, offset) == name, for a non-empty `name` without '@'
// or NUL, comparing in place: a mismatch costs a byte or two, not a strlen
// (node's .strtab is 7 MB).
bool symbol_name_is(std::span<const uint8_t> strings, uint32_t offset, std::string_view name) {
  if (offset == 0 || offset >= strings.size() || strings.size() - offset <= name.size()) {
    return false;
  }
  const auto* p = reinterpret_cast<const char*>(strings.data()) + offset;
  if (p[0] != name[0] || std::memcmp(p, name.data(), name.size()) != 0) return false;
  const char after = p[name.size()];
  if (after == '\0') return true;
  return after == '@' &&
         std::memchr(p + name.size(), 0, strings.size() - offset - name.size()) != nullptr;
}

// A defined function or object: the only symbols ElfFile answers with.
bool is_definition(const Elf64_Sym& sym) {
  const unsigned type = ELF64_ST_TYPE(sym.st_info);
  return sym.st_shndx != SHN_UNDEF && (type == STT_FUNC || type == STT_OBJECT);
}

bool is_global(const Elf64_Sym& sym) {
  const unsigned bind = ELF64_ST_BIND(sym.st_info);
  return bind == STB_GLOBAL || bind == STB_WEAK;
}

// By address: functions over objects, then global over local (then the
// first one seen, which the caller gets by visiting in table order).
bool outranks(const ElfSymbol& a, const ElfSymbol& b) {
  if (a.type != b.type) return a.type == SymbolType::kFunc;
  return a.global && !b.global;
}

// A symbol in an index: `key` is its address, or the hash of its name.
struct KeyRef {
  uint64_t key = 0;
  uint32_t ref = 0;
};

// Sorts by key, keeping equal keys in their order (refs stay ascending).
// LSD radix sort, a byte per pass, skipping bytes that are equal in all
// keys: ~2x faster than std::sort on node's symbols (its comparisons
// mispredict).
void radix_sort(std::vector<KeyRef>& v) {
  std::vector<KeyRef> out(v.size());
  for (unsigned shift = 0; shift < 64; shift += 8) {
    std::array<size_t, 256> at{};
    for (const KeyRef& e : v) ++at[(e.key >> shift) & 0xff];
    if (std::find(at.begin(), at.end(), v.size()) != at.end()) continue;  // one value
    size_t pos = 0;
    for (size_t& a : at) pos += std::exchange(a, pos);
    for (const KeyRef& e : v) out[at[(e.key >> shift) & 0xff]++] = e;
    v.swap(out);
  }
}

// The run of `sorted` whose key is `key`.
std::span<const KeyRef> equal_keys(const std::vector<KeyRef>& sorted, uint64_t key) {
  const auto lo = std::lower_bound(sorted.begin(), sorted.end(), key,
                                   [](const KeyRef& e, uint64_t k) { return e.key < k; });
  auto hi = lo;
  while (hi != sorted.end() && hi->key == key) ++hi;
  return {lo, hi};
}

// The key of a name in the name index. 32 bits: collisions only cost a name
// comparison, and the radix sort skips the zero high half.
uint64_t name_key(std::string_view name) {
  const uint64_t h = std::hash<std::string_view>{}(name);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

// The last few answers that cost a scan. A probe plan asks for the same
// names and addresses twice (find_worker, then add_public_targets).
template <typename Key, typename Value>
class RecentAnswers {
 public:
  template <typename K>
  const Value* find(const K& key) const {
    for (const auto& [k, v] : entries_) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  void add(Key key, Value value) {
    if (entries_.size() < kSize) {
      entries_.emplace_back(std::move(key), std::move(value));
    } else {
      entries_[next_++ % kSize] = {std::move(key), std::move(value)};
    }
  }

 private:
  static constexpr size_t kSize = 8;
  std::vector<std::pair<Key, Value>> entries_;
  size_t next_ = 0;
};

// The hash function of .gnu.hash (the dynamic linker's dl_new_hash).
uint32_t gnu_hash(std::string_view name) {
  uint32_t h = 5381;
  for (const char c : name) h = h * 33 + static_cast<uint8_t>(c);
  return h;
}

}  // namespace

// The symbol tables: every SHT_DYNSYM, then every SHT_SYMTAB section, in the
// order that decides which of two equal definitions wins. open() records
// where they are; lookups read them in place and build indexes only once
// scanning has proved more expensive. A "ref" numbers a symbol across all
// tables: the table's first_ref plus its index in the table.
struct ElfFile::SymbolTables {
  // The .gnu.hash of a .dynsym (bloom filter unused: a bucket read is as cheap).
  struct GnuHash {
    uint32_t nbuckets = 0;
    uint32_t symoffset = 0;            // symbols below this index are not hashed
    std::span<const uint8_t> buckets;  // uint32_t[nbuckets]: first symbol of the chain
    std::span<const uint8_t> chains;   // uint32_t per symbol from symoffset on
  };
  struct Table {
    std::span<const uint8_t> entries;  // Elf64_Sym[count]
    std::span<const uint8_t> strings;
    uint32_t count = 0;
    uint32_t first_ref = 0;
    std::optional<GnuHash> hash;
  };
  std::vector<Table> tables;
  uint32_t refs = 0;  // sum of the tables' counts

  // The indexes, once built: definitions sorted by (name_key, ref) and by
  // (address, ref), so equal keys are visited in table order. Names are
  // checked at lookup (decode): an entry may be skipped there.
  uint32_t name_scans = 0;
  bool name_index_built = false;
  std::vector<KeyRef> names;
  uint32_t address_scans = 0;
  bool address_index_built = false;
  std::vector<KeyRef> functions;
  std::vector<KeyRef> objects;
  // Until then, the answers of the last scans.
  RecentAnswers<std::string, std::optional<ElfSymbol>> recent_names;
  RecentAnswers<uint64_t, std::optional<ElfSymbol>> recent_addresses;

  static Elf64_Sym raw(const Table& t, uint32_t i) {
    Elf64_Sym sym;
    std::memcpy(&sym, t.entries.data() + uint64_t{i} * sizeof(Elf64_Sym), sizeof(sym));
    return sym;
  }
  static std::optional<ElfSymbol> decode(const Table& t, uint32_t i) {
    if (i == 0) return std::nullopt;  // the null symbol
    const Elf64_Sym sym = raw(t, i);
    if (!is_definition(sym)) return std::nullopt;
    const std::string_view name = symbol_name(t.strings, sym.st_name);
    if (name.empty()) return std::nullopt;
    return ElfSymbol{
        name, sym.st_value, sym.st_size,
        ELF64_ST_TYPE(sym.st_info) == STT_FUNC ? SymbolType::kFunc : SymbolType::kObject,
        is_global(sym)};
  }
  std::pair<const Table*, uint32_t> locate(uint32_t ref) const {
    for (const Table& t : tables) {
      if (ref >= t.first_ref && ref - t.first_ref < t.count) return {&t, ref - t.first_ref};
    }
    return {nullptr, 0};
  }
  std::optional<ElfSymbol> decode(uint32_t ref) const {
    const auto [t, i] = locate(ref);
    return t != nullptr ? decode(*t, i) : std::nullopt;
  }

  // nullopt if the section is too short for its header (then lookups scan).
  static std::optional<GnuHash> parse_gnu_hash(std::span<const uint8_t> bytes) {
    // nbuckets, symoffset, bloom words, bloom shift; then the bloom filter
    // (64-bit words), the buckets and the chains.
    if (bytes.size() < 4 * sizeof(uint32_t)) return std::nullopt;
    const uint32_t nbuckets = word_at(bytes, 0);
    const uint64_t buckets_at = 4 * sizeof(uint32_t) + uint64_t{word_at(bytes, 2)} * 8;
    const uint64_t chains_at = buckets_at + uint64_t{nbuckets} * sizeof(uint32_t);
    if (nbuckets == 0 || chains_at > bytes.size()) return std::nullopt;
    return GnuHash{nbuckets, word_at(bytes, 1), bytes.subspan(buckets_at, chains_at - buckets_at),
                   bytes.subspan(chains_at)};
  }

  std::optional<ElfSymbol> by_name(std::string_view name);
  std::optional<ElfSymbol> by_name_indexed(std::string_view name) const;
  std::optional<ElfSymbol> by_name_unindexed(std::string_view name);
  size_t distinct_names() const;
  void build_name_index();
  std::optional<ElfSymbol> at(uint64_t vaddr);
  std::optional<uint64_t> next_function_after(uint64_t vaddr);
  void build_address_index();
};

std::optional<ElfSymbol> ElfFile::SymbolTables::by_name(std::string_view name) {
  if (!name_index_built && name_scans >= kNameScansBeforeIndex) build_name_index();
  if (name_index_built) return by_name_indexed(name);
  if (const auto* recent = recent_names.find(name)) return *recent;
  const uint32_t scans = name_scans;
  auto sym = by_name_unindexed(name);
  if (name_scans != scans) recent_names.add(std::string(name), sym);
  return sym;
}

// The first global definition in table order, else the first local one.
std::optional<ElfSymbol> ElfFile::SymbolTables::by_name_indexed(std::string_view name) const {
  std::optional<ElfSymbol> first_local;
  for (const KeyRef& e : equal_keys(names, name_key(name))) {
    auto sym = decode(e.ref);
    if (!sym || sym->name != name) continue;
    if (sym->global) return sym;
    if (!first_local) first_local = sym;
  }
  return first_local;
}

std::optional<ElfSymbol> ElfFile::SymbolTables::by_name_unindexed(std::string_view name) {
  std::optional<ElfSymbol> found;
  std::optional<ElfSymbol> first_local;
  const auto is_answer = [&](const Table& t, uint32_t i) {
    const Elf64_Sym raw_sym = raw(t, i);
    if (!is_definition(raw_sym) || !symbol_name_is(t.strings, raw_sym.st_name, name)) return false;
    auto sym = decode(t, i);
    if (!sym) return false;
    if (sym->global) {
      found = sym;
      return true;
    }
    if (!first_local) first_local = sym;
    return false;
  };
  for (const Table& t : tables) {
    if (!t.hash) {
      ++name_scans;
      for (uint32_t i = 1; i < t.count; ++i) {
        if (is_answer(t, i)) return found;
      }
      continue;
    }
    // Symbols below symoffset are the imports (and locals): not hashed, few.
    const GnuHash& g = *t.hash;
    for (uint32_t i = 1; i < std::min(g.symoffset, t.count); ++i) {
      if (is_answer(t, i)) return found;
    }
    // A chain is a run of consecutive symbols, so it is walked in table order;
    // the low bit of a chain word marks the end of the run.
    const uint32_t h = gnu_hash(name);
    const uint64_t chain_words = g.chains.size() / sizeof(uint32_t);
    uint32_t i = word_at(g.buckets, h % g.nbuckets);
    if (i == 0 || i < g.symoffset) continue;  // empty bucket (or a corrupt one)
    for (; i < t.count && i - g.symoffset < chain_words; ++i) {
      const uint32_t word = word_at(g.chains, i - g.symoffset);
      if (((word ^ h) >> 1) == 0 && is_answer(t, i)) return found;
      if ((word & 1) != 0) break;
    }
  }
  return first_local;
}

void ElfFile::SymbolTables::build_name_index() {
  name_index_built = true;
  for (const Table& t : tables) {
    for (uint32_t i = 1; i < t.count; ++i) {
      const Elf64_Sym sym = raw(t, i);
      if (!is_definition(sym)) continue;
      const std::string_view name = symbol_name(t.strings, sym.st_name);
      if (!name.empty()) names.push_back({name_key(name), t.first_ref + i});
    }
  }
  radix_sort(names);
}

size_t ElfFile::SymbolTables::distinct_names() const {
  size_t n = 0;
  for (size_t run = 0, end = 0; run < names.size(); run = end) {
    while (end < names.size() && names[end].key == names[run].key) ++end;
    // Within a run (a name's definitions, and rare collisions), count the
    // names not seen earlier in it.
    for (size_t i = run; i < end; ++i) {
      const std::string_view name = decode(names[i].ref)->name;
      bool seen = false;
      for (size_t j = run; j < i && !seen; ++j) seen = decode(names[j].ref)->name == name;
      if (!seen) ++n;
    }
  }
  return n;
}

std::optional<ElfSymbol> ElfFile::SymbolTables::at(uint64_t vaddr) {
  if (!address_index_built && address_scans >= kAddressScansBeforeIndex) build_address_index();
  std::optional<ElfSymbol> best;
  const auto consider = [&](std::optional<ElfSymbol> sym) {
    if (sym && (!best || outranks(*sym, *best))) best = sym;
  };
  if (address_index_built) {
    for (const auto* sorted : {&functions, &objects}) {
      for (const KeyRef& e : equal_keys(*sorted, vaddr)) consider(decode(e.ref));
      if (best) return best;
    }
    return std::nullopt;
  }
  if (const auto* recent = recent_addresses.find(vaddr)) return *recent;
  ++address_scans;
  for (const Table& t : tables) {
    for (uint32_t i = 1; i < t.count; ++i) {
      uint64_t value;
      std::memcpy(
          &value,
          t.entries.data() + uint64_t{i} * sizeof(Elf64_Sym) + offsetof(Elf64_Sym, st_value),
          sizeof(value));
      if (value == vaddr) consider(decode(t, i));
    }
  }
  recent_addresses.add(vaddr, best);
  return best;
}

std::optional<uint64_t> ElfFile::SymbolTables::next_function_after(uint64_t vaddr) {
  if (!address_index_built && address_scans >= kAddressScansBeforeIndex) build_address_index();
  if (address_index_built) {
    const auto less = [](uint64_t v, const KeyRef& e) { return v < e.key; };
    for (auto it = std::upper_bound(functions.begin(), functions.end(), vaddr, less);
         it != functions.end(); ++it) {
      if (decode(it->ref)) return it->key;
    }
    return std::nullopt;
  }
  ++address_scans;
  std::optional<uint64_t> best;
  for (const Table& t : tables) {
    for (uint32_t i = 1; i < t.count; ++i) {
      const Elf64_Sym sym = raw(t, i);
      if (sym.st_value <= vaddr || (best && sym.st_value >= *best)) continue;
      if (ELF64_ST_TYPE(sym.st_info) == STT_FUNC && decode(t, i)) best = sym.st_value;
    }
  }
  return best;
}

void ElfFile::SymbolTables::build_address_index() {
  address_index_built = true;
  for (const Table& t : tables) {
    for (uint32_t i = 1; i < t.count; ++i) {
      const Elf64_Sym sym = raw(t, i);
      if (!is_definition(sym)) continue;
      auto& sorted = ELF64_ST_TYPE(sym.st_info) == STT_FUNC ? functions : objects;
      sorted.push_back({sym.st_value, t.first_ref + i});
    }
  }
  radix_sort(functions);
  radix_sort(objects);
}

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
  // MAP_SHARED, not MAP_PRIVATE: the kernel copies the breakpoints of uprobes
  // already registered on this file (by an earlier qtap, bpftrace, ...) into
  // private mappings that could be executable, so code read through one
  // shows int3 where a probe sits. Shared read-only mappings are left alone.
  void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  const int err = errno;
  ::close(fd);  // the mapping keeps the file referenced
  if (p == MAP_FAILED) return make_error(fmt::format("{}: mmap: {}", path, std::strerror(err)));

  ElfFile elf;
  elf.path_ = path;
  elf.map_ = std::make_unique<Mapping>();
  elf.map_->data = static_cast<const uint8_t*>(p);
  elf.map_->size = static_cast<uint64_t>(st.st_size);
  elf.symbols_ = std::make_unique<SymbolTables>();
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
    for (size_t i = 0; i < sections_.size(); ++i) {
      if (sections_[i].type != type) continue;
      if (auto r = add_symbol_table(i); !r) return r;
    }
  }
  return {};
}

Result<void> ElfFile::add_symbol_table(size_t section_index) {
  const ElfSection& s = sections_[section_index];
  if (s.link >= sections_.size() || sections_[s.link].type != SHT_STRTAB) {
    return make_error(fmt::format("symbol table {} has no string table", s.name));
  }
  if (s.entsize != sizeof(Elf64_Sym)) {
    return make_error(fmt::format("symbol table {}: entry size {}", s.name, s.entsize));
  }
  const uint64_t count = s.size / sizeof(Elf64_Sym);
  if (count > UINT32_MAX - symbols_->refs) {
    return make_error(fmt::format("symbol table {}: {} symbols", s.name, count));
  }
  // Both ranges were checked against the file by parse_sections().
  const ElfSection& strtab = sections_[s.link];
  SymbolTables::Table table{file_bytes(s.offset, s.size), file_bytes(strtab.offset, strtab.size),
                            static_cast<uint32_t>(count), symbols_->refs, std::nullopt};
  symbols_->refs += static_cast<uint32_t>(count);
  for (const ElfSection& h : sections_) {
    if (s.type == SHT_DYNSYM && h.type == SHT_GNU_HASH && h.link == section_index) {
      table.hash = SymbolTables::parse_gnu_hash(file_bytes(h.offset, h.size));
      break;
    }
  }
  symbols_->tables.push_back(table);
  return {};
}

void ElfFile::parse_relocations(const ElfSection& rela, const ElfSection& symtab,
                                std::vector<std::pair<uint64_t, std::string_view>>* out) const {
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
        !read_struct(syms.subspan(index * sizeof(Elf64_Sym)), &sym)) {
      continue;
    }
    if (const auto name = string_at(strings, sym.st_name)) {
      out->emplace_back(r.r_offset, strip_version(*name));
    }
  }
}

std::optional<std::string_view> ElfFile::got_symbol(uint64_t got_vaddr) const {
  const auto by_slot = [](const auto& a, const auto& b) { return a.first < b.first; };
  if (!got_symbols_) {
    std::vector<std::pair<uint64_t, std::string_view>> slots;
    for (const ElfSection& s : sections_) {
      if (s.type == SHT_RELA && s.link < sections_.size() &&
          (sections_[s.link].type == SHT_DYNSYM || sections_[s.link].type == SHT_SYMTAB)) {
        parse_relocations(s, sections_[s.link], &slots);
      }
    }
    // The first relocation of a slot wins: stable sort, then unique.
    std::stable_sort(slots.begin(), slots.end(), by_slot);
    slots.erase(std::unique(slots.begin(), slots.end(),
                            [](const auto& a, const auto& b) { return a.first == b.first; }),
                slots.end());
    got_symbols_ = std::move(slots);
  }
  const std::pair<uint64_t, std::string_view> key{got_vaddr, {}};
  const auto it = std::lower_bound(got_symbols_->begin(), got_symbols_->end(), key, by_slot);
  if (it == got_symbols_->end() || it->first != got_vaddr) return std::nullopt;
  return it->second;
}

const ElfSection* ElfFile::section(std::string_view name) const {
  for (const auto& s : sections_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

size_t ElfFile::symbol_count() const {
  if (!symbols_) return 0;
  if (!symbols_->name_index_built) symbols_->build_name_index();
  return symbols_->distinct_names();
}

std::optional<ElfSymbol> ElfFile::symbol(std::string_view name) const {
  // Stored names never contain '@' (the version is cut off) or NUL.
  if (!symbols_ || name.empty() || name.find_first_of(std::string_view("@\0", 2)) != name.npos) {
    return std::nullopt;
  }
  return symbols_->by_name(name);
}

std::optional<ElfSymbol> ElfFile::symbol_at(uint64_t vaddr) const {
  if (!symbols_) return std::nullopt;
  return symbols_->at(vaddr);
}

std::optional<uint64_t> ElfFile::next_function_after(uint64_t vaddr) const {
  if (!symbols_) return std::nullopt;
  return symbols_->next_function_after(vaddr);
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
