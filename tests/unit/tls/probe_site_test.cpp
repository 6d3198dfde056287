#include "tls/probe_site.h"

#include <gtest/gtest.h>

#include <vector>

#include "tls/elf_file.h"
#include "unit/tls/test_util.h"

namespace qtap::tls {
namespace {

constexpr uint64_t kAt = 0x1000;

struct Case {
  const char* name;
  std::vector<uint8_t> bytes;
  InsnKind kind;
  ProbeCost cost;
  uint8_t length;
  std::optional<uint64_t> target;
  const char* text;
};

// The instruction kinds of the measured table in ARCHITECTURE.md ("Probe
// placement facts"), plus the prefix cases the kernel treats specially.
const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      // emulated
      {"push rbp", {0x55}, InsnKind::kPush, ProbeCost::kEmulated, 1, {}, "push %rbp"},
      {"push rbx", {0x53}, InsnKind::kPush, ProbeCost::kEmulated, 1, {}, "push %rbx"},
      {"push r14", {0x41, 0x56}, InsnKind::kPush, ProbeCost::kEmulated, 2, {}, "push %r14"},
      {"push r15", {0x41, 0x57}, InsnKind::kPush, ProbeCost::kEmulated, 2, {}, "push %r15"},
      {"nop", {0x90}, InsnKind::kNop, ProbeCost::kEmulated, 1, {}, "nop"},
      {"xchg ax,ax", {0x66, 0x90}, InsnKind::kNop, ProbeCost::kEmulated, 2, {}, nullptr},
      {"nopl 5",
       {0x0f, 0x1f, 0x44, 0x00, 0x00},
       InsnKind::kNop,
       ProbeCost::kEmulated,
       5,
       {},
       "nop %eax, (%rax,%rax,1)"},
      {"nopl 3",
       {0x0f, 0x1f, 0x00},
       InsnKind::kNop,
       ProbeCost::kEmulated,
       3,
       {},
       "nop %eax, (%rax)"},
      {"nopw 6",
       {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
       InsnKind::kNop,
       ProbeCost::kEmulated,
       6,
       {},
       nullptr},
      {"jmp rel8",
       {0xeb, 0x10},
       InsnKind::kJmpRel,
       ProbeCost::kEmulated,
       2,
       kAt + 2 + 0x10,
       "jmp 0x0000000000001012"},
      {"jmp rel8 back", {0xeb, 0xfe}, InsnKind::kJmpRel, ProbeCost::kEmulated, 2, kAt, nullptr},
      {"jmp rel32",
       {0xe9, 0x00, 0x01, 0x00, 0x00},
       InsnKind::kJmpRel,
       ProbeCost::kEmulated,
       5,
       kAt + 5 + 0x100,
       nullptr},
      {"je rel8", {0x74, 0x05}, InsnKind::kJccRel, ProbeCost::kEmulated, 2, kAt + 7, nullptr},
      {"jbe rel8", {0x76, 0x20}, InsnKind::kJccRel, ProbeCost::kEmulated, 2, kAt + 0x22, nullptr},
      {"je rel32",
       {0x0f, 0x84, 0x10, 0x00, 0x00, 0x00},
       InsnKind::kJccRel,
       ProbeCost::kEmulated,
       6,
       kAt + 0x16,
       nullptr},
      {"jbe rel32 back",
       {0x0f, 0x86, 0xf0, 0xff, 0xff, 0xff},
       InsnKind::kJccRel,
       ProbeCost::kEmulated,
       6,
       kAt + 6 - 0x10,
       nullptr},
      {"call rel32",
       {0xe8, 0xfb, 0xff, 0xff, 0xff},
       InsnKind::kCallRel,
       ProbeCost::kEmulated,
       5,
       kAt,
       "call 0x0000000000001000"},
      // single-stepped
      {"sub rsp",
       {0x48, 0x83, 0xec, 0x18},
       InsnKind::kOther,
       ProbeCost::kSingleStepped,
       4,
       {},
       "sub $0x18, %rsp"},
      {"endbr64",
       {0xf3, 0x0f, 0x1e, 0xfa},
       InsnKind::kEndbr,
       ProbeCost::kSingleStepped,
       4,
       {},
       "endbr64"},
      {"mov rsp,rbp",
       {0x48, 0x89, 0xe5},
       InsnKind::kOther,
       ProbeCost::kSingleStepped,
       3,
       {},
       "mov %rsp, %rbp"},
      {"mov (rdi),rax",
       {0x48, 0x8b, 0x07},
       InsnKind::kOther,
       ProbeCost::kSingleStepped,
       3,
       {},
       nullptr},
      {"add rsp",
       {0x48, 0x83, 0xc4, 0x08},
       InsnKind::kOther,
       ProbeCost::kSingleStepped,
       4,
       {},
       nullptr},
      {"xor eax",
       {0x31, 0xc0},
       InsnKind::kOther,
       ProbeCost::kSingleStepped,
       2,
       {},
       "xor %eax, %eax"},
      {"lea",
       {0x48, 0x8d, 0x44, 0x24, 0x08},
       InsnKind::kOther,
       ProbeCost::kSingleStepped,
       5,
       {},
       nullptr},
      {"cmp 0x10(r14),r12",
       {0x4d, 0x3b, 0x66, 0x10},
       InsnKind::kOther,
       ProbeCost::kSingleStepped,
       4,
       {},
       nullptr},
      {"test", {0x85, 0xd2}, InsnKind::kOther, ProbeCost::kSingleStepped, 2, {}, nullptr},
      {"ret", {0xc3}, InsnKind::kRet, ProbeCost::kSingleStepped, 1, {}, "ret"},
      {"rep ret", {0xf3, 0xc3}, InsnKind::kRet, ProbeCost::kSingleStepped, 2, {}, nullptr},
      {"pop rbx", {0x5b}, InsnKind::kOther, ProbeCost::kSingleStepped, 1, {}, "pop %rbx"},
      {"pop r14", {0x41, 0x5e}, InsnKind::kOther, ProbeCost::kSingleStepped, 2, {}, nullptr},
      {"leave", {0xc9}, InsnKind::kOther, ProbeCost::kSingleStepped, 1, {}, "leave"},
      // push forms the kernel does not emulate: only 50+r alone or with REX 0x41
      {"rex.w push rbp", {0x48, 0x55}, InsnKind::kPush, ProbeCost::kSingleStepped, 2, {}, nullptr},
      {"pushw", {0x66, 0x55}, InsnKind::kPush, ProbeCost::kSingleStepped, 2, {}, nullptr},
      {"push imm8", {0x6a, 0x01}, InsnKind::kOther, ProbeCost::kSingleStepped, 2, {}, nullptr},
      {"push mem", {0xff, 0x37}, InsnKind::kOther, ProbeCost::kSingleStepped, 2, {}, nullptr},
      // 41 90 is xchg %eax,%r8d, not a nop
      {"xchg r8d", {0x41, 0x90}, InsnKind::kOther, ProbeCost::kSingleStepped, 2, {}, nullptr},
      {"jmp *rax", {0xff, 0xe0}, InsnKind::kJmpIndirect, ProbeCost::kSingleStepped, 2, {}, nullptr},
      {"call *rax", {0xff, 0xd0}, InsnKind::kOther, ProbeCost::kSingleStepped, 2, {}, nullptr},
      {"ud2", {0x0f, 0x0b}, InsnKind::kTrap, ProbeCost::kSingleStepped, 2, {}, nullptr},
      // refused by the kernel
      {"notrack jmp",
       {0x3e, 0xff, 0xe0},
       InsnKind::kJmpIndirect,
       ProbeCost::kRejected,
       3,
       {},
       nullptr},
      {"cs nopw",
       {0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
       InsnKind::kNop,
       ProbeCost::kRejected,
       10,
       {},
       nullptr},
      {"lock add",
       {0xf0, 0x48, 0x83, 0x07, 0x01},
       InsnKind::kOther,
       ProbeCost::kRejected,
       5,
       {},
       nullptr},
      {"int3", {0xcc}, InsnKind::kTrap, ProbeCost::kRejected, 1, {}, nullptr},
      {"callw",
       {0x66, 0xe8, 0x00, 0x00, 0x00, 0x00},
       InsnKind::kCallRel,
       ProbeCost::kRejected,
       6,
       {},
       nullptr},
  };
  return c;
}

TEST(ProbeSite, ClassifiesEachInstructionKind) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    auto insn = decode_instruction(c.bytes, kAt);
    ASSERT_TRUE(insn) << insn.error().message;
    EXPECT_EQ(insn->vaddr, kAt);
    EXPECT_EQ(insn->length, c.length);
    EXPECT_EQ(insn->kind, c.kind);
    EXPECT_EQ(insn->cost, c.cost) << to_string(insn->cost);
    EXPECT_EQ(kernel_emulates(*insn), c.cost == ProbeCost::kEmulated);
    if (c.target) {
      EXPECT_EQ(insn->target, c.target);
    }
    if (c.text) {
      EXPECT_EQ(insn->text, c.text);
    }
  }
}

