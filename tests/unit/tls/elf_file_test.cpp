#include "tls/elf_file.h"

#include <elf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tls/openssl_plan.h"
#include "unit/tls/test_util.h"
#include "unit/tls/tiny_elf.h"

namespace qtap::tls {
namespace {

using testing::exists;
using testing::kLibssl;
using testing::kNode;

// Bytes of the file at `offset`, read with pread: independent of the mapping.
std::vector<uint8_t> pread_bytes(const std::string& path, uint64_t offset, size_t n) {
  std::vector<uint8_t> out(n);
  const int fd = ::open(path.c_str(), O_RDONLY);
  const ssize_t got = pread(fd, out.data(), n, static_cast<off_t>(offset));
  ::close(fd);
  out.resize(got > 0 ? static_cast<size_t>(got) : 0);
  return out;
}

TEST(ElfFileLibssl, EveryDynamicFunctionMatchesNm) {
  QTAP_REQUIRE_BINUTILS();
  QTAP_REQUIRE_FILE(kLibssl);
  auto elf = ElfFile::open(kLibssl);
  ASSERT_TRUE(elf) << elf.error().message;
  EXPECT_EQ(elf->elf_type(), ET_DYN);
  EXPECT_EQ(elf->section(".symtab"), nullptr);  // Debian strips it: .dynsym only

  size_t checked = 0;
  for (const auto& l :
       testing::lines(testing::run(std::string("nm -D --defined-only ") + kLibssl))) {
    const auto w = testing::words(l);
    if (w.size() != 3 || (w[1] != "T" && w[1] != "t")) continue;
    const std::string versioned = w[2];
    const std::string name = versioned.substr(0, versioned.find('@'));
    auto sym = elf->symbol(name);
    ASSERT_TRUE(sym) << name;
    EXPECT_EQ(sym->value, testing::hex(w[0])) << name;
    EXPECT_EQ(sym->type, SymbolType::kFunc) << name;
    if (versioned != name) {
      EXPECT_FALSE(elf->symbol(versioned)) << versioned;
    }
    ++checked;
  }
  EXPECT_GT(checked, 500u);  // libssl.so.3 exports ~700 functions
  const auto nm_write = testing::nm_value(kLibssl, "SSL_write", true);
  ASSERT_TRUE(nm_write);
  EXPECT_EQ(elf->symbol("SSL_write")->value, *nm_write);
  EXPECT_FALSE(elf->symbol("SSL_write@@OPENSSL_3.0.0"));
  EXPECT_FALSE(elf->symbol("ssl_write_internal"));  // local: gone with .symtab
}

TEST(ElfFileLibssl, SymbolSizesMatchNm) {
  QTAP_REQUIRE_BINUTILS();
  QTAP_REQUIRE_FILE(kLibssl);
  auto elf = ElfFile::open(kLibssl);
  ASSERT_TRUE(elf);
  for (const auto& l :
       testing::lines(testing::run(std::string("nm -D -S --defined-only ") + kLibssl))) {
    const auto w = testing::words(l);
    if (w.size() != 4 || w[2] != "T") continue;
    const std::string name = w[3].substr(0, w[3].find('@'));
    if (name != "SSL_write" && name != "SSL_write_ex" && name != "SSL_read" &&
        name != "SSL_read_ex") {
      continue;
    }
    EXPECT_EQ(elf->symbol(name)->size, testing::hex(w[1])) << name;
  }
  EXPECT_EQ(elf->symbol_at(elf->symbol("SSL_read")->value)->name, "SSL_read");
}

TEST(ElfFileLibssl, OffsetsAndBytesMatchReadelf) {
  QTAP_REQUIRE_BINUTILS();
  QTAP_REQUIRE_FILE(kLibssl);
  auto elf = ElfFile::open(kLibssl);
  ASSERT_TRUE(elf);
  const auto loads = testing::readelf_loads(kLibssl);
  ASSERT_EQ(elf->load_segments().size(), loads.size());
  for (size_t i = 0; i < loads.size(); ++i) {
    EXPECT_EQ(elf->load_segments()[i].vaddr, loads[i].vaddr);
    EXPECT_EQ(elf->load_segments()[i].offset, loads[i].offset);
    EXPECT_EQ(elf->load_segments()[i].filesz, loads[i].filesz);
  }
  for (const char* name : {"SSL_write", "SSL_read", "SSL_write_ex", "SSL_read_ex"}) {
    const uint64_t vaddr = elf->symbol(name)->value;
    const auto expected = testing::readelf_offset(kLibssl, vaddr);
    ASSERT_TRUE(expected) << name;
    EXPECT_EQ(elf->vaddr_to_offset(vaddr), expected) << name;
    EXPECT_EQ(*expected, vaddr) << name;  // .text of this library: vaddr == offset
    EXPECT_TRUE(elf->is_executable(vaddr)) << name;
    const auto span = elf->bytes_at(vaddr, 16);
    EXPECT_EQ(std::vector<uint8_t>(span.begin(), span.end()), pread_bytes(kLibssl, *expected, 16));
  }
  // .data is at vaddr = offset + 0x1000 in this library (readelf: LOAD 0x09a7f0 -> 0x9b7f0).
  const auto& rw = loads.back();
  EXPECT_EQ(elf->vaddr_to_offset(rw.vaddr + 8), rw.offset + 8);
  EXPECT_FALSE(elf->is_executable(rw.vaddr + 8));
  EXPECT_FALSE(elf->vaddr_to_offset(0xffffffff00000000ull));
  EXPECT_TRUE(elf->bytes_at(0xffffffff00000000ull, 16).empty());
}

TEST(ElfFileLibssl, BuildIdMatchesReadelf) {
  QTAP_REQUIRE_BINUTILS();
  QTAP_REQUIRE_FILE(kLibssl);
  auto elf = ElfFile::open(kLibssl);
  ASSERT_TRUE(elf);
  std::string expected;
  for (const auto& l : testing::lines(testing::run(std::string("readelf -n ") + kLibssl))) {
    const auto w = testing::words(l);
    if (w.size() == 3 && w[0] == "Build" && w[1] == "ID:") expected = w[2];
  }
  ASSERT_EQ(expected.size(), 40u);
  EXPECT_EQ(elf->build_id(), expected);
}

TEST(ElfFileNode, SymtabOffsetsAndRodata) {
  QTAP_REQUIRE_BINUTILS();
  QTAP_REQUIRE_FILE(kNode);
  auto elf = ElfFile::open(kNode);
  ASSERT_TRUE(elf) << elf.error().message;
  EXPECT_EQ(elf->elf_type(), ET_EXEC);
  for (const char* name : {"ssl_write_internal", "ssl_read_internal", "SSL_write", "SSL_read"}) {
    const auto expected = testing::nm_value(kNode, name, false);
    ASSERT_TRUE(expected) << name;
    const auto sym = elf->symbol(name);
    ASSERT_TRUE(sym) << name;
    EXPECT_EQ(sym->value, *expected) << name;
    const auto offset = testing::readelf_offset(kNode, *expected);
    ASSERT_TRUE(offset);
    EXPECT_NE(*offset, *expected) << "node is non-PIE: offsets differ from vaddrs";
    EXPECT_EQ(elf->vaddr_to_offset(*expected), offset) << name;
    const auto span = elf->bytes_at(*expected, 8);
    EXPECT_EQ(std::vector<uint8_t>(span.begin(), span.end()), pread_bytes(kNode, *offset, 8));
  }
  const auto banner = elf->find_string(".rodata", "OpenSSL 3.0.", [](std::string_view s) {
    return s.size() > 13 && s[12] >= '0' && s[12] <= '9';
  });
  ASSERT_TRUE(banner);
  const std::string version = testing::run(std::string(kNode) + " -p process.versions.openssl");
  EXPECT_TRUE(banner->starts_with("OpenSSL " + version.substr(0, version.find_first_of("+\n"))))
      << *banner;
}

// Same symbol, field by field (ElfSymbol has no operator==).
void expect_same(const std::optional<ElfSymbol>& a, const std::optional<ElfSymbol>& b,
                 const std::string& what) {
  ASSERT_EQ(a.has_value(), b.has_value()) << what;
  if (!a) return;
  EXPECT_EQ(a->name, b->name) << what;
  EXPECT_EQ(a->value, b->value) << what;
  EXPECT_EQ(a->size, b->size) << what;
  EXPECT_EQ(a->type, b->type) << what;
  EXPECT_EQ(a->global, b->global) << what;
}

// Lookups scan the tables (or walk .gnu.hash) at first and switch to indexes
// after many of them: drive an ElfFile past both switches.
void build_indexes(const ElfFile& elf) {
  (void)elf.symbol_count();  // builds the name index
  for (uint64_t a = 0; a < 256; ++a) (void)elf.symbol_at(a);
}

// The name and address rules, on a file whose hashed .dynsym and .symtab
// overlap, while lookups scan and again once they use the indexes.
TEST(ElfFile, SymbolRulesHoldBeforeAndAfterIndexing) {
  using testing::slot_vaddr;
  using testing::TinySymbol;
  testing::TempDir dir;
  testing::TinyElf t;
  t.add(testing::Fn(slot_vaddr(0)).ret());
  auto fn = [&](const std::string& name, size_t slot, bool global, uint64_t size = 8) {
    t.add_symbol(TinySymbol{name, slot_vaddr(slot), size, true, global});
  };
  auto obj = [&](const std::string& name, size_t slot, bool global) {
    t.add_symbol(TinySymbol{name, slot_vaddr(slot), 4, false, global});
  };
  fn("dup", 0, false);  // a local first, then a global of the same name
  fn("dup", 1, true);
  fn("only_local", 2, false);
  fn("only_local", 3, false);
  t.add_export(TinySymbol{"exported", slot_vaddr(4), 8, true, true});
  fn("exported", 5, true);  // .dynsym wins over .symtab
  t.add_export(TinySymbol{"mixed", slot_vaddr(8), 8, true, false});
  fn("mixed", 9, true);  // but a global wins over a local of .dynsym
  fn("versioned@@V_1", 6, true);
  obj("o_local", 10, false);  // at one address: a function over objects...
  obj("o_global", 10, true);
  fn("f_local", 10, false);
  fn("a", 11, false);  // ...a global over a local, then the first
  fn("b", 11, true);
  fn("c", 11, true);
  obj("x", 12, true);  // an object where there is no function
  fn("last", 13, true);
  for (int i = 0; i < 20; ++i) {  // chains of several symbols per bucket
    t.add_export(TinySymbol{"e" + std::to_string(i), slot_vaddr(14) + 16 * i, 16, true, true});
  }
  t.add_import("SSL_write", testing::kBase + 0x3000);  // undefined: not a definition
  t.write(dir.file("syms"));

  auto check = [](const ElfFile& elf) {
    auto value = [&](const char* name) {
      const auto s = elf.symbol(name);
      return s ? s->value : 0;
    };
    EXPECT_EQ(value("dup"), slot_vaddr(1));
    EXPECT_EQ(value("only_local"), slot_vaddr(2));
    EXPECT_FALSE(elf.symbol("only_local")->global);
    EXPECT_EQ(value("exported"), slot_vaddr(4));
    EXPECT_EQ(value("mixed"), slot_vaddr(9));
    EXPECT_EQ(value("versioned"), slot_vaddr(6));
    EXPECT_FALSE(elf.symbol("versioned@@V_1"));
    EXPECT_FALSE(elf.symbol("versioned@"));
    EXPECT_FALSE(elf.symbol(std::string_view("dup\0x", 5)));
    EXPECT_FALSE(elf.symbol(""));
    EXPECT_FALSE(elf.symbol("SSL_write"));
    EXPECT_FALSE(elf.symbol("du"));
    EXPECT_FALSE(elf.symbol("dupe"));
    for (int i = 0; i < 20; ++i) {
      EXPECT_EQ(value(("e" + std::to_string(i)).c_str()), slot_vaddr(14) + 16 * i) << i;
    }
    EXPECT_EQ(elf.symbol_at(slot_vaddr(10))->name, "f_local");
    EXPECT_EQ(elf.symbol_at(slot_vaddr(11))->name, "b");
    EXPECT_EQ(elf.symbol_at(slot_vaddr(12))->name, "x");
    EXPECT_EQ(elf.symbol_at(slot_vaddr(4))->name, "exported");
    EXPECT_FALSE(elf.symbol_at(slot_vaddr(10) + 1));
    EXPECT_EQ(elf.next_function_after(slot_vaddr(10)), slot_vaddr(11));
    EXPECT_EQ(elf.next_function_after(slot_vaddr(11)), slot_vaddr(13));  // past the object
    EXPECT_EQ(elf.next_function_after(slot_vaddr(14) + 16 * 19), std::nullopt);
    EXPECT_EQ(elf.got_symbol(testing::kBase + 0x3000), "SSL_write");
  };
  auto elf = ElfFile::open(dir.file("syms"));
  ASSERT_TRUE(elf) << elf.error().message;
  check(*elf);
  check(*elf);  // again: some answers now come from the recent scans
  build_indexes(*elf);
  check(*elf);
  // dup only_local exported mixed versioned o_local o_global f_local a b c x last e0..e19
  EXPECT_EQ(elf->symbol_count(), 33u);
}

// On real files: what a fresh ElfFile answers (scans of .symtab, .gnu.hash
// for .dynsym) is what one answers after building its indexes.
void expect_indexes_agree_with_scans(const char* path) {
  std::vector<std::string> names = {"nosuch_symbol", "SSL_write_ex2", "SSL_write@@OPENSSL_3.0.0"};
  std::vector<uint64_t> addrs = {0, ~uint64_t{0}};
  for (const char* flags : {"-D --defined-only", "--defined-only"}) {
    const auto lines =
        testing::lines(testing::run(fmt::format("nm {} {} 2>/dev/null", flags, path)));
    for (size_t i = 0; i < lines.size(); i += std::max<size_t>(1, lines.size() / 60)) {
      const auto w = testing::words(lines[i]);
      if (w.size() != 3) continue;
      names.push_back(w[2]);
      names.push_back(w[2].substr(0, w[2].find('@')));
      addrs.push_back(testing::hex(w[0]));
      addrs.push_back(testing::hex(w[0]) + 1);
    }
  }
  auto indexed = ElfFile::open(path);
  ASSERT_TRUE(indexed) << indexed.error().message;
  build_indexes(*indexed);
  for (const auto& name : names) {
    auto fresh = ElfFile::open(path);
    ASSERT_TRUE(fresh);
    expect_same(fresh->symbol(name), indexed->symbol(name), name);
  }
  for (const uint64_t a : addrs) {
    auto fresh = ElfFile::open(path);
    ASSERT_TRUE(fresh);
    expect_same(fresh->symbol_at(a), indexed->symbol_at(a), fmt::format("at {:#x}", a));
    EXPECT_EQ(fresh->next_function_after(a), indexed->next_function_after(a))
        << fmt::format("after {:#x}", a);
  }
}

TEST(ElfFileLibssl, IndexesAgreeWithScans) {
  QTAP_REQUIRE_BINUTILS();
  QTAP_REQUIRE_FILE(kLibssl);
  expect_indexes_agree_with_scans(kLibssl);
}

TEST(ElfFileNode, IndexesAgreeWithScans) {
  QTAP_REQUIRE_BINUTILS();
  QTAP_REQUIRE_FILE(kNode);
  expect_indexes_agree_with_scans(kNode);
}

TEST(ElfFile, FindStringReturnsUpToNulAndHonoursAccept) {
  testing::TempDir dir;
  testing::TinyElf t;
  t.add(testing::Fn(testing::slot_vaddr(0)).ret(), "f");
  t.set_rodata(
      std::string("xx enable OpenSSL 3.0 legacy provider\0OpenSSL 3.0.19 27 Jan 2026\0tail", 69));
  t.write(dir.file("a"));
  auto elf = ElfFile::open(dir.file("a"));
  ASSERT_TRUE(elf) << elf.error().message;
  EXPECT_EQ(elf->find_string(".rodata", "OpenSSL 3."), "OpenSSL 3.0 legacy provider");
  EXPECT_EQ(elf->find_string(".rodata", "OpenSSL 3.",
                             [](std::string_view s) { return s.starts_with("OpenSSL 3.0.1"); }),
            "OpenSSL 3.0.19 27 Jan 2026");
  EXPECT_EQ(elf->find_string(".rodata", "tail"), "tail");  // unterminated: up to the section end
  EXPECT_FALSE(elf->find_string(".rodata", "OpenSSL 1.1."));
  EXPECT_FALSE(elf->find_string(".nosuch", "OpenSSL"));
  EXPECT_EQ(elf->build_id(), "");
}

// ---- hostile and unusual files -------------------------------------------

class HostileElf : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string path = dir_.file(name);
    testing::write_bytes(path, bytes);
    return path;
  }
  static std::vector<uint8_t> tiny() {
    testing::TinyElf t;
    t.add(testing::Fn(testing::slot_vaddr(0)).raw({0x55}).ret(), "SSL_write");
    t.add(testing::Fn(testing::slot_vaddr(1)).raw({0x55}).ret(), "SSL_read");
    return t.bytes();
  }
  template <typename T>
  static T get(const std::vector<uint8_t>& b, size_t off) {
    T v;
    std::memcpy(&v, b.data() + off, sizeof(T));
    return v;
  }
  template <typename T>
  static void put(std::vector<uint8_t>& b, size_t off, T v) {
    std::memcpy(b.data() + off, &v, sizeof(T));
  }
  static Elf64_Ehdr ehdr(const std::vector<uint8_t>& b) { return get<Elf64_Ehdr>(b, 0); }

