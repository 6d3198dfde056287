#include "tls/openssl_plan.h"

#include <gtest/gtest.h>

#include <chrono>

#include "tls/elf_file.h"
#include "tls/openssl_version.h"
#include "unit/tls/test_util.h"
#include "unit/tls/tiny_elf.h"

namespace qtap::tls {
namespace {

using testing::Fn;
using testing::slot_vaddr;

// Slots of the synthetic libraries.
constexpr size_t kSslWrite = 0, kSslWriteEx = 1, kWriteWorker = 2;
constexpr size_t kSslRead = 3, kSslReadEx = 4, kReadWorker = 5;
constexpr size_t kHelper = 6, kOtherWorker = 7, kSslWriteEx2 = 8;
constexpr uint64_t off(size_t slot) { return slot_vaddr(slot) - testing::kBase; }

const std::vector<uint8_t> kPushR14 = {0x41, 0x56};
const std::vector<uint8_t> kPushR13 = {0x41, 0x55};
const std::vector<uint8_t> kEndbr64 = {0xf3, 0x0f, 0x1e, 0xfa};

// Debian-shaped OpenSSL 3: SSL_write(ssl, buf, int) = `sub $0x18,%rsp; test; js
// err; call <worker>; add; ret; err: call ERR_new@plt ...`, SSL_write_ex =
// `sub $8,%rsp; call ERR_new@plt; call <worker>; add; ret`. The PLT stub is
// a common callee too and must not be taken for the worker.
struct Shape {
  std::vector<uint8_t> write_worker_entry = kPushR14;
  std::vector<uint8_t> read_worker_entry = kPushR13;
  bool name_workers = false;         // static build keeping ssl_*_internal symbols
  bool read_ex_calls_other = false;  // SSL_read_ex calls a different unnamed function
  bool extra_common_callee = false;  // both write functions also call kOtherWorker
};

void add_public_pair(testing::TinyElf& t, const Shape& s, size_t pub, size_t ex, size_t worker,
                     const char* pub_name, const char* ex_name, bool ex_calls_other) {
  Fn p(slot_vaddr(pub));
  p.raw({0x48, 0x83, 0xec, 0x18}).raw({0x85, 0xd2}).raw({0x78, 0x0a});  // sub; test; js +10
  p.call(slot_vaddr(worker)).raw({0x48, 0x83, 0xc4, 0x18}).ret();
  p.call(testing::kPltVaddr);  // js lands here
  if (s.extra_common_callee) p.call(slot_vaddr(kOtherWorker));
  p.raw({0x48, 0x83, 0xc4, 0x18}).ret();
  t.add(p, pub_name);
  Fn e(slot_vaddr(ex));
  e.raw({0x48, 0x83, 0xec, 0x08}).call(testing::kPltVaddr);
  e.call(slot_vaddr(ex_calls_other ? kOtherWorker : worker));
  if (s.extra_common_callee) e.call(slot_vaddr(kOtherWorker));
  e.raw({0x48, 0x83, 0xc4, 0x08}).ret();
  t.add(e, ex_name);
}

testing::TinyElf debian_shape(const Shape& s) {
  testing::TinyElf t;
  t.set_plt({0xff, 0x25, 0x00, 0x10, 0x00, 0x00, 0x68, 0, 0, 0, 0, 0xe9, 0, 0, 0, 0});
  add_public_pair(t, s, kSslWrite, kSslWriteEx, kWriteWorker, "SSL_write", "SSL_write_ex", false);
  add_public_pair(t, s, kSslRead, kSslReadEx, kReadWorker, "SSL_read", "SSL_read_ex",
                  s.read_ex_calls_other);
  Fn ww(slot_vaddr(kWriteWorker));
  ww.bytes = s.write_worker_entry;
  ww.raw({0x41, 0x55}).ret();
  t.add(ww, s.name_workers ? "ssl_write_internal" : "");
  Fn rw(slot_vaddr(kReadWorker));
  rw.bytes = s.read_worker_entry;
  rw.raw({0x41, 0x54}).ret();
  t.add(rw, s.name_workers ? "ssl_read_internal" : "");
  t.add(Fn(slot_vaddr(kOtherWorker)).raw({0x53}).ret());
  return t;
}

Result<OpenSslPlan> plan_of(const testing::TinyElf& t, const std::string& name = "libssl.so.3") {
  static testing::TempDir dir;
  const std::string path = dir.file(name);
  t.write(path);
  auto elf = ElfFile::open(path);
  if (!elf) return elf.error();
  return plan_openssl_probes(*elf);
}

TEST(OpenSslPlan, DebianShapeUsesTheCommonCallTargets) {
  auto plan = plan_of(debian_shape({}));
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->placement, Placement::kInternalWorkers);
  EXPECT_EQ(plan->reason, "call target");
  ASSERT_EQ(plan->targets.size(), 2u);
  const ProbeTarget& w = plan->targets[0];
  EXPECT_EQ(w.role, "write");
  EXPECT_EQ(w.symbol, "ssl_write_internal");
  EXPECT_EQ(w.vaddr, slot_vaddr(kWriteWorker));
  EXPECT_EQ(w.file_offset, off(kWriteWorker));
  EXPECT_EQ(w.style, ArgStyle::kInternal);
  EXPECT_TRUE(w.emulated);
  EXPECT_EQ(w.first_insn, "push %r14");
  const ProbeTarget& r = plan->targets[1];
  EXPECT_EQ(r.role, "read");
  EXPECT_EQ(r.symbol, "ssl_read_internal");
  EXPECT_EQ(r.vaddr, slot_vaddr(kReadWorker));
  EXPECT_EQ(r.file_offset, off(kReadWorker));
  EXPECT_EQ(r.style, ArgStyle::kInternal);
  EXPECT_EQ(r.first_insn, "push %r13");
  EXPECT_EQ(plan->version.version, "3");
  EXPECT_EQ(plan->version.source, "file name");
  EXPECT_EQ(plan->describe(),
            "OpenSSL 3 (file name): internal workers (call target): "
            "ssl_write_internal@0x401200 (push %r14), ssl_read_internal@0x401500 (push %r13)");
}

TEST(OpenSslPlan, NamedWorkersCalledByBothPublicFunctions) {
  Shape s;
  s.name_workers = true;
  auto plan = plan_of(debian_shape(s));
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->placement, Placement::kInternalWorkers);
  EXPECT_EQ(plan->reason, "symbol");
  ASSERT_EQ(plan->targets.size(), 2u);
  EXPECT_EQ(plan->targets[0].vaddr, slot_vaddr(kWriteWorker));
  EXPECT_EQ(plan->targets[1].vaddr, slot_vaddr(kReadWorker));
}

