// Go binary formats without a Go toolchain: build info blobs of both
// encodings, pclntab tables of all four formats, prologue and body shapes,
// the offsets table, all in hand-made ELF files. The same code against real
// go1.19 builds is in go_toolchain_test.cpp.
#include <elf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tls/elf_file.h"
#include "tls/go_buildinfo.h"
#include "tls/go_offsets.h"
#include "tls/go_pclntab.h"
#include "tls/go_plan.h"
#include "unit/tls/test_util.h"

namespace qtap::tls {
namespace {

using Bytes = std::vector<uint8_t>;

// --- A minimal ELF: one PT_LOAD per section, file offset = vaddr - kBase ----

constexpr uint64_t kBase = 0x400000;
constexpr uint64_t kText = 0x401000;
constexpr uint64_t kRodata = 0x410000;
constexpr uint64_t kData = 0x420000;

struct MiniSection {
  std::string name;
  uint64_t addr = 0;
  Bytes data;
  uint32_t flags = PF_R;  // PF_R | PF_W | PF_X
};

Bytes mini_elf(const std::vector<MiniSection>& sections, bool section_headers = true) {
  Bytes out(0x1000, 0);
  for (const auto& s : sections) {
    const uint64_t off = s.addr - kBase;
    if (out.size() < off + s.data.size()) out.resize(off + s.data.size(), 0);
    std::memcpy(out.data() + off, s.data.data(), s.data.size());
  }
  std::string shstrtab(1, '\0');
  std::vector<Elf64_Shdr> shdrs(1);
  if (section_headers) {
    for (const auto& s : sections) {
      Elf64_Shdr sh{};
      sh.sh_name = static_cast<uint32_t>(shstrtab.size());
      shstrtab += s.name + '\0';
      sh.sh_type = SHT_PROGBITS;
      sh.sh_flags =
          SHF_ALLOC | ((s.flags & PF_W) ? SHF_WRITE : 0) | ((s.flags & PF_X) ? SHF_EXECINSTR : 0);
      sh.sh_addr = s.addr;
      sh.sh_offset = s.addr - kBase;
      sh.sh_size = s.data.size();
      shdrs.push_back(sh);
    }
    Elf64_Shdr str{};
    str.sh_name = static_cast<uint32_t>(shstrtab.size());
    shstrtab += std::string(".shstrtab") + '\0';
    str.sh_type = SHT_STRTAB;
    str.sh_offset = out.size();
    str.sh_size = shstrtab.size();
    out.insert(out.end(), shstrtab.begin(), shstrtab.end());
    shdrs.push_back(str);
    while (out.size() % 8) out.push_back(0);
  }
  const uint64_t shoff = out.size();
  if (section_headers) {
    const auto* p = reinterpret_cast<const uint8_t*>(shdrs.data());
    out.insert(out.end(), p, p + shdrs.size() * sizeof(Elf64_Shdr));
  }
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = static_cast<uint16_t>(sections.size());
  eh.e_shentsize = sizeof(Elf64_Shdr);
  if (section_headers) {
    eh.e_shoff = shoff;
    eh.e_shnum = static_cast<uint16_t>(shdrs.size());
    eh.e_shstrndx = static_cast<uint16_t>(shdrs.size() - 1);
  }
  std::memcpy(out.data(), &eh, sizeof(eh));
  for (size_t i = 0; i < sections.size(); ++i) {
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_flags = sections[i].flags;
    ph.p_offset = sections[i].addr - kBase;
    ph.p_vaddr = ph.p_paddr = sections[i].addr;
    ph.p_filesz = ph.p_memsz = sections[i].data.size();
    ph.p_align = 0x1000;
    std::memcpy(out.data() + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
  }
  return out;
}

ElfFile open_bytes(const Bytes& b, const std::string& name) {
  static testing::TempDir dir;
  const std::string path = dir.file(name);
  testing::write_bytes(path, b);
  auto elf = ElfFile::open(path);
  EXPECT_TRUE(elf.ok()) << (elf.ok() ? "" : elf.error().message);
  return std::move(*elf);
}

void put64(Bytes* b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b->push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put32(Bytes* b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b->push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void set32(Bytes* b, size_t at, uint32_t v) { std::memcpy(b->data() + at, &v, 4); }
void set64(Bytes* b, size_t at, uint64_t v) { std::memcpy(b->data() + at, &v, 8); }

// --- Build info --------------------------------------------------------------

const std::string kMagic("\xff Go buildinf:", 14);
// cmd/go/internal/modload.infoStart / infoEnd.
const std::string kInfoStart("\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6",
                             16);
const std::string kInfoEnd("\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2", 16);
const std::string kModinfo = kInfoStart +
                             "path\texample.com/app/cmd/srv\n"
                             "mod\texample.com/app\tv1.2.3\th1:abc=\n"
                             "dep\tgolang.org/x/net\tv0.1.0\th1:def=\n"
                             "build\tCGO_ENABLED=0\n" +
                             kInfoEnd;

void put_varint_string(Bytes* b, const std::string& s) {
  uint64_t n = s.size();
  do {
    b->push_back(static_cast<uint8_t>((n & 0x7f) | (n > 0x7f ? 0x80 : 0)));
    n >>= 7;
  } while (n != 0);
  b->insert(b->end(), s.begin(), s.end());
}

// The go1.18+ blob: header with flag 2, then the two strings inline.
Bytes inline_blob(const std::string& version, const std::string& mod) {
  Bytes b(kMagic.begin(), kMagic.end());
  b.push_back(8);
  b.push_back(2);
  b.resize(32, 0);
  put_varint_string(&b, version);
  put_varint_string(&b, mod);
  return b;
}

// The pre-1.18 blob at `at`: two pointers to Go string headers, which
// follow it, then the bytes.
Bytes pointer_blob(uint64_t at, const std::string& version, const std::string& mod) {
  Bytes b(kMagic.begin(), kMagic.end());
  b.push_back(8);
  b.push_back(0);
  put64(&b, at + 32);  // &version header
  put64(&b, at + 48);  // &mod header
  put64(&b, at + 64);  // version bytes
  put64(&b, version.size());
  put64(&b, at + 64 + version.size());
  put64(&b, mod.size());
  b.insert(b.end(), version.begin(), version.end());
  b.insert(b.end(), mod.begin(), mod.end());
  return b;
}

TEST(GoVersion, Parses) {
  const auto v = parse_go_version("go1.19.8");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->major, 1);
  EXPECT_EQ(v->minor, 19);
  EXPECT_EQ(v->patch, 8);
  EXPECT_EQ(parse_go_version("go1.20")->patch, 0);
  EXPECT_EQ(parse_go_version("go1.21rc2")->prerelease, "rc2");
  EXPECT_EQ(parse_go_version("go1.21rc2")->minor, 21);
  EXPECT_EQ(parse_go_version("go1.22.0 X:nocoverageredesign")->minor, 22);
  EXPECT_EQ(parse_go_version("devel go1.23-4f7bc5a Tue Jan 2 10:00:00 2024 +0000")->minor, 23);
  EXPECT_FALSE(parse_go_version("gcc 12"));
  EXPECT_FALSE(parse_go_version("go"));
  EXPECT_FALSE(parse_go_version("go1"));
  EXPECT_TRUE(parse_go_version("go1.17")->at_least(1, 17));
  EXPECT_FALSE(parse_go_version("go1.16.15")->at_least(1, 17));
  EXPECT_TRUE(*parse_go_version("go1.21rc2") == *parse_go_version("go1.21.0"));
  EXPECT_LT(*parse_go_version("go1.9.7"), *parse_go_version("go1.10"));
}

TEST(GoBuildInfo, InlineStrings) {
  const auto elf = open_bytes(
      mini_elf({{".go.buildinfo", kData, inline_blob("go1.21.5", kModinfo), PF_R | PF_W}}),
      "inline");
  const auto info = read_go_buildinfo(elf);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->version, "go1.21.5");
  EXPECT_TRUE(info->inline_strings);
  ASSERT_TRUE(info->parsed);
  EXPECT_EQ(info->parsed->minor, 21);
  EXPECT_EQ(info->main_path, "example.com/app/cmd/srv");
  EXPECT_EQ(info->module_path, "example.com/app");
  EXPECT_EQ(info->module_version, "v1.2.3");
  EXPECT_TRUE(info->modinfo.starts_with("path\t"));
}

TEST(GoBuildInfo, PointerFormatBefore118) {
  const auto elf = open_bytes(
      mini_elf({{".go.buildinfo", kData, pointer_blob(kData, "go1.17.13", kModinfo), PF_R | PF_W}}),
      "pointers");
  const auto info = read_go_buildinfo(elf);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->version, "go1.17.13");
  EXPECT_FALSE(info->inline_strings);
  EXPECT_EQ(info->main_path, "example.com/app/cmd/srv");
  EXPECT_EQ(info->module_version, "v1.2.3");
}

TEST(GoBuildInfo, WithoutModuleInfo) {
  // A binary built outside a module (go build file.go before 1.18) has an
  // empty module string; GOPATH mode has no framing.
  const auto elf = open_bytes(
      mini_elf({{".go.buildinfo", kData, inline_blob("go1.18", "no framing here"), PF_R | PF_W}}),
      "nomod");
  const auto info = read_go_buildinfo(elf);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->version, "go1.18");
  EXPECT_EQ(info->main_path, "");
  EXPECT_EQ(info->modinfo, "");
}

TEST(GoBuildInfo, FoundInTheDataSegmentWithoutSectionHeaders) {
  Bytes seg(0x40, 0);
  std::memcpy(seg.data() + 0x13, kMagic.data(), kMagic.size());  // unaligned: not the blob
  const Bytes blob = inline_blob("go1.20.3", kModinfo);
  seg.insert(seg.end(), blob.begin(), blob.end());
  const auto elf = open_bytes(
      mini_elf({{"", kText, Bytes(16, 0xcc), PF_R | PF_X}, {"", kData, seg, PF_R | PF_W}},
               /*section_headers=*/false),
      "sstripped");
  const auto info = read_go_buildinfo(elf);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->version, "go1.20.3");
}