  testing::TempDir dir_;
};

TEST_F(HostileElf, TinyIsValid) {
  auto elf = ElfFile::open(write("ok", tiny()));
  ASSERT_TRUE(elf) << elf.error().message;
  EXPECT_EQ(elf->symbol("SSL_write")->value, testing::slot_vaddr(0));
  EXPECT_EQ(elf->vaddr_to_offset(testing::slot_vaddr(0)), testing::kTextOffset);
}

TEST_F(HostileElf, MissingEmptyGarbageAndDirectory) {
  EXPECT_FALSE(ElfFile::open(dir_.file("missing")));
  EXPECT_FALSE(ElfFile::open(write("empty", {})));
  EXPECT_FALSE(ElfFile::open(dir_.path()));
  std::mt19937 rng(42);
  std::vector<uint8_t> garbage(4096);
  for (auto& b : garbage) b = static_cast<uint8_t>(rng());
  auto r = ElfFile::open(write("garbage", garbage));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not an ELF file"), std::string::npos) << r.error().message;
}

TEST_F(HostileElf, WrongClassMachineOrType) {
  auto b = tiny();
  b[EI_CLASS] = ELFCLASS32;
  EXPECT_FALSE(ElfFile::open(write("c32", b)));
  b = tiny();
  put<uint16_t>(b, offsetof(Elf64_Ehdr, e_machine), EM_AARCH64);
  auto r = ElfFile::open(write("arm", b));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("x86-64"), std::string::npos);
  b = tiny();
  put<uint16_t>(b, offsetof(Elf64_Ehdr, e_type), ET_REL);
  EXPECT_FALSE(ElfFile::open(write("rel", b)));
}

