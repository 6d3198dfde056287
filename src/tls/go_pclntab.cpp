#include "tls/go_pclntab.h"

#include <elf.h>
#include <fmt/format.h>

#include <cstring>

#include "tls/elf_file.h"

namespace qtap::tls {
namespace {

constexpr uint32_t kMagicGo12 = 0xfffffffb;
constexpr uint32_t kMagicGo116 = 0xfffffffa;
constexpr uint32_t kMagicGo118 = 0xfffffff0;
constexpr uint32_t kMagicGo120 = 0xfffffff1;
constexpr size_t kPtrSize = 8;  // x86-64 only

uint64_t read_le(std::span<const uint8_t> b, size_t size) {
  if (size == 4) {
    uint32_t v;
    std::memcpy(&v, b.data(), 4);
    return v;
  }
  uint64_t v;
  std::memcpy(&v, b.data(), 8);
  return v;
}

// Word `i` (pointer-sized) of the header after its first 8 bytes.
uint64_t header_word(std::span<const uint8_t> data, size_t i) {
  return read_le(data.subspan(8 + i * kPtrSize), kPtrSize);
}

// The addend of the R_X86_64_RELATIVE relocation of the 8 bytes at `vaddr`:
// what a position-independent binary stores there at load time.
std::optional<uint64_t> relative_addend(const ElfFile& elf, uint64_t vaddr) {
  for (const ElfSection& s : elf.sections()) {
    if (s.type != SHT_RELA || s.addr == 0 || s.entsize != sizeof(Elf64_Rela)) continue;
    const auto bytes = elf.bytes_at(s.addr, s.size);
    for (size_t pos = 0; pos + sizeof(Elf64_Rela) <= bytes.size(); pos += sizeof(Elf64_Rela)) {
      Elf64_Rela r;
      std::memcpy(&r, bytes.data() + pos, sizeof(r));
      if (r.r_offset == vaddr && ELF64_R_TYPE(r.r_info) == R_X86_64_RELATIVE) {
        return static_cast<uint64_t>(r.r_addend);
      }
    }
  }
  return std::nullopt;
}

}  // namespace

const char* to_string(PclntabFormat format) {
  switch (format) {
    case PclntabFormat::kGo12:
      return "go1.2";
    case PclntabFormat::kGo116:
      return "go1.16";
    case PclntabFormat::kGo118:
      return "go1.18";
    case PclntabFormat::kGo120:
      return "go1.20";
  }
  return "?";
}

Result<GoPclntab> GoPclntab::open(const ElfFile& elf) {
  const ElfSection* s = elf.section(".gopclntab");
  if (s == nullptr) s = elf.section(".data.rel.ro.gopclntab");
  if (s == nullptr || s->addr == 0) return make_error("no .gopclntab section");
  GoPclntab t;
  t.data_ = elf.bytes_at(s->addr, s->size);
  const auto& d = t.data_;
  if (d.size() < 8 + 8 * kPtrSize) return make_error(".gopclntab: too short");
  const auto magic = static_cast<uint32_t>(read_le(d, 4));
  if (d[4] != 0 || d[5] != 0 || d[7] != kPtrSize) {
    return make_error(".gopclntab: not a 64-bit pclntab header");
  }
  switch (magic) {
    case kMagicGo12:
      t.format_ = PclntabFormat::kGo12;
      break;
    case kMagicGo116:
      t.format_ = PclntabFormat::kGo116;
      break;
    case kMagicGo118:
      t.format_ = PclntabFormat::kGo118;
      break;
    case kMagicGo120:
      t.format_ = PclntabFormat::kGo120;
      break;
    default:
      return make_error(fmt::format(".gopclntab: unknown magic {:#x}", magic));
  }

  t.nfunc_ = header_word(d, 0);
  auto region = [&d](uint64_t off) -> std::span<const uint8_t> {
    return off < d.size() ? d.subspan(off) : std::span<const uint8_t>();
  };
  uint64_t functab_off = 0;
  switch (t.format_) {
    case PclntabFormat::kGo12:
      t.funcnametab_ = d;
      t.funcdata_ = d;
      functab_off = 8 + kPtrSize;
      t.field_size_ = kPtrSize;
      break;
    case PclntabFormat::kGo116:
      t.funcnametab_ = region(header_word(d, 2));
      functab_off = header_word(d, 6);
      t.funcdata_ = region(functab_off);
      t.field_size_ = kPtrSize;
      break;
    case PclntabFormat::kGo118:
    case PclntabFormat::kGo120:
      t.funcnametab_ = region(header_word(d, 3));
      functab_off = header_word(d, 7);
      t.funcdata_ = region(functab_off);
      t.field_size_ = 4;
      break;
  }
  // nfunc + 1 entries of two fields.
  const uint64_t functab_size = (t.nfunc_ * 2 + 1) * t.field_size_;
  if (t.nfunc_ == 0 || t.nfunc_ > d.size() || functab_off >= d.size() ||
      functab_size > d.size() - functab_off || t.funcnametab_.empty() || t.funcdata_.empty()) {
    return make_error(fmt::format(".gopclntab: {} functions do not fit the table", t.nfunc_));
  }
  t.functab_ = d.subspan(functab_off, functab_size);

  if (t.format_ == PclntabFormat::kGo118 || t.format_ == PclntabFormat::kGo120) {
    const uint64_t field = header_word(d, 2);
    if (const auto sym = elf.symbol("runtime.text"); sym && sym->value != 0) {
      t.text_start_ = sym->value;
      t.text_start_source_ = "runtime.text";
    } else if (field != 0) {
      t.text_start_ = field;
      t.text_start_source_ = "header";
    } else if (const auto addend = relative_addend(elf, s->addr + 8 + 2 * kPtrSize)) {
      t.text_start_ = *addend;
      t.text_start_source_ = "relocation";
    } else if (const ElfSection* text = elf.section(".text"); text != nullptr) {
      t.text_start_ = text->addr;
      t.text_start_source_ = ".text";
    } else {
      return make_error(".gopclntab: text start unknown");
    }
  }
  return t;
}

std::optional<uint64_t> GoPclntab::entry_at(uint64_t index) const {
  if (index > nfunc_) return std::nullopt;
  const uint64_t v = read_le(functab_.subspan(index * 2 * field_size_), field_size_);
  return field_size_ == 4 ? text_start_ + v : v;
}

std::optional<std::string_view> GoPclntab::name_at(uint64_t index) const {
  if (index >= nfunc_) return std::nullopt;
  const uint64_t funcoff = read_le(functab_.subspan((index * 2 + 1) * field_size_), field_size_);
  // _func: entry (uintptr, or uint32 since go1.18), then int32 nameoff.
  const uint64_t nameoff_at = funcoff + field_size_;
  if (funcoff >= funcdata_.size() || funcdata_.size() - funcoff < field_size_ + 4) {
    return std::nullopt;
  }
  int32_t nameoff;
  std::memcpy(&nameoff, funcdata_.data() + nameoff_at, 4);
  if (nameoff < 0 || static_cast<uint64_t>(nameoff) >= funcnametab_.size()) return std::nullopt;
  const auto* start = reinterpret_cast<const char*>(funcnametab_.data()) + nameoff;
  const void* nul = std::memchr(start, 0, funcnametab_.size() - nameoff);
  if (nul == nullptr) return std::nullopt;
  return std::string_view(start, static_cast<const char*>(nul) - start);
}

std::optional<GoFunction> GoPclntab::function(uint64_t index) const {
  const auto name = name_at(index);
  const auto entry = entry_at(index);
  const auto end = entry_at(index + 1);
  if (!name || !entry || !end || *end <= *entry) return std::nullopt;
  return GoFunction{std::string(*name), *entry, *end, "pclntab"};
}

std::optional<GoFunction> GoPclntab::find(std::string_view name) const {
  if (name.empty()) return std::nullopt;
  for (uint64_t i = 0; i < nfunc_; ++i) {
    const auto n = name_at(i);
    if (n && *n == name) return function(i);
  }
  return std::nullopt;
}

std::optional<GoFunction> find_go_function(const ElfFile& elf, std::string_view name) {
  if (elf.section(".symtab") != nullptr) {
    if (const auto sym = elf.symbol(name);
        sym && sym->type == SymbolType::kFunc && sym->value != 0 && sym->size != 0) {
      return GoFunction{std::string(name), sym->value, sym->value + sym->size, "symtab"};
    }
  }
  auto table = GoPclntab::open(elf);
  if (!table) return std::nullopt;
  return table->find(name);
}

}  // namespace qtap::tls