TEST(GoBuildInfo, NotGoOrCorrupt) {
  EXPECT_FALSE(read_go_buildinfo(
      open_bytes(mini_elf({{".data", kData, Bytes(64, 0), PF_R | PF_W}}), "notgo")));
  // Length past the section.
  Bytes blob = inline_blob("go1.21.5", kModinfo);
  blob[32] = 0x7f;
  blob.resize(40);
  EXPECT_FALSE(read_go_buildinfo(
      open_bytes(mini_elf({{".go.buildinfo", kData, blob, PF_R | PF_W}}), "badlen")));
  // Pointers outside the file.
  Bytes ptrs = pointer_blob(kData, "go1.16", "");
  set64(&ptrs, 16, 0xdead0000);
  EXPECT_FALSE(read_go_buildinfo(
      open_bytes(mini_elf({{".go.buildinfo", kData, ptrs, PF_R | PF_W}}), "badptr")));
  // Truncated header.
  EXPECT_FALSE(read_go_buildinfo(open_bytes(
      mini_elf({{".go.buildinfo", kData, Bytes(kMagic.begin(), kMagic.end()), PF_R | PF_W}}),
      "short")));
}

// --- pclntab -----------------------------------------------------------------

struct Func {
  std::string name;
  uint64_t entry;
};