TEST_F(HostileElf, TruncatedFiles) {
  const auto full = tiny();
  for (const size_t len :
       {size_t{16}, sizeof(Elf64_Ehdr), sizeof(Elf64_Ehdr) + 20, size_t{0x900}, full.size() - 1}) {
    const std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(len));
    EXPECT_FALSE(ElfFile::open(write("cut", cut))) << len;
  }
  if (exists(kLibssl)) {
    const auto lib = testing::read_bytes(kLibssl);
    const std::vector<uint8_t> cut(lib.begin(), lib.begin() + 4096);
    auto r = ElfFile::open(write("libssl-cut", cut));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("PT_LOAD"), std::string::npos) << r.error().message;
  }
}

TEST_F(HostileElf, TablesPastEndOfFile) {
  auto b = tiny();
  const auto eh = ehdr(b);
  put<uint64_t>(b, offsetof(Elf64_Ehdr, e_shoff), b.size() + 64);
  EXPECT_FALSE(ElfFile::open(write("shoff", b)));

  b = tiny();
  put<uint64_t>(b, offsetof(Elf64_Ehdr, e_phoff), ~uint64_t{0} - 8);  // offset + size overflows
  EXPECT_FALSE(ElfFile::open(write("phoff", b)));

  b = tiny();
  put<uint16_t>(b, offsetof(Elf64_Ehdr, e_shnum), 0xfff0);
  EXPECT_FALSE(ElfFile::open(write("shnum", b)));

  // Section 4 (.symtab) with its data past EOF.
  b = tiny();
  const size_t sh4 = eh.e_shoff + 4 * sizeof(Elf64_Shdr);
  put<uint64_t>(b, sh4 + offsetof(Elf64_Shdr, sh_offset), b.size() - 8);
  auto r = ElfFile::open(write("symtab", b));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("outside the file"), std::string::npos) << r.error().message;

  // .symtab whose string table link is out of range.
  b = tiny();
  put<uint32_t>(b, sh4 + offsetof(Elf64_Shdr, sh_link), 99);
  EXPECT_FALSE(ElfFile::open(write("link", b)));

  // Section size so large that offset + size wraps around.
  b = tiny();
  put<uint64_t>(b, sh4 + offsetof(Elf64_Shdr, sh_size), ~uint64_t{0});
  EXPECT_FALSE(ElfFile::open(write("wrap", b)));
}

