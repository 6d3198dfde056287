// Builds small ELF64 x86-64 files at test time: hand-assembled functions at
// fixed slots, a symbol table, optional .plt and .rodata. Lets the placement
// rules be tested on exact code shapes (Debian's wrappers, node's inlining,
// BoringSSL's tail call) without a compiler.
#pragma once

#include <elf.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

namespace qtap::tls::testing {

// Fixed layout: everything is in one R+X PT_LOAD at kBase, file offset 0.
// vaddr = kBase + file offset, so vaddr != offset (like a non-PIE executable).
constexpr uint64_t kBase = 0x400000;
constexpr uint64_t kPltOffset = 0x800;
constexpr uint64_t kTextOffset = 0x1000;
constexpr uint64_t kSlotSize = 0x100;
constexpr uint64_t kMaxSlots = 32;
constexpr uint64_t kRodataOffset = kTextOffset + kSlotSize * kMaxSlots;

constexpr uint64_t slot_vaddr(size_t slot) { return kBase + kTextOffset + slot * kSlotSize; }
constexpr uint64_t kPltVaddr = kBase + kPltOffset;

// A function body being assembled at a known address.
struct Fn {
  uint64_t base = 0;
  std::vector<uint8_t> bytes;

  explicit Fn(uint64_t at) : base(at) {}
  uint64_t here() const { return base + bytes.size(); }
  Fn& raw(std::initializer_list<uint8_t> b) {
    bytes.insert(bytes.end(), b);
    return *this;
  }
  Fn& rel32(uint8_t opcode, uint64_t target) {
    const auto rel = static_cast<int32_t>(static_cast<int64_t>(target - (here() + 5)));
    bytes.push_back(opcode);
    uint8_t le[4];
    std::memcpy(le, &rel, 4);
    bytes.insert(bytes.end(), le, le + 4);
    return *this;
  }
  Fn& call(uint64_t target) { return rel32(0xe8, target); }
  Fn& jmp(uint64_t target) { return rel32(0xe9, target); }
  Fn& ret() { return raw({0xc3}); }
  // A PLT stub: jmp *slot(%rip)
  Fn& jmp_through(uint64_t got_vaddr) {
    const auto rel = static_cast<int32_t>(static_cast<int64_t>(got_vaddr - (here() + 6)));
    bytes.push_back(0xff);
    bytes.push_back(0x25);
    uint8_t le[4];
    std::memcpy(le, &rel, 4);
    bytes.insert(bytes.end(), le, le + 4);
    return *this;
  }
};

struct TinySymbol {
  std::string name;
  uint64_t value = 0;
  uint64_t size = 0;
  bool func = true;
  bool global = true;  // STB_GLOBAL, else STB_LOCAL
};

// The hash of .gnu.hash (the dynamic linker's dl_new_hash).
inline uint32_t gnu_hash(const std::string& name) {
  uint32_t h = 5381;
  for (const char c : name) h = h * 33 + static_cast<uint8_t>(c);
  return h;
}

class TinyElf {
 public:
  // Places `fn` at its slot (replacing what was there: the slot is refilled
  // with int3); the symbol (if `name` is not empty) gets the body's exact
  // size and replaces an earlier symbol of that name.
  void add(const Fn& fn, const std::string& name = "") {
    const uint64_t at = fn.base - kBase - kTextOffset;
    const uint64_t slot_start = at - at % kSlotSize;
    if (text_.size() < slot_start + kSlotSize) text_.resize(slot_start + kSlotSize, 0xcc);
    std::fill(text_.begin() + static_cast<long>(slot_start),
              text_.begin() + static_cast<long>(slot_start + kSlotSize), 0xcc);
    std::memcpy(text_.data() + at, fn.bytes.data(), fn.bytes.size());
    if (name.empty()) return;
    std::erase_if(symbols_, [&](const TinySymbol& s) { return s.name == name; });
    symbols_.push_back({name, fn.base, fn.bytes.size(), true});
  }
  void add_symbol(TinySymbol s) { symbols_.push_back(std::move(s)); }
  // An import (undefined .dynsym entry) bound to GOT slot `got_vaddr` by an
  // R_X86_64_JUMP_SLOT relocation in .rela.plt.
  void add_import(const std::string& name, uint64_t got_vaddr) {
    imports_.push_back({name, got_vaddr, 0, true});
  }
  // A definition in .dynsym (after the imports), found through a .gnu.hash
  // of few buckets, so that chains hold several symbols.
  void add_export(TinySymbol s) { exports_.push_back(std::move(s)); }
  void set_plt(std::vector<uint8_t> plt) { plt_ = std::move(plt); }
  void set_rodata(std::string rodata) { rodata_ = std::move(rodata); }

  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> out(kRodataOffset, 0);
    if (!plt_.empty()) std::memcpy(out.data() + kPltOffset, plt_.data(), plt_.size());
    if (!text_.empty()) std::memcpy(out.data() + kTextOffset, text_.data(), text_.size());
    out.resize(kRodataOffset + rodata_.size());
    if (!rodata_.empty()) std::memcpy(out.data() + kRodataOffset, rodata_.data(), rodata_.size());