// A pclntab of `format` listing `funcs` (sorted), the last one ending at `end`.
Bytes make_pclntab(PclntabFormat format, uint64_t text_start, const std::vector<Func>& funcs,
                   uint64_t end) {
  const bool small = format == PclntabFormat::kGo118 || format == PclntabFormat::kGo120;
  const uint32_t magic = format == PclntabFormat::kGo12    ? 0xfffffffb
                         : format == PclntabFormat::kGo116 ? 0xfffffffa
                         : format == PclntabFormat::kGo118 ? 0xfffffff0
                                                           : 0xfffffff1;
  const size_t words = format == PclntabFormat::kGo12 ? 1 : small ? 8 : 7;
  Bytes t;
  put32(&t, magic);
  t.insert(t.end(), {0, 0, 1, 8});
  t.resize(8 + words * 8, 0);
  set64(&t, 8, funcs.size());
  // The functab right after the header (where go1.2 has it), then the names
  // (in the table itself for go1.2, in funcnametab otherwise), then the
  // _func records.
  const size_t field = small ? 4 : 8;
  const size_t functab = t.size();
  const size_t funcdata_base = format == PclntabFormat::kGo12 ? 0 : functab;
  t.resize(functab + (funcs.size() * 2 + 1) * field, 0);
  while (t.size() % 8) t.push_back(0);
  const size_t nametab = t.size();
  std::vector<uint32_t> nameoff;
  for (const auto& f : funcs) {
    nameoff.push_back(
        static_cast<uint32_t>(t.size() - (format == PclntabFormat::kGo12 ? 0 : nametab)));
    t.insert(t.end(), f.name.begin(), f.name.end());
    t.push_back(0);
  }
  while (t.size() % 8) t.push_back(0);
  auto put_field = [&](size_t at, uint64_t v) {
    if (small) {
      set32(&t, at, static_cast<uint32_t>(v));
    } else {
      set64(&t, at, v);
    }
  };
  for (size_t i = 0; i < funcs.size(); ++i) {
    const uint64_t entry = small ? funcs[i].entry - text_start : funcs[i].entry;
    const size_t rec = t.size();
    put_field(functab + 2 * i * field, entry);
    put_field(functab + (2 * i + 1) * field, rec - funcdata_base);
    // _func: entry, nameoff, then fields we do not read.
    t.resize(rec + field, 0);
    put_field(rec, entry);
    put32(&t, nameoff[i]);
    t.resize(t.size() + 36, 0);
    while (t.size() % 8) t.push_back(0);
  }
  put_field(functab + 2 * funcs.size() * field, small ? end - text_start : end);
  switch (format) {
    case PclntabFormat::kGo12:
      break;
    case PclntabFormat::kGo116:
      set64(&t, 8 + 2 * 8, nametab);  // funcnameOffset
      set64(&t, 8 + 6 * 8, functab);  // pclnOffset
      break;
    case PclntabFormat::kGo118:
    case PclntabFormat::kGo120:
      set64(&t, 8 + 2 * 8, text_start);
      set64(&t, 8 + 3 * 8, nametab);
      set64(&t, 8 + 7 * 8, functab);
      break;
  }
  return t;
}

