// The Go planning on real Go executables: a small program built at test
// time with Debian's go1.19 (golang-1.19-go), once normally, once stripped
// (-ldflags='-s -w') and once linked by gcc (-linkmode=external, where
// runtime.text is not the start of .text). Cross-checked with `go version
// -m`, nm, objdump and readelf, and with the program itself: it prints the
// struct offsets it was compiled with and walks a live *tls.Conn to its
// socket with the offsets of our table.
//
// Building takes a few seconds (a fresh GOCACHE): once per test binary run.
// In CI (CI=true) a missing toolchain fails instead of skipping.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "tls/elf_file.h"
#include "tls/go_buildinfo.h"
#include "tls/go_offsets.h"
#include "tls/go_pclntab.h"
#include "tls/go_plan.h"
#include "unit/tls/test_util.h"

namespace qtap::tls {
namespace {

using testing::hex;
using testing::lines;
using testing::run;
using testing::words;

constexpr const char* kGo = "/usr/lib/go-1.19/bin/go";

constexpr const char* kProgram = R"go(// qtap test program: go_toolchain_test.cpp.
//   prog offsets          field offsets through reflect, "name value" lines
//   prog walk C I F P S   walk a live *tls.Conn with those offsets:
//                         "walked <fd> real <fd> itab <hex>"
package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"reflect"
	"strconv"
	"unsafe"
)

func field(t reflect.Type, name string) reflect.StructField {
	f, ok := t.FieldByName(name)
	if !ok {
		panic(name)
	}
	return f
}

func offsets() {
	conn := field(reflect.TypeOf(tls.Conn{}), "conn")
	embedded := field(reflect.TypeOf(net.TCPConn{}), "conn")
	fd := field(embedded.Type, "fd")
	pfd := field(fd.Type.Elem(), "pfd")
	sysfd := field(pfd.Type, "Sysfd")
	fdmu := field(pfd.Type, "fdmu")
	fmt.Printf("tls_conn_conn %d\n", conn.Offset)
	fmt.Printf("conn_kind %s\n", conn.Type.Kind())
	fmt.Printf("conn_fd %d\n", embedded.Offset+fd.Offset)
	fmt.Printf("netfd_pfd %d\n", pfd.Offset)
	fmt.Printf("pfd_sysfd %d\n", sysfd.Offset)
	fmt.Printf("sysfd_size %d\n", sysfd.Type.Size())
	fmt.Printf("fdmu_size %d\n", fdmu.Type.Size())
}

func at(p unsafe.Pointer, off int) unsafe.Pointer { return unsafe.Add(p, off) }

func walk(args []string) {
	var o [5]int
	for i := range o {
		o[i], _ = strconv.Atoi(args[i])
	}
	// Push the socket's number up, so that a wrong walk cannot hit it by chance.
	for i := 0; i < 9; i++ {
		if _, err := os.Open("/dev/null"); err != nil {
			panic(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	c := tls.Client(raw, &tls.Config{InsecureSkipVerify: true})
	p := unsafe.Pointer(c)
	itab := *(*uintptr)(at(p, o[0]))
	data := *(*unsafe.Pointer)(at(p, o[0]+o[1]))
	netfd := *(*unsafe.Pointer)(at(data, o[2]))
	walked := *(*int)(at(netfd, o[3]+o[4]))
	real := -1
	sc, _ := raw.(*net.TCPConn).SyscallConn()
	sc.Control(func(fd uintptr) { real = int(fd) })
	fmt.Printf("walked %d real %d itab %x\n", walked, real, itab)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "offsets" {
		offsets()
	} else if len(os.Args) > 6 && os.Args[1] == "walk" {
		walk(os.Args[2:])
	} else {
		// Keep the TLS client code reachable without a network.
		if len(os.Args) > 1 {
			c, err := tls.Dial("tcp", os.Args[1], &tls.Config{})
			if err == nil {
				c.Write([]byte("x"))
				c.Read(make([]byte, 1))
			}
		}
	}
}
)go";

struct GoBuilds {
  testing::TempDir dir;
  std::string error;  // the failed build's output
  std::string full, stripped, external;
};

// `go build` in the scratch dir with a private HOME/GOCACHE/GOPATH and no
// network; "" on success, else its output.
std::string go_build(const GoBuilds& b, const std::string& env, const std::string& flags,
                     const std::string& out) {
  const std::string& d = b.dir.path();
  const std::string cmd = "cd '" + d + "' && env -i PATH=/usr/bin:/bin HOME='" + d +
                          "/home' GOCACHE='" + d + "/cache' GOPATH='" + d + "/gopath' TMPDIR='" +
                          d + "/tmp' GOPROXY=off GOFLAGS= GO111MODULE=on " + env + " " + kGo +
                          " build " + flags + " -o '" + out + "' . 2>&1; echo \"rc=$?\"";
  const std::string output = run(cmd);
  return output.ends_with("rc=0\n") ? "" : cmd + "\n" + output;
}

const GoBuilds& go_builds() {
  static const std::unique_ptr<GoBuilds> builds = [] {
    auto b = std::make_unique<GoBuilds>();
    const std::string& d = b->dir.path();
    std::filesystem::create_directories(d + "/tmp");
    std::ofstream(d + "/main.go") << kProgram;
    std::ofstream(d + "/go.mod") << "module example.com/qtaptest\n\ngo 1.19\n";
    b->full = b->dir.file("prog");
    b->stripped = b->dir.file("prog-stripped");
    b->external = b->dir.file("prog-external");
    // CGO_ENABLED=1, the default: Debian ships the standard library compiled
    // for it, so the builds take ~1 s each (CGO_ENABLED=0 recompiles net and
    // its dependencies first). The program links internally unless asked.
    b->error = go_build(*b, "CGO_ENABLED=1", "", b->full);
    if (b->error.empty()) b->error = go_build(*b, "CGO_ENABLED=1", "-ldflags='-s -w'", b->stripped);
    if (b->error.empty()) {
      b->error = go_build(*b, "CGO_ENABLED=1", "-ldflags=-linkmode=external", b->external);
    }
    return b;
  }();
  return *builds;
}

#define QTAP_REQUIRE_GO_BUILDS()                         \
  QTAP_REQUIRE_FILE(kGo);                                \
  ASSERT_EQ(go_builds().error, "") << "go build failed"; \
  QTAP_REQUIRE_BINUTILS()

ElfFile open_elf(const std::string& path) {
  auto elf = ElfFile::open(path);
  EXPECT_TRUE(elf.ok()) << (elf.ok() ? "" : elf.error().message);
  return std::move(*elf);
}

// {value, size} of a .symtab symbol per `nm -S`.
std::pair<uint64_t, uint64_t> nm_symbol(const std::string& file, const std::string& name) {
  for (const auto& l : lines(run("nm -S '" + file + "'"))) {
    const auto w = words(l);
    if (w.size() == 4 && l.ends_with(" " + name)) return {hex(w[0]), hex(w[1])};
  }
  return {0, 0};
}

TEST(GoToolchain, BuildInfoMatchesGoVersionM) {
  QTAP_REQUIRE_GO_BUILDS();
  const auto& b = go_builds();
  // "prog: go1.19.8" / "\tpath\texample.com/qtaptest"
  const auto out = lines(run(std::string(kGo) + " version -m '" + b.full + "'"));
  ASSERT_GE(out.size(), 2u);
  const std::string version = words(out[0]).at(1);
  for (const std::string& file : {b.full, b.stripped, b.external}) {
    const auto info = read_go_buildinfo(open_elf(file));
    ASSERT_TRUE(info) << file;
    EXPECT_EQ(info->version, version) << file;
    EXPECT_TRUE(info->inline_strings);
    ASSERT_TRUE(info->parsed);
    EXPECT_EQ(info->parsed->major, 1);
    EXPECT_EQ(info->parsed->minor, 19);
    EXPECT_EQ(info->main_path, "example.com/qtaptest");
    EXPECT_EQ(info->module_path, "example.com/qtaptest");
    EXPECT_EQ(info->module_version, "(devel)");
  }
  EXPECT_FALSE(read_go_buildinfo(open_elf(testing::kLibssl)));
}

TEST(GoToolchain, PclntabAgreesWithTheSymbolTable) {
  QTAP_REQUIRE_GO_BUILDS();
  const auto& b = go_builds();
  for (const std::string& file : {b.full, b.external}) {
    const auto elf = open_elf(file);
    auto table = GoPclntab::open(elf);
    ASSERT_TRUE(table.ok()) << table.error().message;
    EXPECT_EQ(table->format(), PclntabFormat::kGo118);  // go1.18 and go1.19
    EXPECT_STREQ(table->text_start_source(), "runtime.text");
    // Every function pclntab lists that nm knows is at nm's address, except
    // the names pclntab has twice: generic instantiations share their shape's
    // name ("crypto/elliptic.(*nistCurve[...]).Add") and an assembly
    // function's body (".abi0" in .symtab) its ABI wrapper's.
    const auto& nm = testing::nm_values(file, false);
    std::map<std::string, int> count;
    for (uint64_t i = 0; i < table->function_count(); ++i) {
      const auto f = table->function(i);
      ASSERT_TRUE(f) << i;
      ++count[f->name];
    }
    size_t compared = 0;
    for (uint64_t i = 0; i < table->function_count(); ++i) {
      const auto f = table->function(i);
      const auto it = nm.find(f->name);
      if (it == nm.end() || count[f->name] > 1) continue;
      EXPECT_EQ(f->entry, it->second) << f->name;
      ++compared;
    }
    EXPECT_GT(compared, table->function_count() * 9 / 10) << file;
  }
  // With external linking the C start-up code comes first in .text: entries
  // are relative to runtime.text, not to the section.
  const auto ext = open_elf(b.external);
  EXPECT_NE(GoPclntab::open(ext)->text_start(), ext.section(".text")->addr);
}

TEST(GoToolchain, StrippedBinaryFindsTheSameFunctions) {
  QTAP_REQUIRE_GO_BUILDS();
  const auto& b = go_builds();
  const auto full = open_elf(b.full);
  const auto stripped = open_elf(b.stripped);
  EXPECT_EQ(stripped.section(".symtab"), nullptr);
  EXPECT_STREQ(GoPclntab::open(stripped)->text_start_source(), "header");
  for (const char* name : {kGoTlsWrite, kGoTlsRead}) {
    const auto a = find_go_function(full, name);
    const auto s = find_go_function(stripped, name);
    ASSERT_TRUE(a && s) << name;
    EXPECT_STREQ(a->source, "symtab");
    EXPECT_STREQ(s->source, "pclntab");
    EXPECT_EQ(a->entry, s->entry) << name;
    EXPECT_EQ(a->entry, nm_symbol(b.full, name).first) << name;
    EXPECT_EQ(a->end, a->entry + nm_symbol(b.full, name).second) << name;
    EXPECT_GE(s->end, a->end) << name;  // up to the next function: int3 padding included
    EXPECT_LT(s->end - a->end, 32u) << name;
  }
}

// Per objdump: the function's instructions.
std::vector<testing::ObjdumpInsn> disassembly(const std::string& file, const char* name) {
  const auto [value, size] = nm_symbol(file, name);
  EXPECT_NE(value, 0u) << name;
  return testing::objdump(file, value, value + size);
}

TEST(GoToolchain, EntrySiteIsTheStackCheckJbe) {
  QTAP_REQUIRE_GO_BUILDS();
  const auto& b = go_builds();
  auto plan = plan_go_tls_probes(open_elf(b.full));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  // go1.19: Write has a large frame (lea -0x68(%rsp),%r12; cmp 0x10(%r14),%r12;
  // jbe), Read a small one (cmp 0x10(%r14),%rsp; jbe).
  const std::map<std::string, uint64_t> expected_offset = {{kGoTlsWrite, 9}, {kGoTlsRead, 4}};
  for (const GoFunctionPlan& f : plan->functions) {
    const auto insns = disassembly(b.full, f.function.name.c_str());
    ASSERT_FALSE(insns.empty());
    size_t jbe = 0;
    while (jbe < insns.size() && !insns[jbe].text.starts_with("jbe ")) ++jbe;
    ASSERT_LT(jbe, insns.size()) << f.function.name;
    for (size_t i = 0; i < jbe; ++i) {  // only the stack check before it: cmp, lea to %r12
      const std::string& t = insns[i].text;
      EXPECT_TRUE(t.starts_with("cmp ") || (t.starts_with("lea ") && t.ends_with(",%r12"))) << t;
    }
    EXPECT_EQ(f.entry.vaddr, insns[jbe].vaddr) << f.function.name;
    EXPECT_EQ(f.entry.vaddr - f.function.entry, expected_offset.at(f.function.name));
    EXPECT_EQ(f.entry.cost, ProbeCost::kEmulated);
    EXPECT_FALSE(f.entry_fallback) << f.entry_reason;
    EXPECT_EQ(f.entry.file_offset, testing::readelf_offset(b.full, f.entry.vaddr).value_or(0));
    // The trampoline is where the jbe goes, and it calls runtime.morestack_noctxt.
    ASSERT_TRUE(f.morestack);
    EXPECT_EQ(*f.morestack, hex(words(insns[jbe].text).at(1)));
    bool calls_morestack = false;
    for (const auto& i : insns) {
      if (i.vaddr >= *f.morestack && i.text.find("<runtime.morestack_noctxt") != std::string::npos)
        calls_morestack = true;
    }
    EXPECT_TRUE(calls_morestack) << f.function.name;
    // The entry probe is that jbe: Write's bytes are taken there (Read's at its copy out).
    EXPECT_TRUE(f.entry_is_stack_check) << f.function.name;
    EXPECT_EQ(f.bytes_at_entry(), f.role == "write") << f.function.name;
  }
}

TEST(GoToolchain, RetSitesAreObjdumpsRets) {
  QTAP_REQUIRE_GO_BUILDS();
  const auto& b = go_builds();
  auto full = plan_go_tls_probes(open_elf(b.full));
  auto stripped = plan_go_tls_probes(open_elf(b.stripped));
  ASSERT_TRUE(full.ok() && stripped.ok());
  ASSERT_EQ(full->functions.size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    const GoFunctionPlan& f = full->functions[k];
    std::vector<uint64_t> objdump_rets;
    for (const auto& i : disassembly(b.full, f.function.name.c_str())) {
      if (i.text == "ret" && i.vaddr < *f.morestack) objdump_rets.push_back(i.vaddr);
    }
    std::vector<uint64_t> rets, stripped_rets;
    for (const auto& r : f.rets) {
      rets.push_back(r.vaddr);
      EXPECT_EQ(r.cost, ProbeCost::kSingleStepped);
      EXPECT_EQ(r.file_offset, testing::readelf_offset(b.full, r.vaddr).value_or(0));
    }
    for (const auto& r : stripped->functions[k].rets) stripped_rets.push_back(r.vaddr);
    EXPECT_GE(rets.size(), 3u);
    EXPECT_EQ(rets, objdump_rets) << f.function.name;
    EXPECT_EQ(stripped_rets, rets) << f.function.name;
    EXPECT_EQ(stripped->functions[k].entry.vaddr, f.entry.vaddr);
  }
  // The itab symbol only where .symtab was kept.
  EXPECT_EQ(full->tcp_conn_itab.value_or(0),
            nm_symbol(b.full, "go.itab.*net.TCPConn,net.Conn").first);
  EXPECT_FALSE(stripped->tcp_conn_itab);
  const std::string d = full->describe();
  EXPECT_NE(d.find("crypto/tls.(*Conn).Write@0x"), std::string::npos) << d;
  EXPECT_NE(d.find("entry +9 (jbe, emulated)"), std::string::npos) << d;
}

// Read's bytes are taken at its one call to runtime.memmove (the inlined
// bytes.(*Reader).Read): the site objdump names, found the same way in the
// stripped build (through .gopclntab), and an emulated probe.
TEST(GoToolchain, ReadCopyOutIsItsOnlyMemmoveCall) {
  QTAP_REQUIRE_GO_BUILDS();
  const auto& b = go_builds();
  auto full = plan_go_tls_probes(open_elf(b.full));
  auto stripped = plan_go_tls_probes(open_elf(b.stripped));
  ASSERT_TRUE(full.ok() && stripped.ok());
  const GoFunctionPlan& read = full->functions[1];
  ASSERT_EQ(read.role, "read");
  std::vector<uint64_t> memmove_calls;
  for (const auto& i : disassembly(b.full, read.function.name.c_str())) {
    if (i.text.starts_with("call ") && i.text.find("<runtime.memmove>") != std::string::npos) {
      memmove_calls.push_back(i.vaddr);
    }
  }
  ASSERT_EQ(memmove_calls.size(), 1u);
  ASSERT_TRUE(read.copy_out);
  EXPECT_EQ(read.copy_out->vaddr, memmove_calls[0]);
  EXPECT_EQ(read.copy_out->cost, ProbeCost::kEmulated);
  EXPECT_EQ(read.copy_out->file_offset, testing::readelf_offset(b.full, read.copy_out->vaddr).value_or(0));
  ASSERT_TRUE(stripped->functions[1].copy_out);
  EXPECT_EQ(stripped->functions[1].copy_out->vaddr, read.copy_out->vaddr);
  EXPECT_FALSE(full->functions[0].copy_out) << "Write takes its bytes at entry";
  EXPECT_NE(full->describe().find("bytes taken at its copy out (call runtime.memmove at +"), std::string::npos)
      << full->describe();
}

TEST(GoToolchain, OffsetsTableMatchesTheCompiledLayout) {
  QTAP_REQUIRE_GO_BUILDS();
  const auto& b = go_builds();
  std::map<std::string, std::string> printed;
  for (const auto& l : lines(run("'" + b.full + "' offsets"))) {
    const auto w = words(l);
    if (w.size() == 2) printed[w[0]] = w[1];
  }
  ASSERT_EQ(printed.size(), 7u) << "program output";
  const auto info = read_go_buildinfo(open_elf(b.full));
  auto o = go_offsets(*info);
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(printed["conn_kind"], "interface");
  EXPECT_EQ(std::stoul(printed["tls_conn_conn"]), o->tls_conn_conn);
  EXPECT_EQ(std::stoul(printed["conn_fd"]), o->conn_fd);
  EXPECT_EQ(std::stoul(printed["netfd_pfd"]), o->netfd_pfd);
  EXPECT_EQ(std::stoul(printed["pfd_sysfd"]), o->pfd_sysfd);
  EXPECT_EQ(std::stoul(printed["sysfd_size"]), o->sysfd_size);
  EXPECT_EQ(std::stoul(printed["fdmu_size"]), o->pfd_sysfd);  // Sysfd follows fdMutex
}

TEST(GoToolchain, OffsetsWalkALiveConnToItsSocket) {
  QTAP_REQUIRE_GO_BUILDS();
  const auto& b = go_builds();
  auto plan = plan_go_tls_probes(open_elf(b.full));
  ASSERT_TRUE(plan.ok());
  const GoOffsets& o = plan->offsets;
  std::ostringstream cmd;
  cmd << "'" << b.full << "' walk " << o.tls_conn_conn << " " << o.iface_data << " " << o.conn_fd
      << " " << o.netfd_pfd << " " << o.pfd_sysfd;
  const auto w = words(run(cmd.str()));
  ASSERT_EQ(w.size(), 6u) << cmd.str();
  EXPECT_EQ(w[0], "walked");
  EXPECT_GE(std::stoi(w[3]), 10);  // after the nine /dev/null
  EXPECT_EQ(w[1], w[3]) << "walked fd vs the net package's";
  // The interface's itab word is the (*TCPConn, net.Conn) itab (non-PIE: no bias).
  ASSERT_TRUE(plan->tcp_conn_itab);
  EXPECT_EQ(hex(w[5]), *plan->tcp_conn_itab);
}

}  // namespace
}  // namespace qtap::tls