    // .strtab and .symtab
    std::string strtab(1, '\0');
    std::vector<Elf64_Sym> syms(1);
    for (const auto& s : symbols_) {
      Elf64_Sym sym{};
      sym.st_name = static_cast<uint32_t>(strtab.size());
      strtab += s.name;
      strtab += '\0';
      sym.st_info =
          ELF64_ST_INFO(s.global ? STB_GLOBAL : STB_LOCAL, s.func ? STT_FUNC : STT_OBJECT);
      sym.st_shndx = s.func ? 2 : 3;
      sym.st_value = s.value;
      sym.st_size = s.size;
      syms.push_back(sym);
    }
    // .dynsym/.dynstr/.rela.plt for the imports
    std::string dynstr(1, '\0');
    std::vector<Elf64_Sym> dynsyms(1);
    std::vector<Elf64_Rela> relas;
    for (const auto& imp : imports_) {
      Elf64_Sym sym{};
      sym.st_name = static_cast<uint32_t>(dynstr.size());
      dynstr += imp.name;
      dynstr += '\0';
      sym.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
      Elf64_Rela r{};
      r.r_offset = imp.value;
      r.r_info = ELF64_R_INFO(dynsyms.size(), R_X86_64_JUMP_SLOT);
      dynsyms.push_back(sym);
      relas.push_back(r);
    }
    // The exports, sorted by bucket as a linker does (each bucket's chain is
    // a run of consecutive symbols), and their .gnu.hash.
    constexpr uint32_t kBuckets = 3;
    const auto symoffset = static_cast<uint32_t>(dynsyms.size());
    std::vector<TinySymbol> exports = exports_;
    std::stable_sort(exports.begin(), exports.end(), [](const auto& a, const auto& b) {
      return gnu_hash(a.name) % kBuckets < gnu_hash(b.name) % kBuckets;
    });
    std::vector<uint32_t> gnu_hash_words = {kBuckets, symoffset, 1, 6, ~0u, ~0u};  // 1 bloom word
    gnu_hash_words.resize(gnu_hash_words.size() + kBuckets, 0);
    for (size_t i = 0; i < exports.size(); ++i) {
      const TinySymbol& s = exports[i];
      Elf64_Sym sym{};
      sym.st_name = static_cast<uint32_t>(dynstr.size());
      dynstr += s.name;
      dynstr += '\0';
      sym.st_info =
          ELF64_ST_INFO(s.global ? STB_GLOBAL : STB_LOCAL, s.func ? STT_FUNC : STT_OBJECT);
      sym.st_shndx = s.func ? 2 : 3;
      sym.st_value = s.value;
      sym.st_size = s.size;
      const uint32_t h = gnu_hash(s.name);
      uint32_t& bucket = gnu_hash_words[6 + h % kBuckets];
      if (bucket == 0) bucket = static_cast<uint32_t>(dynsyms.size());
      const bool last =
          i + 1 == exports.size() || gnu_hash(exports[i + 1].name) % kBuckets != h % kBuckets;
      gnu_hash_words.push_back((h & ~1u) | (last ? 1u : 0u));
      dynsyms.push_back(sym);
    }
    static constexpr char kNames[] =
        "\0.plt\0.text\0.rodata\0.symtab\0.strtab\0.shstrtab\0.dynsym\0.dynstr\0.rela.plt"
        "\0.gnu.hash";
    const std::string shstrtab(kNames, sizeof(kNames));  // the last NUL included
    auto append = [&](const void* p, size_t n) {
      while (out.size() % 8) out.push_back(0);
      const uint64_t at = out.size();
      const auto* b = static_cast<const uint8_t*>(p);
      out.insert(out.end(), b, b + n);
      return at;
    };
    const uint64_t symtab_off = append(syms.data(), syms.size() * sizeof(Elf64_Sym));
    const uint64_t strtab_off = append(strtab.data(), strtab.size());
    const uint64_t shstr_off = append(shstrtab.data(), shstrtab.size());
    const uint64_t dynsym_off = append(dynsyms.data(), dynsyms.size() * sizeof(Elf64_Sym));
    const uint64_t dynstr_off = append(dynstr.data(), dynstr.size());
    const uint64_t rela_off = append(relas.data(), relas.size() * sizeof(Elf64_Rela));
    const uint64_t gnu_hash_off =
        exports.empty() ? 0
                        : append(gnu_hash_words.data(), gnu_hash_words.size() * sizeof(uint32_t));