const std::vector<Func> kFuncs = {
    {"runtime.main", kText + 0x100},
    {"crypto/tls.(*Conn).Write", kText + 0x200},
    {"crypto/tls.(*Conn).Read", kText + 0x400},
    {"main.main", kText + 0x480},
};

class PclntabFormats : public ::testing::TestWithParam<PclntabFormat> {};

TEST_P(PclntabFormats, FindsFunctionsByName) {
  const auto elf = open_bytes(
      mini_elf({{".text", kText, Bytes(0x1000, 0xcc), PF_R | PF_X},
                {".gopclntab", kRodata, make_pclntab(GetParam(), kText, kFuncs, kText + 0x500)}}),
      std::string("pcln-") + to_string(GetParam()));
  auto t = GoPclntab::open(elf);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->format(), GetParam());
  EXPECT_EQ(t->function_count(), kFuncs.size());
  const auto w = t->find("crypto/tls.(*Conn).Write");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->entry, kText + 0x200);
  EXPECT_EQ(w->end, kText + 0x400);
  EXPECT_STREQ(w->source, "pclntab");
  const auto last = t->find("main.main");
  ASSERT_TRUE(last);
  EXPECT_EQ(last->end, kText + 0x500);
  EXPECT_FALSE(t->find("crypto/tls.(*Conn)"));  // exact names only
  EXPECT_FALSE(t->find("crypto/tls.(*Conn).WriteX"));
  EXPECT_FALSE(t->find(""));
  // Without .symtab, find_go_function falls back to pclntab.
  const auto r = find_go_function(elf, "crypto/tls.(*Conn).Read");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->entry, kText + 0x400);
  EXPECT_EQ(r->end, kText + 0x480);
}