void expect_public_four(const OpenSslPlan& plan, bool emulated, const std::string& first) {
  EXPECT_EQ(plan.placement, Placement::kPublicFunctions);
  ASSERT_EQ(plan.targets.size(), 4u);
  const struct {
    const char* role;
    const char* symbol;
    size_t slot;
    ArgStyle style;
  } want[] = {{"write", "SSL_write", kSslWrite, ArgStyle::kPublicInt},
              {"write", "SSL_write_ex", kSslWriteEx, ArgStyle::kPublicEx},
              {"read", "SSL_read", kSslRead, ArgStyle::kPublicInt},
              {"read", "SSL_read_ex", kSslReadEx, ArgStyle::kPublicEx}};
  for (size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(want[i].symbol);
    EXPECT_EQ(plan.targets[i].role, want[i].role);
    EXPECT_EQ(plan.targets[i].symbol, want[i].symbol);
    EXPECT_EQ(plan.targets[i].vaddr, slot_vaddr(want[i].slot));
    EXPECT_EQ(plan.targets[i].file_offset, off(want[i].slot));
    EXPECT_EQ(plan.targets[i].style, want[i].style);
    EXPECT_EQ(plan.targets[i].emulated, emulated);
    EXPECT_EQ(plan.targets[i].first_insn.substr(0, first.size()), first);
  }
}

