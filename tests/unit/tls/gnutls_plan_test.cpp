// GnuTLS placement: Debian's libgnutls.so.30 checked against nm, objdump and
// readelf, the session's transport fields checked in a live session, and
// hand-assembled libraries for each placement rule.
#include "tls/gnutls_plan.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "tls/elf_file.h"
#include "unit/tls/test_util.h"
#include "unit/tls/tiny_elf.h"

namespace qtap::tls {
namespace {

using testing::Fn;
using testing::hex;
using testing::slot_vaddr;
using testing::words;

constexpr const char* kGnutls = "/usr/lib/x86_64-linux-gnu/libgnutls.so.30";

const GnuTlsTarget* find_target(const GnuTlsPlan& plan, const std::string& name) {
  for (const auto& t : plan.targets) {
    if (t.function.name == name) return &t;
  }
  return nullptr;
}

std::vector<testing::ObjdumpInsn> objdump_function(const std::string& file, const std::string& name,
                                                   uint64_t len) {
  const auto v = testing::nm_value(file, name, /*dynamic=*/true);
  EXPECT_TRUE(v) << name;
  return v ? testing::objdump(file, *v, *v + len) : std::vector<testing::ObjdumpInsn>{};
}

// objdump prints "push   %r15", Zydis "push %r15".
std::string first_insn(const std::string& file, uint64_t vaddr) {
  const auto insns = testing::objdump(file, vaddr, vaddr + 16);
  return insns.empty() ? "" : insns.front().text;
}
std::string squeeze(std::string s) {
  std::erase(s, ' ');
  return s;
}

TEST(GnuTlsPlan, DebianLibgnutls) {
  QTAP_REQUIRE_FILE(kGnutls);
  QTAP_REQUIRE_BINUTILS();
  auto elf = ElfFile::open(kGnutls);
  ASSERT_TRUE(elf.ok()) << elf.error().message;
  auto plan = plan_gnutls_probes(*elf);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_TRUE(plan->version.starts_with("3.")) << plan->version;

  // Write: gnutls_record_send is `xor; xor; jmp gnutls_record_send2@plt`.
  const auto send = objdump_function(kGnutls, "gnutls_record_send", 16);
  bool tail_calls_send2 = false;
  for (const auto& i : send) {
    if (i.text.starts_with("jmp") && i.text.find("<gnutls_record_send2@plt>") != std::string::npos)
      tail_calls_send2 = true;
  }
  EXPECT_TRUE(tail_calls_send2);
  const auto* send2 = find_target(*plan, "gnutls_record_send2");
  ASSERT_NE(send2, nullptr) << plan->describe();
  EXPECT_EQ(send2->role, "write");
  EXPECT_EQ(send2->function.vaddr, testing::nm_value(kGnutls, "gnutls_record_send2", true));
  EXPECT_TRUE(send2->function.emulated);
  EXPECT_EQ(squeeze(send2->function.first_insn),
            squeeze(first_insn(kGnutls, send2->function.vaddr)));
  EXPECT_EQ(find_target(*plan, "gnutls_record_send"), nullptr);  // captured through send2
  EXPECT_EQ(plan->write_reason, "gnutls_record_send reaches gnutls_record_send2");

  // Read: gnutls_record_recv_seq is `...; mov $0x17,%esi; jmp <_gnutls_recv_int>`,
  // and gnutls_record_recv jumps there too.
  const auto seq = objdump_function(kGnutls, "gnutls_record_recv_seq", 0x1a);
  ASSERT_GE(seq.size(), 2u);
  EXPECT_EQ(seq[seq.size() - 2].text, "mov $0x17,%esi");
  ASSERT_TRUE(seq.back().text.starts_with("jmp "));
  const uint64_t worker = hex(words(seq.back().text).at(1));
  bool recv_jumps = false;
  for (const auto& i : objdump_function(kGnutls, "gnutls_record_recv", 0xa0)) {
    if (i.text.starts_with("jmp ") && hex(words(i.text).at(1)) == worker) recv_jumps = true;
  }
  EXPECT_TRUE(recv_jumps);
  const auto* recv_int = find_target(*plan, "_gnutls_recv_int");
  ASSERT_NE(recv_int, nullptr) << plan->describe();
  EXPECT_EQ(recv_int->role, "read");
  EXPECT_EQ(recv_int->style, GnuTlsArgStyle::kRecvInt);
  EXPECT_EQ(recv_int->function.vaddr, worker);
  EXPECT_TRUE(recv_int->function.emulated);
  EXPECT_EQ(squeeze(recv_int->function.first_insn), squeeze(first_insn(kGnutls, worker)));
  EXPECT_EQ(find_target(*plan, "gnutls_record_recv"), nullptr);

  for (const auto& t : plan->targets) {
    EXPECT_EQ(t.function.file_offset,
              testing::readelf_offset(kGnutls, t.function.vaddr).value_or(0))
        << t.function.name;
  }
}

TEST(GnuTlsPlan, TransportFieldsPerObjdump) {
  QTAP_REQUIRE_FILE(kGnutls);
  QTAP_REQUIRE_BINUTILS();
  auto elf = ElfFile::open(kGnutls);
  auto plan = plan_gnutls_probes(*elf);
  ASSERT_TRUE(plan.ok());
  // gnutls_transport_get_ptr2: mov R(%rdi),%rax; mov %rax,(%rsi); mov S(%rdi),%rax; ...
  std::vector<uint64_t> loads;
  for (const auto& i : objdump_function(kGnutls, "gnutls_transport_get_ptr2", 0x15)) {
    if (i.text.starts_with("mov 0x") && i.text.ends_with("(%rdi),%rax")) {
      loads.push_back(hex(i.text.substr(4, i.text.find('(') - 4)));
    }
  }
  ASSERT_EQ(loads.size(), 2u);
  EXPECT_EQ(plan->transport_recv_offset, loads[0]);
  EXPECT_EQ(plan->transport_send_offset, loads[1]);
  std::vector<std::string> names;
  for (const auto& f : plan->transport) {
    names.push_back(f.name);
    EXPECT_EQ(f.vaddr, testing::nm_value(kGnutls, f.name, true)) << f.name;
  }
  for (const char* n : {"gnutls_transport_get_int", "gnutls_transport_set_int2",
                        "gnutls_transport_set_ptr", "gnutls_transport_set_ptr2"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  }
  ASSERT_TRUE(plan->deinit);
  EXPECT_EQ(plan->deinit->vaddr, testing::nm_value(kGnutls, "gnutls_deinit", true));
}

TEST(GnuTlsPlan, TransportFieldsInALiveSession) {
  QTAP_REQUIRE_FILE(kGnutls);
  auto elf = ElfFile::open(kGnutls);
  auto plan = plan_gnutls_probes(*elf);
  ASSERT_TRUE(plan.ok());
  ASSERT_TRUE(plan->transport_recv_offset && plan->transport_send_offset);
  void* lib = dlopen(kGnutls, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  using Init = int (*)(void**, unsigned);
  using SetInt2 = void (*)(void*, int, int);
  using Deinit = void (*)(void*);
  auto init = reinterpret_cast<Init>(dlsym(lib, "gnutls_init"));
  auto set_int2 = reinterpret_cast<SetInt2>(dlsym(lib, "gnutls_transport_set_int2"));
  auto deinit = reinterpret_cast<Deinit>(dlsym(lib, "gnutls_deinit"));
  ASSERT_TRUE(init && set_int2 && deinit);
  void* session = nullptr;
  ASSERT_EQ(init(&session, 2 /* GNUTLS_CLIENT */), 0);
  set_int2(session, 41, 43);  // recv fd, send fd
  int64_t recv_ptr, send_ptr;
  std::memcpy(&recv_ptr, static_cast<char*>(session) + *plan->transport_recv_offset, 8);
  std::memcpy(&send_ptr, static_cast<char*>(session) + *plan->transport_send_offset, 8);
  EXPECT_EQ(recv_ptr, 41);
  EXPECT_EQ(send_ptr, 43);
  deinit(session);
}

// --- Placement rules on hand-assembled libraries -----------------------------

constexpr size_t kSend = 0, kSend2 = 1, kRecv = 2, kRecvSeq = 3, kWorker = 4, kKtls = 5;

// Debian 3.7.9's shapes:
//   send:     xor %r8d,%r8d; xor %ecx,%ecx; jmp send2
//   send2:    push %r15; ... ret
//   recv:     sub $8,%rsp; mov %rdx,%rcx; [test %rdi,%rdi; je L;] mov %rsi,%rdx;
//             mov $0x17,%esi; add $8,%rsp; jmp worker  [L: mov %rsi,%rdx; mov $0x17,%esi; call
//             ktls]
//   recv_seq: mov %rcx,%r8; mov %rdx,%rcx; mov %rsi,%rdx; mov $0x17,%esi; jmp worker
struct Shape {
  bool has_send2 = true;
  std::vector<uint8_t> worker_entry = {0x41, 0x57};  // push %r15
  bool ktls_branch = false;
  bool data_in_r8 = false;  // the 3.3 layout: (session, type, htype, packet, data, size)
};

testing::TinyElf gnutls_shape(const Shape& s) {
  testing::TinyElf t;
  Fn send(slot_vaddr(kSend));
  if (s.has_send2) {
    send.raw({0x45, 0x31, 0xc0, 0x31, 0xc9}).jmp(slot_vaddr(kSend2));
  } else {
    send.raw({0x41, 0x57}).call(slot_vaddr(kWorker + 3)).raw({0x41, 0x5f}).ret();
  }
  t.add(send, "gnutls_record_send");
  if (s.has_send2)
    t.add(Fn(slot_vaddr(kSend2)).raw({0x41, 0x57, 0x41, 0x5f}).ret(), "gnutls_record_send2");

  Fn recv(slot_vaddr(kRecv));
  recv.raw({0x48, 0x83, 0xec, 0x08, 0x48, 0x89, 0xd1});         // sub $8,%rsp; mov %rdx,%rcx
  if (s.ktls_branch) recv.raw({0x48, 0x85, 0xff, 0x74, 0x11});  // test %rdi,%rdi; je L
  if (s.data_in_r8) {
    // mov %rsi,%r8; mov %rdx,%r9; mov $0x17,%esi; xor %edx,%edx; xor %ecx,%ecx
    recv.raw({0x49, 0x89, 0xf0, 0x49, 0x89, 0xd1, 0xbe, 0x17, 0, 0, 0, 0x31, 0xd2, 0x31, 0xc9});
  } else {
    recv.raw({0x48, 0x89, 0xf2, 0xbe, 0x17, 0, 0, 0});  // mov %rsi,%rdx; mov $0x17,%esi
  }
  recv.raw({0x48, 0x83, 0xc4, 0x08}).jmp(slot_vaddr(kWorker));  // 4 + 5 bytes
  if (s.ktls_branch) {
    // L (0x11 past the je: mov, mov, add, jmp = 3 + 5 + 4 + 5): the kTLS call.
    recv.raw({0x48, 0x89, 0xf2, 0xbe, 0x17, 0, 0, 0}).call(slot_vaddr(kKtls));
    recv.raw({0x48, 0x83, 0xc4, 0x08}).ret();
  }
  t.add(recv, "gnutls_record_recv");
  Fn seq(slot_vaddr(kRecvSeq));
  seq.raw({0x49, 0x89, 0xc8, 0x48, 0x89, 0xd1});  // mov %rcx,%r8; mov %rdx,%rcx
  if (s.data_in_r8) {
    seq.raw({0x49, 0x89, 0xf0, 0x49, 0x89, 0xc9, 0xbe, 0x17, 0, 0, 0, 0x31, 0xd2, 0x31, 0xc9});
  } else {
    seq.raw({0x48, 0x89, 0xf2, 0xbe, 0x17, 0, 0, 0});
  }
  seq.jmp(slot_vaddr(kWorker));
  t.add(seq, "gnutls_record_recv_seq");
  Fn w(slot_vaddr(kWorker));
  w.bytes = s.worker_entry;
  w.raw({0x41, 0x5f}).ret();
  t.add(w);
  t.add(Fn(slot_vaddr(kKtls)).raw({0x53, 0x5b}).ret());
  t.add(Fn(slot_vaddr(kWorker + 3)).raw({0x53, 0x5b}).ret());
  return t;
}

Result<GnuTlsPlan> plan_of(const testing::TinyElf& t, const std::string& name) {
  static testing::TempDir dir;
  const std::string path = dir.file(name);
  t.write(path);
  auto elf = ElfFile::open(path);
  if (!elf) return elf.error();
  return plan_gnutls_probes(*elf);
}

std::vector<std::pair<std::string, uint64_t>> targets(const GnuTlsPlan& p) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& t : p.targets)
    out.emplace_back(t.role + ":" + t.function.name, t.function.vaddr);
  return out;
}

TEST(GnuTlsRules, DebianShapeUsesSend2AndTheReceiveWorker) {
  auto plan = plan_of(gnutls_shape({}), "debian.so");
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  using V = std::vector<std::pair<std::string, uint64_t>>;
  EXPECT_EQ(targets(*plan), (V{{"write:gnutls_record_send2", slot_vaddr(kSend2)},
                               {"read:_gnutls_recv_int", slot_vaddr(kWorker)}}));
  EXPECT_EQ(plan->targets[1].style, GnuTlsArgStyle::kRecvInt);
  EXPECT_EQ(plan->targets[0].style, GnuTlsArgStyle::kRecord);
}

TEST(GnuTlsRules, KtlsBranchIsProbedToo) {
  Shape s;
  s.ktls_branch = true;
  auto plan = plan_of(gnutls_shape(s), "ktls.so");
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_EQ(plan->targets.size(), 3u) << plan->describe();
  EXPECT_EQ(plan->targets[1].function.vaddr, slot_vaddr(kWorker));
  EXPECT_EQ(plan->targets[2].function.vaddr, slot_vaddr(kKtls));
  EXPECT_EQ(plan->targets[2].style, GnuTlsArgStyle::kRecvInt);
  EXPECT_NE(plan->read_reason.find("kTLS"), std::string::npos);
}

TEST(GnuTlsRules, OtherArgumentLayoutFallsBackToThePublicFunctions) {
  Shape s;
  s.data_in_r8 = true;
  auto plan = plan_of(gnutls_shape(s), "gnutls33.so");
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  using V = std::vector<std::pair<std::string, uint64_t>>;
  EXPECT_EQ(targets(*plan), (V{{"write:gnutls_record_send2", slot_vaddr(kSend2)},
                               {"read:gnutls_record_recv", slot_vaddr(kRecv)},
                               {"read:gnutls_record_recv_seq", slot_vaddr(kRecvSeq)}}));
  EXPECT_NE(plan->read_reason.find("(session, 23, data, size)"), std::string::npos)
      << plan->read_reason;
}

TEST(GnuTlsRules, SingleSteppedWorkerIsNotWorthIt) {
  Shape s;
  s.worker_entry = {0x48, 0x83, 0xec, 0x08};  // sub $8,%rsp
  auto plan = plan_of(gnutls_shape(s), "subworker.so");
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->targets[1].function.name, "gnutls_record_recv");
  EXPECT_NE(plan->read_reason.find("single-stepped"), std::string::npos) << plan->read_reason;
}

TEST(GnuTlsRules, WithoutSend2TheWriteEntryIsProbed) {
  Shape s;
  s.has_send2 = false;
  auto plan = plan_of(gnutls_shape(s), "old.so");
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->targets[0].function.name, "gnutls_record_send");
  EXPECT_NE(plan->write_reason.find("3.6.3"), std::string::npos);
}