INSTANTIATE_TEST_SUITE_P(All, PclntabFormats,
                         ::testing::Values(PclntabFormat::kGo12, PclntabFormat::kGo116,
                                           PclntabFormat::kGo118, PclntabFormat::kGo120),
                         [](const auto& info) {
                           std::string s = to_string(info.param);
                           s.erase(std::remove(s.begin(), s.end(), '.'), s.end());
                           return s;
                         });

TEST(GoPclntab, TextStartFromTheTextSectionWhenTheHeaderFieldIsZero) {
  // A PIE whose textStart field is left for a relocation we do not have.
  Bytes t = make_pclntab(PclntabFormat::kGo120, kText, kFuncs, kText + 0x500);
  set64(&t, 8 + 2 * 8, 0);
  const auto elf = open_bytes(mini_elf({{".text", kText, Bytes(0x1000, 0xcc), PF_R | PF_X},
                                        {".data.rel.ro.gopclntab", kRodata, t}}),
                              "pie-pcln");
  auto table = GoPclntab::open(elf);
  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ(table->text_start(), kText);
  EXPECT_STREQ(table->text_start_source(), ".text");
  EXPECT_EQ(table->find("crypto/tls.(*Conn).Read")->entry, kText + 0x400);
}

TEST(GoPclntab, RejectsCorruptTables) {
  auto opens = [](Bytes t, const std::string& name) {
    const auto elf = open_bytes(mini_elf({{".gopclntab", kRodata, std::move(t)}}), name);
    return GoPclntab::open(elf).ok();
  };
  Bytes good = make_pclntab(PclntabFormat::kGo118, kText, kFuncs, kText + 0x500);
  EXPECT_TRUE(opens(good, "good"));
  Bytes magic = good;
  set32(&magic, 0, 0xfffffff7);
  EXPECT_FALSE(opens(magic, "magic"));
  Bytes nfunc = good;
  set64(&nfunc, 8, 1ull << 40);
  EXPECT_FALSE(opens(nfunc, "nfunc"));
  Bytes functab = good;
  set64(&functab, 8 + 7 * 8, good.size() - 4);
  EXPECT_FALSE(opens(functab, "functab"));
  Bytes ptrsize = good;
  ptrsize[7] = 4;
  EXPECT_FALSE(opens(ptrsize, "ptrsize"));
  EXPECT_FALSE(opens(Bytes(good.begin(), good.begin() + 40), "short"));
  EXPECT_FALSE(
      GoPclntab::open(open_bytes(mini_elf({{".text", kText, Bytes(16, 0xcc)}}), "none")).ok());
  // A name offset out of range: that function is skipped, not read past the table.
  Bytes names = good;
  uint64_t pcln;
  std::memcpy(&pcln, names.data() + size_t{8} + 7 * 8, 8);  // header word 7: pclnOffset
  uint32_t funcoff;
  std::memcpy(&funcoff, names.data() + pcln + 4, 4);
  set32(&names, pcln + funcoff + 4, 0x7fffffff);
  const auto elf = open_bytes(mini_elf({{".gopclntab", kRodata, names}}), "names");
  auto t = GoPclntab::open(elf);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->find("runtime.main"));
  EXPECT_FALSE(t->function(0));
  EXPECT_TRUE(t->find("main.main"));
  EXPECT_FALSE(t->function(kFuncs.size()));
}

// --- Prologue and body ------------------------------------------------------