TEST(OpenSslPlan, WorkerStartingWithEndbr64FallsBackToPublicFunctions) {
  Shape s;
  s.write_worker_entry = kEndbr64;
  auto plan = plan_of(debian_shape(s));
  ASSERT_TRUE(plan) << plan.error().message;
  expect_public_four(*plan, false, "sub $0x");
  EXPECT_EQ(plan->reason, "ssl_write_internal starts with `endbr64` (single-stepped)");
  EXPECT_NE(plan->describe().find("SSL_write@0x401000 (sub $0x18, %rsp, single-stepped)"),
            std::string::npos)
      << plan->describe();
}

TEST(OpenSslPlan, NeverMixesWhenOnlyOneDirectionHasAWorker) {
  Shape s;
  s.read_ex_calls_other = true;
  auto plan = plan_of(debian_shape(s));
  ASSERT_TRUE(plan) << plan.error().message;
  expect_public_four(*plan, false, "sub $0x");
  EXPECT_EQ(plan->reason, "SSL_read and SSL_read_ex share no unnamed direct callee");
}

TEST(OpenSslPlan, TwoCommonCalleesAreAmbiguous) {
  Shape s;
  s.extra_common_callee = true;
  auto plan = plan_of(debian_shape(s));
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->placement, Placement::kPublicFunctions);
  EXPECT_EQ(plan->reason, "SSL_write and SSL_write_ex share 2 unnamed direct callees (ambiguous)");
}

// node 20: ssl_write_internal is a symbol and starts with push %rbp, but it
// is inlined into SSL_write and SSL_write_ex, which call only named helpers.
TEST(OpenSslPlan, NamedWorkerNotCalledByThePublicFunctionsIsNotUsed) {
  testing::TinyElf t;
  const std::vector<std::pair<size_t, const char*>> pubs = {{kSslWrite, "SSL_write"},
                                                            {kSslWriteEx, "SSL_write_ex"},
                                                            {kSslRead, "SSL_read"},
                                                            {kSslReadEx, "SSL_read_ex"}};
  for (const auto& [slot, name] : pubs) {
    Fn f(slot_vaddr(slot));
    f.raw({0x55}).raw({0x48, 0x89, 0xe5}).call(slot_vaddr(kHelper)).raw({0x5d}).ret();
    t.add(f, name);
  }
  t.add(Fn(slot_vaddr(kHelper)).raw({0x55}).ret(), "ossl_statem_check_finish_init");
  t.add(Fn(slot_vaddr(kWriteWorker)).raw({0x55}).ret(), "ssl_write_internal");
  t.add(Fn(slot_vaddr(kReadWorker)).raw({0x55}).ret(), "ssl_read_internal");
  auto plan = plan_of(t, "node");
  ASSERT_TRUE(plan) << plan.error().message;
  expect_public_four(*plan, true, "push %rbp");
  EXPECT_EQ(plan->reason,
            "ssl_write_internal is not called by both SSL_write and SSL_write_ex (inlined into "
            "them)");
  EXPECT_EQ(plan->version.source, "");
  EXPECT_EQ(plan->describe().substr(0, 45), "OpenSSL (version unknown): public functions (");
}

TEST(OpenSslPlan, BoringSslHasOnlySslWriteAndSslRead) {
  testing::TinyElf t;
  t.add(Fn(slot_vaddr(0)).raw({0x41, 0x57}).call(slot_vaddr(2)).ret(), "SSL_write");
  t.add(Fn(slot_vaddr(1)).raw({0x41, 0x57}).call(slot_vaddr(2)).ret(), "SSL_read");
  t.add(Fn(slot_vaddr(2)).raw({0x55}).ret());
  auto plan = plan_of(t, "libssl.so");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->placement, Placement::kPublicFunctions);
  EXPECT_EQ(plan->reason, "no SSL_write_ex (OpenSSL < 1.1.1 or BoringSSL)");
  ASSERT_EQ(plan->targets.size(), 2u);
  EXPECT_EQ(plan->targets[0].symbol, "SSL_write");
  EXPECT_EQ(plan->targets[0].style, ArgStyle::kPublicInt);
  EXPECT_TRUE(plan->targets[0].emulated);
  EXPECT_EQ(plan->targets[1].symbol, "SSL_read");
  EXPECT_EQ(plan->targets[1].role, "read");
  EXPECT_EQ(plan->version.version, "");  // "libssl.so" has no soname version
}