TEST(GnuTlsRules, NotGnutls) {
  testing::TinyElf t;
  t.add(Fn(slot_vaddr(0)).ret(), "SSL_write");
  EXPECT_FALSE(plan_of(t, "notgnutls.so").ok());
}

TEST(GnuTlsPlan, CorruptCodeNeverCrashes) {
  // gnutls_record_recv/_recv_seq/_send overwritten with random bytes: the
  // register dataflow must answer, never crash (run with -DQTAP_SANITIZE=ON).
  QTAP_REQUIRE_FILE(kGnutls);
  auto elf = ElfFile::open(kGnutls);
  ASSERT_TRUE(elf.ok());
  std::vector<uint64_t> starts;
  for (const char* f : {"gnutls_record_recv", "gnutls_record_recv_seq", "gnutls_record_send"}) {
    starts.push_back(*elf->vaddr_to_offset(elf->symbol(f)->value));
  }
  const auto original = testing::read_bytes(kGnutls);
  testing::TempDir dir;
  std::mt19937 rng(5);
  std::uniform_int_distribution<uint64_t> off(0, 0x9f);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 100; ++round) {
    auto b = original;
    for (int i = 0; i < 1 + round % 12; ++i) {
      b[starts[round % starts.size()] + off(rng)] = static_cast<uint8_t>(byte(rng));
    }
    testing::write_bytes(dir.file("libgnutls.so.30"), b);
    auto corrupt = ElfFile::open(dir.file("libgnutls.so.30"));
    ASSERT_TRUE(corrupt.ok());
    auto p = plan_gnutls_probes(*corrupt);
    if (p.ok()) {
      EXPECT_FALSE(p->targets.empty());
    }
  }
}

}  // namespace
}  // namespace qtap::tls