TEST(ProbeSite, DecodesOnlyTheFirstInstruction) {
  // push %r14; push %r13 (Debian's ssl_write_internal prologue)
  const std::vector<uint8_t> code = {0x41, 0x56, 0x41, 0x55, 0x41, 0x54};
  auto insn = decode_instruction(code, 0x355a0);
  ASSERT_TRUE(insn);
  EXPECT_EQ(insn->length, 2);
  EXPECT_EQ(insn->text, "push %r14");
  auto no_text = decode_instruction(code, 0x355a0, false);
  ASSERT_TRUE(no_text);
  EXPECT_EQ(no_text->text, "");
  EXPECT_EQ(no_text->cost, ProbeCost::kEmulated);
}

TEST(ProbeSite, TruncatedOrEmptyInputIsAnError) {
  EXPECT_FALSE(decode_instruction(std::vector<uint8_t>{}, kAt));
  EXPECT_FALSE(decode_instruction(std::vector<uint8_t>{0xe8, 0x00}, kAt));  // call rel32 cut short
  EXPECT_FALSE(decode_instruction(std::vector<uint8_t>{0x0f, 0x1f}, kAt));  // nopl without ModRM
}

TEST(ProbeSite, OutsideTheFileIsAnError) {
  QTAP_REQUIRE_FILE(testing::kLibssl);
  auto elf = ElfFile::open(testing::kLibssl);
  ASSERT_TRUE(elf);
  EXPECT_FALSE(decode_instruction(*elf, 0xffffffff00000000ull));
}