// Newer BoringSSL: SSL_write_ex(ssl, buf, num, written) wraps SSL_write, here
// with a tail call. Probing both would capture every SSL_write_ex call twice.
TEST(OpenSslPlan, ExWrapperOfThePublicFunctionIsDropped) {
  testing::TinyElf t;
  t.add(Fn(slot_vaddr(kSslWrite)).raw({0x55}).ret(), "SSL_write");
  t.add(Fn(slot_vaddr(kSslWriteEx)).raw({0x48, 0x89, 0xcb}).jmp(slot_vaddr(kSslWrite)),
        "SSL_write_ex");
  t.add(Fn(slot_vaddr(kSslRead)).raw({0x55}).ret(), "SSL_read");
  t.add(Fn(slot_vaddr(kSslReadEx)).raw({0x53}).call(slot_vaddr(kSslRead)).raw({0x5b}).ret(),
        "SSL_read_ex");
  auto plan = plan_of(t);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->placement, Placement::kPublicFunctions);
  ASSERT_EQ(plan->targets.size(), 2u);
  EXPECT_EQ(plan->targets[0].symbol, "SSL_write");
  EXPECT_EQ(plan->targets[1].symbol, "SSL_read");
}

// OpenSSL >= 3.3: SSL_write_ex(s, b, n, w) { return SSL_write_ex2(s, b, n, 0, w); }
// compiled as a tail call through the PLT (SSL_write_ex2 is an interposable
// export), SSL_write and SSL_write_ex2 call ssl_write_internal(s, b, n,
// flags, w): the written pointer moves to the 5th argument.
testing::TinyElf openssl33_shape(const std::vector<uint8_t>& write_worker_entry) {
  Shape s;
  s.write_worker_entry = write_worker_entry;
  testing::TinyElf t = debian_shape(s);
  // PLT: stub 0 (ERR_new, which the public functions' error paths call), stub 1 SSL_write_ex2.
  constexpr uint64_t kGot = testing::kBase + 0x700;
  constexpr uint64_t kEx2Stub = testing::kPltVaddr + 16;
  Fn plt(testing::kPltVaddr);
  plt.jmp_through(kGot).raw({0x68, 0, 0, 0, 0}).raw({0xe9, 0, 0, 0, 0});  // 16 bytes
  plt.jmp_through(kGot + 8);
  t.set_plt(plt.bytes);
  t.add_import("ERR_new", kGot);
  t.add_import("SSL_write_ex2", kGot + 8);
  Fn ex(slot_vaddr(kSslWriteEx));
  ex.raw({0x49, 0x89, 0xc8}).raw({0x31, 0xc9}).jmp(kEx2Stub);  // mov %rcx,%r8; xor %ecx,%ecx
  t.add(ex, "SSL_write_ex");
  Fn ex2(slot_vaddr(kSslWriteEx2));
  ex2.raw({0x48, 0x83, 0xec, 0x08})
      .call(slot_vaddr(kWriteWorker))
      .raw({0x48, 0x83, 0xc4, 0x08})
      .ret();
  t.add(ex2, "SSL_write_ex2");
  return t;
}

TEST(OpenSslPlan, OpenSsl33WriteWorkerTakesFlags) {
  testing::TinyElf t = openssl33_shape(kPushR14);
  auto plan = plan_of(t);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->placement, Placement::kInternalWorkers) << plan->describe();
  ASSERT_EQ(plan->targets.size(), 2u);
  EXPECT_EQ(plan->targets[0].vaddr, slot_vaddr(kWriteWorker));
  EXPECT_EQ(plan->targets[0].style, ArgStyle::kInternalFlags);
  EXPECT_EQ(plan->targets[1].vaddr, slot_vaddr(kReadWorker));
  EXPECT_EQ(plan->targets[1].style, ArgStyle::kInternal);
}

TEST(OpenSslPlan, OpenSsl33SslWriteExThatBypassesEx2AndWorkerIsRejected) {
  testing::TinyElf t = openssl33_shape(kPushR14);
  t.add(Fn(slot_vaddr(kSslWriteEx)).raw({0x31, 0xc0}).ret(), "SSL_write_ex");  // does nothing
  auto plan = plan_of(t);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->placement, Placement::kPublicFunctions);
  EXPECT_EQ(plan->reason, "SSL_write_ex reaches neither SSL_write_ex2 nor ssl_write_internal");
}