TEST_F(HostileElf, SymbolNamesOutsideTheStringTableAreSkipped) {
  auto b = tiny();
  const auto eh = ehdr(b);
  const auto symtab = get<Elf64_Shdr>(b, eh.e_shoff + 4 * sizeof(Elf64_Shdr));
  // Symbol 1 (SSL_write) gets a name offset past the string table.
  put<uint32_t>(b, symtab.sh_offset + sizeof(Elf64_Sym) + offsetof(Elf64_Sym, st_name), 0x7fffffff);
  auto elf = ElfFile::open(write("names", b));
  ASSERT_TRUE(elf) << elf.error().message;
  EXPECT_FALSE(elf->symbol("SSL_write"));
  EXPECT_TRUE(elf->symbol("SSL_read"));
}

TEST_F(HostileElf, SectionHeadersStrippedStillMapsAddresses) {
  auto b = tiny();
  put<uint64_t>(b, offsetof(Elf64_Ehdr, e_shoff), 0);
  put<uint16_t>(b, offsetof(Elf64_Ehdr, e_shnum), 0);
  put<uint16_t>(b, offsetof(Elf64_Ehdr, e_shstrndx), 0);
  auto elf = ElfFile::open(write("sstrip", b));
  ASSERT_TRUE(elf) << elf.error().message;
  EXPECT_TRUE(elf->sections().empty());
  EXPECT_EQ(elf->symbol_count(), 0u);
  EXPECT_EQ(elf->vaddr_to_offset(testing::slot_vaddr(1)), testing::kTextOffset + 0x100);
  EXPECT_FALSE(plan_openssl_probes(*elf));  // no symbols: nothing to plan, no crash
}