    // Section 10, .gnu.hash, only with exports.
    std::vector<Elf64_Shdr> sh(exports.empty() ? 10 : 11);
    auto sec = [&](size_t i, uint32_t name, uint32_t type, uint64_t off, uint64_t size,
                   uint64_t flags) {
      sh[i].sh_name = name;
      sh[i].sh_type = type;
      sh[i].sh_offset = off;
      sh[i].sh_size = size;
      sh[i].sh_flags = flags;
      sh[i].sh_addr = (flags & SHF_ALLOC) ? kBase + off : 0;
    };
    sec(1, 1, SHT_PROGBITS, kPltOffset, plt_.size(), SHF_ALLOC | SHF_EXECINSTR);
    sec(2, 6, SHT_PROGBITS, kTextOffset, text_.size(), SHF_ALLOC | SHF_EXECINSTR);
    sec(3, 12, SHT_PROGBITS, kRodataOffset, rodata_.size(), SHF_ALLOC);
    sec(4, 20, SHT_SYMTAB, symtab_off, syms.size() * sizeof(Elf64_Sym), 0);
    sh[4].sh_link = 5;
    sh[4].sh_entsize = sizeof(Elf64_Sym);
    sec(5, 28, SHT_STRTAB, strtab_off, strtab.size(), 0);
    sec(6, 36, SHT_STRTAB, shstr_off, shstrtab.size(), 0);
    sec(7, 46, SHT_DYNSYM, dynsym_off, dynsyms.size() * sizeof(Elf64_Sym), SHF_ALLOC);
    sh[7].sh_link = 8;
    sh[7].sh_entsize = sizeof(Elf64_Sym);
    sec(8, 54, SHT_STRTAB, dynstr_off, dynstr.size(), SHF_ALLOC);
    sec(9, 62, SHT_RELA, rela_off, relas.size() * sizeof(Elf64_Rela), SHF_ALLOC);
    sh[9].sh_link = 7;
    sh[9].sh_entsize = sizeof(Elf64_Rela);
    if (!exports.empty()) {
      sec(10, 72, SHT_GNU_HASH, gnu_hash_off, gnu_hash_words.size() * sizeof(uint32_t), SHF_ALLOC);
      sh[10].sh_link = 7;
    }
    const uint64_t shoff = append(sh.data(), sh.size() * sizeof(Elf64_Shdr));

    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_DYN;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_shoff = shoff;
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 1;
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = static_cast<uint16_t>(sh.size());
    eh.e_shstrndx = 6;
    std::memcpy(out.data(), &eh, sizeof(eh));

    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_flags = PF_R | PF_X;
    ph.p_offset = 0;
    ph.p_vaddr = ph.p_paddr = kBase;
    ph.p_filesz = ph.p_memsz = out.size();
    ph.p_align = 0x1000;
    std::memcpy(out.data() + sizeof(eh), &ph, sizeof(ph));
    return out;
  }

  void write(const std::string& path) const {
    const auto b = bytes();
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }

 private:
  std::vector<uint8_t> text_;
  std::vector<uint8_t> plt_;
  std::string rodata_;
  std::vector<TinySymbol> symbols_;
  std::vector<TinySymbol> imports_;  // value = GOT slot
  std::vector<TinySymbol> exports_;
};

}  // namespace qtap::tls::testing