TEST(OpenSslPlan, OpenSsl33PublicFallbackProbesEx2NotItsWrapper) {
  auto plan = plan_of(openssl33_shape(kEndbr64));
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->placement, Placement::kPublicFunctions);
  ASSERT_EQ(plan->targets.size(), 4u);
  EXPECT_EQ(plan->targets[0].symbol, "SSL_write");
  EXPECT_EQ(plan->targets[0].style, ArgStyle::kPublicInt);
  EXPECT_EQ(plan->targets[1].symbol, "SSL_write_ex2");  // SSL_write_ex only wraps it
  EXPECT_EQ(plan->targets[1].style, ArgStyle::kPublicEx2);
  EXPECT_EQ(plan->targets[1].vaddr, slot_vaddr(kSslWriteEx2));
  EXPECT_EQ(plan->targets[2].symbol, "SSL_read");
  EXPECT_EQ(plan->targets[3].symbol, "SSL_read_ex");
}

TEST(OpenSslPlan, NoSslSymbolsIsAnError) {
  testing::TinyElf t;
  t.add(Fn(slot_vaddr(0)).ret(), "SSL_write");
  auto plan = plan_of(t);
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message.find("no SSL_write/SSL_read"), std::string::npos);
}

TEST(OpenSslVersion, BannerParsing) {
  EXPECT_EQ(parse_openssl_banner("OpenSSL 3.0.19 27 Jan 2026"), "3.0.19");
  EXPECT_EQ(parse_openssl_banner("OpenSSL 1.1.1w  11 Sep 2023"), "1.1.1w");
  EXPECT_EQ(parse_openssl_banner("OpenSSL 3.2.0"), "3.2.0");
  EXPECT_EQ(parse_openssl_banner("OpenSSL 3.0 legacy provider"), "");
  EXPECT_EQ(parse_openssl_banner("OpenSSL 3.0.x"), "");
  EXPECT_EQ(parse_openssl_banner("OpenSSL 3.0.1-dev"), "");
  EXPECT_EQ(parse_openssl_banner("LibreSSL 3.8.2"), "");
  EXPECT_EQ(soname_version("/usr/lib/x86_64-linux-gnu/libssl.so.3"), "3");
  EXPECT_EQ(soname_version("libssl.so.1.1"), "1.1");
  EXPECT_EQ(soname_version("/usr/lib/libssl.so"), "");
  EXPECT_EQ(soname_version("/usr/lib/libssl3.so"), "");
  EXPECT_EQ(soname_version("/usr/lib/libssl.so.3.bak"), "");
}

TEST(OpenSslVersion, RodataBannerWinsOverTheFileNameAndSkipsDecoys) {
  testing::TinyElf t = debian_shape({});
  t.set_rodata(std::string("enable OpenSSL 3.0 legacy provider\0OpenSSL 3.0.19 27 Jan 2026\0", 62));
  auto plan = plan_of(t, "libssl.so.3");
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->version.version, "3.0.19");
  EXPECT_EQ(plan->version.text, "OpenSSL 3.0.19 27 Jan 2026");
  EXPECT_EQ(plan->version.source, "rodata");
}

// ---- the real files on this machine ---------------------------------------

