#include "tls/function_scan.h"

#include <gtest/gtest.h>

#include "tls/elf_file.h"
#include "unit/tls/test_util.h"
#include "unit/tls/tiny_elf.h"

namespace qtap::tls {
namespace {

using testing::Fn;
using testing::slot_vaddr;

// objdump's RET sites in [start, stop): "ret", "repz ret", "bnd ret".
std::vector<uint64_t> objdump_rets(const std::string& file, uint64_t start, uint64_t stop) {
  std::vector<uint64_t> out;
  for (const auto& i : testing::objdump(file, start, stop)) {
    const auto w = testing::words(i.text);
    if (!w.empty() && (w.back() == "ret" || w.back() == "retq")) out.push_back(i.vaddr);
  }
  return out;
}

TEST(FunctionScan, LibsslPublicFunctionsMatchObjdump) {
  QTAP_REQUIRE_BINUTILS();
  QTAP_REQUIRE_FILE(testing::kLibssl);
  auto elf = ElfFile::open(testing::kLibssl);
  ASSERT_TRUE(elf);
  for (const char* name :
       {"SSL_write", "SSL_write_ex", "SSL_read", "SSL_read_ex", "SSL_shutdown"}) {
    SCOPED_TRACE(name);
    const auto sym = elf->symbol(name);
    ASSERT_TRUE(sym);
    ASSERT_GT(sym->size, 0u);
    const auto expected_calls =
        testing::objdump_call_targets(testing::kLibssl, sym->value, sym->value + sym->size);
    ASSERT_FALSE(expected_calls.empty());
    EXPECT_EQ(call_targets(*elf, sym->value, 4096), expected_calls);
    EXPECT_EQ(ret_sites(*elf, sym->value, 4096),
              objdump_rets(testing::kLibssl, sym->value, sym->value + sym->size));
    auto scan = scan_function(*elf, sym->value, 4096);
    ASSERT_TRUE(scan);
    EXPECT_TRUE(scan->size_known);
    EXPECT_EQ(scan->end, sym->value + sym->size);
  }
  // Debian: SSL_write_ex is `sub $8,%rsp; call <worker>; ...`: exactly one call.
  EXPECT_EQ(call_targets(*elf, elf->symbol("SSL_write_ex")->value, 4096).size(), 1u);
}

// Every PLT call of SSL_write/SSL_read resolves to the name objdump prints
// ("call 1f6e0 <ERR_new@plt>").
TEST(FunctionScan, PltStubsResolveToTheNamesObjdumpShows) {
  QTAP_REQUIRE_BINUTILS();
  QTAP_REQUIRE_FILE(testing::kLibssl);
  auto elf = ElfFile::open(testing::kLibssl);
  ASSERT_TRUE(elf);
  size_t resolved = 0;
  for (const char* name : {"SSL_write", "SSL_read", "SSL_shutdown", "SSL_new"}) {
    const auto sym = elf->symbol(name);
    for (const auto& i : testing::objdump(testing::kLibssl, sym->value, sym->value + sym->size)) {
      const auto w = testing::words(i.text);
      if (w.size() < 3 || w[0] != "call" || !w[2].ends_with("@plt>")) continue;
      const std::string want = w[2].substr(1, w[2].size() - 6);  // <ERR_new@plt> -> ERR_new
      EXPECT_EQ(resolve_plt_stub(*elf, testing::hex(w[1])), want) << i.text;
      ++resolved;
    }
  }
  EXPECT_GT(resolved, 3u);
  EXPECT_FALSE(resolve_plt_stub(*elf, elf->symbol("SSL_write")->value));  // not a stub
}

TEST(FunctionScan, NodeSslWriteMatchesObjdump) {
  QTAP_REQUIRE_BINUTILS();
  QTAP_REQUIRE_FILE(testing::kNode);
  auto elf = ElfFile::open(testing::kNode);
  ASSERT_TRUE(elf);
  for (const char* name : {"SSL_write", "ssl_write_internal"}) {
    SCOPED_TRACE(name);
    const auto sym = elf->symbol(name);
    ASSERT_TRUE(sym);
    EXPECT_EQ(call_targets(*elf, sym->value, 4096),
              testing::objdump_call_targets(testing::kNode, sym->value, sym->value + sym->size));
    EXPECT_EQ(ret_sites(*elf, sym->value, 4096),
              objdump_rets(testing::kNode, sym->value, sym->value + sym->size));
  }
}

TEST(FunctionScan, SizeFromSymbolBoundsTheSweep) {
  testing::TempDir dir;
  testing::TinyElf t;
  // f: call g; ret; call h (dead code after ret still belongs to f: an early-return path)
  Fn f(slot_vaddr(0));
  f.call(slot_vaddr(1)).ret();
  f.call(slot_vaddr(2)).ret();
  t.add(f, "f");
  t.add(Fn(slot_vaddr(1)).ret(), "g");
  t.add(Fn(slot_vaddr(2)).ret(), "h");
  t.write(dir.file("a"));
  auto elf = ElfFile::open(dir.file("a"));
  ASSERT_TRUE(elf) << elf.error().message;
  EXPECT_EQ(call_targets(*elf, slot_vaddr(0), 4096),
            (std::vector<uint64_t>{slot_vaddr(1), slot_vaddr(2)}));
  EXPECT_EQ(ret_sites(*elf, slot_vaddr(0), 4096),
            (std::vector<uint64_t>{slot_vaddr(0) + 5, slot_vaddr(0) + 11}));
  // max_bytes caps a known size.
  EXPECT_EQ(call_targets(*elf, slot_vaddr(0), 6), (std::vector<uint64_t>{slot_vaddr(1)}));
}

TEST(FunctionScan, WithoutSizeStopsAtTheEndOfTheReachableBody) {
  testing::TempDir dir;
  testing::TinyElf t;
  // Unnamed worker at slot 0:
  //   +0  push %r14
  //   +2  je +6          -> +10 (past the first ret: the sweep must go on)
  //   +4  call slot 2
  //   +9  ret
  //   +10 call slot 3
  //   +15 jmp slot 4      (out of range - the next symbol is at slot 1 -, nothing
  //                        jumps past it: a tail call, the end)
  //   +20 call slot 5     (not swept)
  Fn w(slot_vaddr(0));
  w.raw({0x41, 0x56}).raw({0x74, 0x06}).call(slot_vaddr(2)).ret();
  w.call(slot_vaddr(3)).jmp(slot_vaddr(4)).call(slot_vaddr(5));
  t.add(w);
  t.add(Fn(slot_vaddr(1)).ret(), "next");
  t.write(dir.file("a"));
  auto elf = ElfFile::open(dir.file("a"));
  ASSERT_TRUE(elf);
  auto scan = scan_function(*elf, slot_vaddr(0), 4096);
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_FALSE(scan->size_known);
  EXPECT_EQ(scan->calls, (std::vector<uint64_t>{slot_vaddr(2), slot_vaddr(3)}));
  EXPECT_EQ(scan->rets, (std::vector<uint64_t>{slot_vaddr(0) + 9}));
  EXPECT_EQ(scan->tail_jumps, (std::vector<uint64_t>{slot_vaddr(4)}));
  EXPECT_EQ(scan->end, slot_vaddr(0) + 20);
}

TEST(FunctionScan, NotExecutableOrUndecodableIsAnError) {
  testing::TempDir dir;
  testing::TinyElf t;
  t.add(Fn(slot_vaddr(0)).raw({0x06}), "bad");  // push %es: invalid in 64-bit mode
  t.write(dir.file("a"));
  auto elf = ElfFile::open(dir.file("a"));
  ASSERT_TRUE(elf);
  EXPECT_FALSE(scan_function(*elf, slot_vaddr(0), 64));
  EXPECT_FALSE(scan_function(*elf, 0x10, 64));  // below the segment
  EXPECT_TRUE(call_targets(*elf, 0x10, 64).empty());
}

}  // namespace
}  // namespace qtap::tls
