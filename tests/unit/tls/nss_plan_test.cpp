// NSS/NSPR placement on Debian's libnspr4.so and libssl3.so: checked against
// prio.h, nm and objdump, and against a live SSL socket (NSS loaded with
// dlopen, no certificate database): its method table, identity and method
// pointers are where the plan says, and the OS fd is where the layout says.
#include "tls/nss_plan.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <random>
#include <string>

#include "tls/elf_file.h"
#include "unit/tls/test_util.h"

#if __has_include(<nspr/prio.h>)
#include <nspr/prio.h>
#define QTAP_HAVE_PRIO_H 1
#endif

namespace qtap::tls {
namespace {

using testing::hex;
using testing::words;

constexpr const char* kNspr = "/usr/lib/x86_64-linux-gnu/libnspr4.so";
constexpr const char* kSsl3 = "/usr/lib/x86_64-linux-gnu/libssl3.so";

#ifdef QTAP_HAVE_PRIO_H
// The layout the BPF side uses is prio.h's (a public ABI).
static_assert(offsetof(PRFileDesc, methods) == PrFileDescLayout{}.methods);
static_assert(offsetof(PRFileDesc, secret) == PrFileDescLayout{}.secret);
static_assert(offsetof(PRFileDesc, lower) == PrFileDescLayout{}.lower);
static_assert(offsetof(PRFileDesc, higher) == PrFileDescLayout{}.higher);
static_assert(offsetof(PRFileDesc, dtor) == PrFileDescLayout{}.dtor);
static_assert(offsetof(PRFileDesc, identity) == PrFileDescLayout{}.identity);
static_assert(sizeof(PRDescIdentity) == 4);
static_assert(offsetof(PRIOMethods, read) == PrIoMethodSlots{}.read);
static_assert(offsetof(PRIOMethods, write) == PrIoMethodSlots{}.write);
static_assert(offsetof(PRIOMethods, recv) == PrIoMethodSlots{}.recv);
static_assert(offsetof(PRIOMethods, send) == PrIoMethodSlots{}.send);
static_assert(sizeof(PRIOMethods) == 0x120);
static_assert(PR_NSPR_IO_LAYER == PrFileDescLayout{}.nspr_layer_identity);
#endif

std::string squeeze(std::string s) {
  std::erase(s, ' ');
  return s;
}

TEST(NsprPlan, DebianLibnspr4) {
  QTAP_REQUIRE_FILE(kNspr);
  QTAP_REQUIRE_BINUTILS();
  auto elf = ElfFile::open(kNspr);
  ASSERT_TRUE(elf.ok()) << elf.error().message;
  auto plan = plan_nss_probes(*elf);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_EQ(plan->targets.size(), 4u);
  for (const NssTarget& t : plan->targets) {
    EXPECT_EQ(t.vaddr, testing::nm_value(kNspr, t.symbol, true)) << t.symbol;
    EXPECT_EQ(t.file_offset, testing::readelf_offset(kNspr, t.vaddr).value_or(0)) << t.symbol;
    // `mov (%rdi),%rax; jmp *slot(%rax)`
    const auto insns = testing::objdump(kNspr, t.vaddr, t.vaddr + 16);
    ASSERT_GE(insns.size(), 2u) << t.symbol;
    EXPECT_EQ(insns[0].text, "mov (%rdi),%rax");
    EXPECT_EQ(squeeze(t.first_insn), "mov(%rdi),%rax");
    EXPECT_FALSE(t.emulated);
    EXPECT_EQ(insns[1].text, fmt::format("jmp *{:#x}(%rax)", t.method_slot)) << t.symbol;
  }
  // PR_FileDesc2NativeHandle: `mov 0x8(%rax),%rax; mov 0x1c(%rax),%eax`.
  const auto native = testing::nm_value(kNspr, "PR_FileDesc2NativeHandle", true);
  ASSERT_TRUE(native);
  const auto insns = testing::objdump(kNspr, *native, *native + 0x28);
  std::string expected = fmt::format("mov {:#x}(%rax),%eax", plan->layout.osfd);
  bool found = false;
  for (size_t i = 1; i < insns.size(); ++i) {
    if (insns[i].text == expected && insns[i - 1].text == "mov 0x8(%rax),%rax") found = true;
  }
  EXPECT_TRUE(found) << expected;
  EXPECT_EQ(plan->layout.osfd,
            0x1cu);  // Linux x86-64: state, nonblocking, inheritable, next, lockCount
}

TEST(NssSslPlan, DebianLibssl3PerObjdump) {
  QTAP_REQUIRE_FILE(kSsl3);
  QTAP_REQUIRE_BINUTILS();
  auto elf = ElfFile::open(kSsl3);
  ASSERT_TRUE(elf.ok()) << elf.error().message;
  auto plan = plan_nss_ssl_probes(*elf);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  // ssl_InitIOLayer: `call PR_GetUniqueIdentity@plt; mov %eax,X(%rip) # <layer id>`,
  // and `movl $0x4,Y(%rip) # <methods>`.
  const auto init = testing::objdump(kSsl3, plan->init_function, plan->init_function + 0x400);
  bool identity_store = false, layered_store = false;
  for (size_t i = 0; i + 1 < init.size(); ++i) {
    const auto& t = init[i].text;
    const auto& next = init[i + 1].text;
    if (t.find("<PR_GetUniqueIdentity@plt>") != std::string::npos &&
        next.starts_with("mov %eax,") &&
        next.find(fmt::format("# {:x}", plan->layer_id_vaddr)) != std::string::npos) {
      identity_store = true;
    }
    if (t.starts_with("movl $0x4,") &&
        t.find(fmt::format("# {:x}", plan->methods_vaddr)) != std::string::npos) {
      layered_store = true;
    }
  }
  EXPECT_TRUE(identity_store) << fmt::format("{:#x}", plan->layer_id_vaddr);
  EXPECT_TRUE(layered_store) << fmt::format("{:#x}", plan->methods_vaddr);
  // Each method: pushes, then the inlined ssl_GetPrivate reading ssl_layer_id.
  ASSERT_EQ(plan->targets.size(), 4u) << plan->describe();
  for (const NssTarget& t : plan->targets) {
    const auto insns = testing::objdump(kSsl3, t.vaddr, t.vaddr + 0x20);
    ASSERT_FALSE(insns.empty());
    EXPECT_TRUE(insns[0].text.starts_with("push ")) << t.symbol;
    EXPECT_EQ(squeeze(insns[0].text), squeeze(t.first_insn));
    EXPECT_TRUE(t.emulated) << t.symbol;
    bool reads_id = false;
    for (const auto& i : insns) {
      if (i.text.find(fmt::format("# {:x}", plan->layer_id_vaddr)) != std::string::npos)
        reads_id = true;
    }
    EXPECT_TRUE(reads_id) << t.symbol;
    EXPECT_EQ(t.file_offset, testing::readelf_offset(kSsl3, t.vaddr).value_or(0));
  }
}

// NSS's C API, looked up at run time (the test binary does not link NSS).
struct Nss {
  void* nspr = nullptr;
  void* nss = nullptr;
  void* ssl = nullptr;
  int (*NSS_NoDB_Init)(const char*) = nullptr;
  int (*NSS_Shutdown)() = nullptr;
  void* (*PR_NewTCPSocket)() = nullptr;
  int (*PR_Close)(void*) = nullptr;
  int (*PR_FileDesc2NativeHandle)(void*) = nullptr;
  void* (*SSL_ImportFD)(void*, void*) = nullptr;