// Zydis against objdump on the first instruction of every libssl export: the
// kinds that matter for placement agree with binutils' reading.
TEST(ProbeSite, FirstInstructionsOfLibsslAgreeWithObjdump) {
  QTAP_REQUIRE_BINUTILS();
  QTAP_REQUIRE_FILE(testing::kLibssl);
  auto elf = ElfFile::open(testing::kLibssl);
  ASSERT_TRUE(elf);
  for (const char* name : {"SSL_write", "SSL_read", "SSL_write_ex", "SSL_read_ex", "SSL_shutdown",
                           "SSL_get_error", "SSL_new", "SSL_connect"}) {
    SCOPED_TRACE(name);
    const uint64_t vaddr = elf->symbol(name)->value;
    auto insn = decode_instruction(*elf, vaddr);
    ASSERT_TRUE(insn);
    const auto od = testing::objdump(testing::kLibssl, vaddr, vaddr + 16);
    ASSERT_FALSE(od.empty());
    ASSERT_EQ(od[0].vaddr, vaddr);
    const std::string mnemonic = testing::words(od[0].text)[0];
    EXPECT_EQ(insn->text.substr(0, insn->text.find(' ')), mnemonic);
    EXPECT_EQ(od.size() > 1 ? od[1].vaddr - od[0].vaddr : insn->length, insn->length);
    EXPECT_EQ(kernel_emulates(*insn), mnemonic == "push" || mnemonic == "nop" ||
                                          mnemonic == "nopl" || mnemonic == "jmp" ||
                                          mnemonic == "call");
  }
}

}  // namespace
}  // namespace qtap::tls