TEST(OpenSslPlanReal, DebianLibssl3UsesInternalWorkersAtObjdumpCallTargets) {
  QTAP_REQUIRE_BINUTILS();
  const std::string lib = testing::kLibssl;
  QTAP_REQUIRE_FILE(lib);
  auto elf = ElfFile::open(lib);
  ASSERT_TRUE(elf);
  auto plan = plan_openssl_probes(*elf);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->placement, Placement::kInternalWorkers) << plan->describe();
  EXPECT_EQ(plan->reason, "call target");
  ASSERT_EQ(plan->targets.size(), 2u);

  // Ground truth from binutils: the one call of SSL_write_ex / SSL_read_ex,
  // which SSL_write / SSL_read call as well.
  const struct {
    const char* pub;
    const char* pub_ex;
    const char* worker;
    const char* first;
  } dirs[] = {{"SSL_write", "SSL_write_ex", "ssl_write_internal", "push %r14"},
              {"SSL_read", "SSL_read_ex", "ssl_read_internal", "push %r13"}};
  for (size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(dirs[i].pub);
    const auto ex = elf->symbol(dirs[i].pub_ex);
    const auto pub = elf->symbol(dirs[i].pub);
    ASSERT_EQ(*testing::nm_value(lib, dirs[i].pub_ex, true), ex->value);
    const auto ex_calls = testing::objdump_call_targets(lib, ex->value, ex->value + ex->size);
    ASSERT_EQ(ex_calls.size(), 1u);
    const auto pub_calls = testing::objdump_call_targets(lib, pub->value, pub->value + pub->size);
    EXPECT_NE(std::find(pub_calls.begin(), pub_calls.end(), ex_calls[0]), pub_calls.end());

    const ProbeTarget& t = plan->targets[i];
    EXPECT_EQ(t.symbol, dirs[i].worker);
    EXPECT_EQ(t.vaddr, ex_calls[0]);
    EXPECT_EQ(t.file_offset, testing::readelf_offset(lib, ex_calls[0]));
    EXPECT_EQ(t.style, ArgStyle::kInternal);
    EXPECT_TRUE(t.emulated);
    EXPECT_EQ(t.first_insn, dirs[i].first);
    const auto od = testing::objdump(lib, t.vaddr, t.vaddr + 4);
    ASSERT_FALSE(od.empty());
    EXPECT_EQ(od[0].text, dirs[i].first);  // objdump agrees on the first instruction
  }
  EXPECT_EQ(plan->version.version, "3");
  EXPECT_EQ(plan->version.source, "file name");
  std::printf("libssl.so.3 plan: %s\n", plan->describe().c_str());
}

TEST(OpenSslPlanReal, NodeProbesPublicFunctionsBecauseTheWorkersAreInlined) {
  QTAP_REQUIRE_BINUTILS();
  const std::string node = testing::kNode;
  QTAP_REQUIRE_FILE(node);
  const auto t0 = std::chrono::steady_clock::now();
  auto elf = ElfFile::open(node);
  ASSERT_TRUE(elf);
  auto plan = plan_openssl_probes(*elf);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  ASSERT_TRUE(plan) << plan.error().message;
  std::printf("node plan (%lld ms): %s\n", static_cast<long long>(ms), plan->describe().c_str());

  // The premise, per objdump: SSL_write does not call ssl_write_internal.
  const auto sw = elf->symbol("SSL_write");
  const auto internal = testing::nm_value(node, "ssl_write_internal", false);
  ASSERT_TRUE(internal);
  const auto calls = testing::objdump_call_targets(node, sw->value, sw->value + sw->size);
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(std::find(calls.begin(), calls.end(), *internal), calls.end());

  EXPECT_EQ(plan->placement, Placement::kPublicFunctions);
  EXPECT_NE(plan->reason.find("inlined"), std::string::npos) << plan->reason;
  ASSERT_EQ(plan->targets.size(), 4u);
  const char* names[] = {"SSL_write", "SSL_write_ex", "SSL_read", "SSL_read_ex"};
  for (size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(names[i]);
    const ProbeTarget& t = plan->targets[i];
    EXPECT_EQ(t.symbol, names[i]);
    EXPECT_EQ(t.vaddr, testing::nm_value(node, names[i], false));
    EXPECT_EQ(t.file_offset, testing::readelf_offset(node, t.vaddr));
    EXPECT_EQ(t.style, i % 2 == 0 ? ArgStyle::kPublicInt : ArgStyle::kPublicEx);
    EXPECT_TRUE(t.emulated);
    EXPECT_EQ(t.first_insn, "push %rbp");
  }
  std::string expected = testing::run(node + " -p process.versions.openssl");
  expected = expected.substr(0, expected.find_first_of("+\n"));
  EXPECT_EQ(plan->version.version, expected);
  EXPECT_EQ(plan->version.source, "rodata");
}

}  // namespace
}  // namespace qtap::tls