  template <typename F>
  static void sym(void* lib, const char* name, F* out) {
    *out = reinterpret_cast<F>(dlsym(lib, name));
  }
  bool load() {
    nspr = dlopen("libnspr4.so", RTLD_NOW | RTLD_GLOBAL);
    nss = dlopen("libnss3.so", RTLD_NOW | RTLD_GLOBAL);
    ssl = dlopen("libssl3.so", RTLD_NOW | RTLD_GLOBAL);
    if (!nspr || !nss || !ssl) return false;
    sym(nss, "NSS_NoDB_Init", &NSS_NoDB_Init);
    sym(nss, "NSS_Shutdown", &NSS_Shutdown);
    sym(nspr, "PR_NewTCPSocket", &PR_NewTCPSocket);
    sym(nspr, "PR_Close", &PR_Close);
    sym(nspr, "PR_FileDesc2NativeHandle", &PR_FileDesc2NativeHandle);
    sym(ssl, "SSL_ImportFD", &SSL_ImportFD);
    return NSS_NoDB_Init && NSS_Shutdown && PR_NewTCPSocket && PR_Close &&
           PR_FileDesc2NativeHandle && SSL_ImportFD;
  }
};

template <typename T>
T field(const void* p, uint32_t offset) {
  T v;
  std::memcpy(&v, static_cast<const char*>(p) + offset, sizeof(v));
  return v;
}

TEST(NssSslPlan, LiveSslSocketMatchesThePlan) {
  QTAP_REQUIRE_FILE(kSsl3);
  QTAP_REQUIRE_FILE(kNspr);
  auto ssl_elf = ElfFile::open(kSsl3);
  auto nspr_elf = ElfFile::open(kNspr);
  ASSERT_TRUE(ssl_elf.ok() && nspr_elf.ok());
  auto plan = plan_nss_ssl_probes(*ssl_elf);
  auto nspr_plan = plan_nss_probes(*nspr_elf);
  ASSERT_TRUE(plan.ok() && nspr_plan.ok());
  const PrFileDescLayout& L = nspr_plan->layout;

  Nss nss;
  ASSERT_TRUE(nss.load()) << dlerror();
  ASSERT_EQ(nss.NSS_NoDB_Init(nullptr), 0);
  void* tcp = nss.PR_NewTCPSocket();
  ASSERT_NE(tcp, nullptr);
  void* fd = nss.SSL_ImportFD(nullptr, tcp);
  ASSERT_NE(fd, nullptr);
  Dl_info info{};
  ASSERT_NE(dladdr(reinterpret_cast<void*>(nss.SSL_ImportFD), &info), 0);
  const auto base = reinterpret_cast<uint64_t>(info.dli_fbase);  // load bias of libssl3.so

  // The top layer is the SSL layer: its methods table and identity.
  const auto methods = field<uint64_t>(fd, L.methods);
  EXPECT_EQ(methods, base + plan->methods_vaddr);
  const auto identity = field<int32_t>(fd, L.identity);
  EXPECT_EQ(identity, field<int32_t>(reinterpret_cast<void*>(base), plan->layer_id_vaddr));
  EXPECT_NE(identity, L.nspr_layer_identity);
  for (const NssTarget& t : plan->targets) {
    EXPECT_EQ(field<uint64_t>(reinterpret_cast<void*>(methods), t.method_slot), base + t.vaddr)
        << t.symbol;
  }
  // Down to the OS layer, then secret->md.osfd.
  const void* layer = fd;
  int hops = 0;
  while (field<void*>(layer, L.lower) != nullptr && hops < 8) {
    layer = field<void*>(layer, L.lower);
    ++hops;
  }
  EXPECT_GE(hops, 1);
  EXPECT_EQ(field<int32_t>(layer, L.identity), L.nspr_layer_identity);
  const int osfd = field<int32_t>(field<void*>(layer, L.secret), L.osfd);
  EXPECT_EQ(osfd, nss.PR_FileDesc2NativeHandle(fd));
  EXPECT_GE(osfd, 0);
  EXPECT_NE(fcntl(osfd, F_GETFL), -1);  // a real descriptor

  nss.PR_Close(fd);
  nss.NSS_Shutdown();
}

TEST(NssSslPlan, CorruptCodeNeverCrashes) {
  // The initialisation code and the methods, overwritten with random bytes:
  // the emulator and the checks must answer (mostly with an error), never
  // crash or read out of bounds (run with -DQTAP_SANITIZE=ON).
  QTAP_REQUIRE_FILE(kSsl3);
  auto elf = ElfFile::open(kSsl3);
  ASSERT_TRUE(elf.ok());
  auto plan = plan_nss_ssl_probes(*elf);
  ASSERT_TRUE(plan.ok());
  const uint64_t start = *elf->vaddr_to_offset(plan->init_function);
  const uint64_t methods = *elf->vaddr_to_offset(plan->targets.front().vaddr);
  const auto original = testing::read_bytes(kSsl3);
  testing::TempDir dir;
  std::mt19937 rng(11);
  std::uniform_int_distribution<uint64_t> in_init(start, start + 0x200);
  std::uniform_int_distribution<uint64_t> in_methods(methods - 0x100, methods + 0x200);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 60; ++round) {
    auto b = original;
    for (int i = 0; i < 1 + round % 24; ++i) {
      b[(round % 2 ? in_init : in_methods)(rng)] = static_cast<uint8_t>(byte(rng));
    }
    testing::write_bytes(dir.file("libssl3.so"), b);
    auto corrupt = ElfFile::open(dir.file("libssl3.so"));
    ASSERT_TRUE(corrupt.ok());
    auto p = plan_nss_ssl_probes(*corrupt);
    if (p.ok()) {
      EXPECT_EQ(p->targets.size(), 4u);
    }
  }
}

}  // namespace
}  // namespace qtap::tls