// go1.19's (*Conn).Write shape: the stack check with %r12, two returns,
// the morestack trampoline after the body.
//  0 lea -0x68(%rsp),%r12     5 cmp 0x10(%r14),%r12   9 jbe 31
// 11 sub $0x18,%rsp          15 test %rax,%rax       18 je 26
// 20 add $0x18,%rsp          24 ret                  25 nop
// 26 add $0x18,%rsp          30 ret
// 31 mov %rax,0x8(%rsp)      36 call morestack       41 mov 0x8(%rsp),%rax
// 46 jmp 0                   48 int3...
Bytes go_function(uint64_t entry) {
  Bytes b = {0x4c, 0x8d, 0x64, 0x24, 0x98, 0x4d, 0x3b, 0x66, 0x10, 0x76, 0x14, 0x48, 0x83,
             0xec, 0x18, 0x48, 0x85, 0xc0, 0x74, 0x06, 0x48, 0x83, 0xc4, 0x18, 0xc3, 0x90,
             0x48, 0x83, 0xc4, 0x18, 0xc3, 0x48, 0x89, 0x44, 0x24, 0x08, 0xe8};
  put32(&b, static_cast<uint32_t>((entry - 0x1000) - (entry + 41)));
  b.insert(b.end(), {0x48, 0x8b, 0x44, 0x24, 0x08, 0xeb, 0xd0});
  b.resize(64, 0xcc);
  return b;
}

TEST(GoEntrySite, TheStackCheckJbe) {
  constexpr uint64_t kEntry = 0x401200;
  const Bytes code = go_function(kEntry);
  auto site = choose_go_entry_site(code, kEntry);
  ASSERT_TRUE(site.ok()) << site.error().message;
  EXPECT_EQ(site->vaddr, kEntry + 9);
  EXPECT_EQ(site->cost, ProbeCost::kEmulated);
  EXPECT_FALSE(site->fallback);
  EXPECT_NE(site->reason.find("+9"), std::string::npos) << site->reason;
}

TEST(GoEntrySite, SmallFrameCheck) {
  // (*Conn).Read: cmp 0x10(%r14),%rsp; jbe.
  const Bytes code = {0x49, 0x3b, 0x66, 0x10, 0x0f, 0x86, 0x10, 0, 0, 0, 0x48, 0x83, 0xec, 0x68};
  auto site = choose_go_entry_site(code, 0x1000);
  ASSERT_TRUE(site.ok());
  EXPECT_EQ(site->vaddr, 0x1004u);
  EXPECT_FALSE(site->fallback);
}

TEST(GoEntrySite, FallsBackWhenAnArgumentIsWrittenFirst) {
  struct Case {
    const char* what;
    Bytes code;
    const char* reg;
  };
  const Case cases[] = {
      // go < 1.17: mov %fs:-8,%rcx; cmp 0x10(%rcx),%rsp; jbe
      {"stack ABI",
       {0x64, 0x48, 0x8b, 0x0c, 0x25, 0xf8, 0xff, 0xff, 0xff, 0x48, 0x3b, 0x61, 0x10, 0x76, 0x10},
       "%rcx"},
      {"mov to rbx", {0x48, 0x89, 0xc3, 0x49, 0x3b, 0x66, 0x10, 0x76, 0x10}, "%rbx"},
      {"sub rsp (nosplit)", {0x48, 0x83, 0xec, 0x18, 0x49, 0x3b, 0x66, 0x10, 0x76, 0x10}, "%rsp"},
      {"xor r14", {0x4d, 0x31, 0xf6, 0x76, 0x10}, "%r14"},
      {"32-bit write to edi", {0x31, 0xff, 0x76, 0x10}, "%rdi"},
  };
  for (const Case& c : cases) {
    auto site = choose_go_entry_site(c.code, 0x1000);
    ASSERT_TRUE(site.ok()) << c.what;
    EXPECT_EQ(site->vaddr, 0x1000u) << c.what;
    EXPECT_TRUE(site->fallback) << c.what;
    EXPECT_EQ(site->cost, ProbeCost::kSingleStepped) << c.what;
    EXPECT_NE(site->reason.find(c.reg), std::string::npos) << c.what << ": " << site->reason;
  }
  // A control transfer that is not emulated (ret) ends the search too.
  auto ret = choose_go_entry_site(Bytes{0x48, 0x85, 0xc0, 0xc3}, 0x1000);
  ASSERT_TRUE(ret.ok());
  EXPECT_TRUE(ret->fallback);
}