// Random corruption of every header and table of a real library (its ELF
// header, program headers, section headers, .dynsym and .gnu.hash): open must return
// either an Error or a usable file, and planning must not crash. Run under
// QTAP_SANITIZE=ON to turn any out-of-bounds read into a failure.
TEST_F(HostileElf, RandomHeaderCorruptionNeverCrashes) {
  QTAP_REQUIRE_FILE(kLibssl);
  const auto lib = testing::read_bytes(kLibssl);
  const auto eh = ehdr(lib);
  const auto section_of_type = [&](uint32_t type) {
    for (size_t i = 0; i < eh.e_shnum; ++i) {
      const auto sh = get<Elf64_Shdr>(lib, eh.e_shoff + i * sizeof(Elf64_Shdr));
      if (sh.sh_type == type) return sh;
    }
    return Elf64_Shdr{};
  };
  const auto dynsym_sh = section_of_type(SHT_DYNSYM);
  const auto gnu_hash_sh = section_of_type(SHT_GNU_HASH);
  ASSERT_NE(gnu_hash_sh.sh_size, 0u);
  struct Region {
    uint64_t off, len;
  };
  const Region regions[] = {{0, sizeof(Elf64_Ehdr)},
                            {eh.e_phoff, uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr)},
                            {eh.e_shoff, uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr)},
                            {dynsym_sh.sh_offset, dynsym_sh.sh_size},
                            {gnu_hash_sh.sh_offset, gnu_hash_sh.sh_size}};
  const std::string path = write("fuzz", lib);
  const int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  std::mt19937_64 rng(1234);
  size_t opened = 0;
  for (int iter = 0; iter < 400; ++iter) {
    // Restore, then corrupt 1-8 bytes (or 8-byte words) of one region.
    for (const auto& r : regions)
      ASSERT_EQ(pwrite(fd, lib.data() + r.off, r.len, r.off), (ssize_t)r.len);
    const Region& r = regions[rng() % std::size(regions)];
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      const uint64_t at = r.off + rng() % r.len;
      uint64_t v = rng();
      if (rng() % 2) v = (v % 2) ? ~uint64_t{0} : lib.size() + (v % 4096);  // boundary-ish values
      const size_t n = std::min<uint64_t>(1 + rng() % 8, r.off + r.len - at);
      ASSERT_EQ(pwrite(fd, &v, n, static_cast<off_t>(at)), (ssize_t)n);
    }
    auto elf = ElfFile::open(path);
    if (!elf) continue;
    ++opened;
    (void)elf->build_id();
    (void)elf->find_string(".rodata", "OpenSSL 3.");
    (void)plan_openssl_probes(*elf);
    (void)elf->symbol("SSL_CTX_new");
    build_indexes(*elf);
    (void)plan_openssl_probes(*elf);
  }
  ::close(fd);
  std::printf("%zu of 400 corrupted files opened\n", opened);
  EXPECT_GT(opened, 0u);  // the corruption is not so wide that nothing opens
}

}  // namespace
}  // namespace qtap::tls