TEST(GoEntrySite, EmulatedFirstInstructionOrAfterEndbr) {
  auto push = choose_go_entry_site(Bytes{0x55, 0x48, 0x89, 0xe5}, 0x1000);
  ASSERT_TRUE(push.ok());
  EXPECT_EQ(push->vaddr, 0x1000u);
  EXPECT_FALSE(push->fallback);
  // endbr64 writes nothing: the push after it is the site.
  auto endbr = choose_go_entry_site(Bytes{0xf3, 0x0f, 0x1e, 0xfa, 0x55}, 0x1000);
  ASSERT_TRUE(endbr.ok());
  EXPECT_EQ(endbr->vaddr, 0x1004u);
  EXPECT_FALSE(choose_go_entry_site(Bytes{}, 0x1000).ok());
}

TEST(GoBodyScan, RetsWithoutTheMorestackTrampoline) {
  constexpr uint64_t kEntry = 0x401200;
  auto scan = scan_go_function(go_function(kEntry), kEntry);
  ASSERT_TRUE(scan.ok()) << scan.error().message;
  EXPECT_EQ(scan->rets, (std::vector<uint64_t>{kEntry + 24, kEntry + 30}));
  ASSERT_TRUE(scan->morestack);
  EXPECT_EQ(*scan->morestack, kEntry + 31);
}

TEST(GoBodyScan, RetInsideWhatLooksLikeATrampolineKeepsIt) {
  constexpr uint64_t kEntry = 0x401200;
  Bytes code = go_function(kEntry);
  code[46] = 0xc3;  // the jmp back to the entry becomes a ret: not a trampoline
  code[47] = 0x90;
  auto scan = scan_go_function(code, kEntry);
  ASSERT_TRUE(scan.ok());
  EXPECT_FALSE(scan->morestack);
  EXPECT_EQ(scan->rets, (std::vector<uint64_t>{kEntry + 24, kEntry + 30, kEntry + 46}));
}

TEST(GoBodyScan, UndecodableBytesAreAnError) {
  EXPECT_FALSE(scan_go_function(Bytes{0x55, 0x06, 0xc3}, 0x1000).ok());  // 06: push %es, invalid
}

// --- Offsets table and the whole plan ----------------------------------------

GoBuildInfo build_of(const std::string& version) {
  GoBuildInfo info;
  info.version = version;
  info.parsed = parse_go_version(version);
  return info;
}

TEST(GoOffsetsTable, CoversGo117To123) {
  for (const char* v : {"go1.17", "go1.17.13", "go1.18.10", "go1.19.8", "go1.20.14", "go1.21rc2",
                        "go1.22.12", "go1.23.4"}) {
    auto o = go_offsets(build_of(v));
    ASSERT_TRUE(o.ok()) << v << ": " << o.error().message;
    EXPECT_EQ(o->tls_conn_conn, 0u) << v;
    EXPECT_EQ(o->iface_data, 8u) << v;
    EXPECT_EQ(o->conn_fd, 0u) << v;
    EXPECT_EQ(o->netfd_pfd, 0u) << v;
    EXPECT_EQ(o->pfd_sysfd, 16u) << v;
    EXPECT_EQ(o->sysfd_size, 8u) << v;
    EXPECT_FALSE(o->verified.empty());
  }
}

TEST(GoOffsetsTable, RefusesWithAReason) {
  auto old = go_offsets(build_of("go1.16.15"));
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.error().message.find("register ABI"), std::string::npos) << old.error().message;
  auto ancient = go_offsets(build_of("go1.9.7"));
  EXPECT_FALSE(ancient.ok());
  auto newer = go_offsets(build_of("go1.24.1"));
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.error().message.find("newer than the offsets table"), std::string::npos);
  EXPECT_FALSE(go_offsets(build_of("weird")).ok());
  EXPECT_FALSE(go_offsets(build_of("go2.0")).ok());
}

// A stripped go1.20 executable made by hand: build info, pclntab, code.
Bytes synthetic_go_binary(const std::string& version) {
  constexpr uint64_t kWrite = kText + 0x200, kRead = kText + 0x400;
  Bytes text(0x1000, 0xcc);
  const Bytes w = go_function(kWrite), r = go_function(kRead);
  std::copy(w.begin(), w.end(), text.begin() + 0x200);
  std::copy(r.begin(), r.end(), text.begin() + 0x400);
  return mini_elf(
      {{".text", kText, text, PF_R | PF_X},
       {".gopclntab", kRodata, make_pclntab(PclntabFormat::kGo120, kText, kFuncs, kText + 0x500)},
       {".go.buildinfo", kData, inline_blob(version, kModinfo), PF_R | PF_W}});
}

TEST(GoTlsPlan, SyntheticStrippedBinary) {
  const auto elf = open_bytes(synthetic_go_binary("go1.20.14"), "synthetic-go");
  auto plan = plan_go_tls_probes(elf);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->build.version, "go1.20.14");
  ASSERT_EQ(plan->functions.size(), 2u);
  const GoFunctionPlan& w = plan->functions[0];
  EXPECT_EQ(w.role, "write");
  EXPECT_EQ(w.function.name, kGoTlsWrite);
  EXPECT_STREQ(w.function.source, "pclntab");
  EXPECT_EQ(w.entry.vaddr, kText + 0x209);
  EXPECT_EQ(w.entry.file_offset, kText + 0x209 - kBase);
  EXPECT_EQ(w.entry.cost, ProbeCost::kEmulated);
  EXPECT_FALSE(w.entry_fallback);
  ASSERT_EQ(w.rets.size(), 2u);
  EXPECT_EQ(w.rets[0].vaddr, kText + 0x200 + 24);
  EXPECT_EQ(w.rets[0].cost, ProbeCost::kSingleStepped);
  EXPECT_EQ(w.rets[0].insn, "ret");
  EXPECT_EQ(plan->functions[1].function.name, kGoTlsRead);
  EXPECT_EQ(plan->functions[1].entry.vaddr, kText + 0x409);
  EXPECT_FALSE(plan->tcp_conn_itab);
  const std::string d = plan->describe();
  EXPECT_NE(d.find("Go go1.20.14 (example.com/app/cmd/srv)"), std::string::npos) << d;
  EXPECT_NE(d.find("entry +9 (jbe, emulated), 2 RETs"), std::string::npos) << d;
}

TEST(GoTlsPlan, RefusesOldGoAndNonGo) {
  auto old = plan_go_tls_probes(open_bytes(synthetic_go_binary("go1.16.15"), "old-go"));
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.error().message.find("register ABI"), std::string::npos);
  auto notgo = plan_go_tls_probes(
      open_bytes(mini_elf({{".text", kText, Bytes(16, 0xcc), PF_R | PF_X}}), "not-go"));
  ASSERT_FALSE(notgo.ok());
  EXPECT_NE(notgo.error().message.find("not a Go executable"), std::string::npos);
}

TEST(GoTlsPlan, CorruptBinariesNeverCrash) {
  // Random bytes over the build info, pclntab and code: any answer but a crash
  // (run with -DQTAP_SANITIZE=ON to catch reads out of bounds).
  const Bytes good = synthetic_go_binary("go1.21.0");
  std::mt19937 rng(7);
  std::uniform_int_distribution<size_t> where(0x1000, good.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  size_t planned = 0;
  for (int round = 0; round < 300; ++round) {
    Bytes b = good;
    for (int i = 0; i < 1 + round % 16; ++i) b[where(rng)] = static_cast<uint8_t>(byte(rng));
    auto elf = ElfFile::open([&] {
      static testing::TempDir dir;
      const std::string path = dir.file("corrupt");
      testing::write_bytes(path, b);
      return path;
    }());
    if (!elf) continue;
    if (plan_go_tls_probes(*elf).ok()) ++planned;
    (void)read_go_buildinfo(*elf);
    if (auto t = GoPclntab::open(*elf); t.ok()) {
      for (uint64_t i = 0; i <= t->function_count(); ++i) (void)t->function(i);
    }
  }
  EXPECT_GT(planned, 0u);  // most corruptions hit bytes nobody reads
}

}  // namespace
}  // namespace qtap::tls
