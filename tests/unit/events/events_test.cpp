#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "events/events.h"
#include "events/recording.h"
#include "events/synth.h"

using namespace qtap;
using namespace qtap::events;

namespace {
synth::Who who{4242, 4243, 123456789};
}

TEST(Decoder, ConnOpenRoundTrip) {
  auto s = synth::conn_open(who, 7, 5, QTAP_SRC_CONNECT, synth::addr("10.1.2.3", 40000),
                            synth::addr("2001:db8::1", 443), "curl", 1000, 99);
  auto ev = decode(s);
  ASSERT_TRUE(ev) << ev.error().message;
  auto& o = std::get<ConnOpen>(*ev);
  EXPECT_EQ(o.hdr.pid, 4242u);
  EXPECT_EQ(o.hdr.tid, 4243u);
  EXPECT_EQ(o.hdr.ts_ns, 123456789u);
  EXPECT_EQ(o.conn_id, 7u);
  EXPECT_EQ(o.fd, 5);
  EXPECT_EQ(o.source, QTAP_SRC_CONNECT);
  EXPECT_EQ(o.local.port, 40000);
  EXPECT_EQ(o.remote.port, 443);
  EXPECT_EQ(o.local.addr[10], 0xff);
  EXPECT_EQ(o.local.addr[12], 10);
  EXPECT_EQ(o.remote.addr[0], 0x20);
  EXPECT_EQ(o.comm, "curl");
  EXPECT_EQ(o.uid, 1000u);
  EXPECT_EQ(o.cgroup_id, 99u);
}

TEST(Decoder, DataPayloadIsExactlyTheSubmittedBytes) {
  auto s = synth::data(who, 9, 3, QTAP_DIR_RECV, 100, "hello");
  auto ev = decode(s);
  ASSERT_TRUE(ev);
  auto& d = std::get<Data>(*ev);
  EXPECT_EQ(d.payload, "hello");
  EXPECT_EQ(d.offset, 100u);
  EXPECT_EQ(d.direction, QTAP_DIR_RECV);
  EXPECT_EQ(d.conn_id, 9u);
}

TEST(Decoder, RejectsShortAndLyingSamples) {
  auto s = synth::data(who, 9, 3, QTAP_DIR_RECV, 0, "hello");
  s.resize(s.size() - 1);  // claims 5 bytes, carries 4
  EXPECT_FALSE(decode(s));
  std::vector<uint8_t> tiny(4);
  EXPECT_FALSE(decode(tiny));
  auto o = synth::conn_open(who, 1, 1, 1, synth::addr("1.2.3.4", 1), synth::addr("1.2.3.4", 2));
  o[4] = 99;  // ABI version
  auto r = decode(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("ABI"), std::string::npos);
  o[4] = QTAP_ABI_VERSION;
  o[0] = 77;  // type
  EXPECT_FALSE(decode(o));
}

TEST(Decoder, ExecCarriesPathAndArgs) {
  std::string args("curl\0-s\0http://x/", 18);
  auto s = synth::proc_exec(who, "/usr/bin/curl", args, "curl", 0, 5);
  auto ev = decode(s);
  ASSERT_TRUE(ev);
  auto& x = std::get<ProcExec>(*ev);
  EXPECT_EQ(x.filename, "/usr/bin/curl");
  EXPECT_EQ(x.args, args);
  EXPECT_EQ(x.comm, "curl");
}

TEST(Synth, LargeCallIsSplitIntoChunksWithOffsets) {
  std::string big(QTAP_CHUNK_SIZE * 2 + 10, 'x');
  auto samples = synth::call(who, 1, 3, QTAP_DIR_SEND, 1000, big);
  ASSERT_EQ(samples.size(), 3u);
  uint64_t expect = 1000;
  for (auto& s : samples) {
    auto d = std::get<Data>(*decode(s));
    EXPECT_EQ(d.offset, expect);
    EXPECT_EQ(d.call_len, big.size());
    expect += d.payload.size();
  }
  EXPECT_EQ(expect, 1000 + big.size());
}

TEST(Recording, WriteThenReadBack) {
  auto path = (std::filesystem::temp_directory_path() / "qtap_rec_test.qrec").string();
  {
    auto w = RecordingWriter::create(path, -42);
    ASSERT_TRUE(w) << w.error().message;
    ASSERT_TRUE(w->write(synth::data(who, 1, 3, 0, 0, "abc")));
    ASSERT_TRUE(w->write(synth::proc_exit(who, 3)));
    ASSERT_TRUE(w->flush());
  }
  auto r = RecordingReader::open(path);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->clock_offset_ns(), -42);
  std::vector<uint8_t> s;
  ASSERT_TRUE(*r->next(s));
  EXPECT_EQ(std::get<Data>(*decode(s)).payload, "abc");
  ASSERT_TRUE(*r->next(s));
  EXPECT_EQ(std::get<ProcExit>(*decode(s)).exit_code, 3);
  auto end = r->next(s);
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
  std::remove(path.c_str());
}

TEST(Recording, OnlyTheOwnerCanReadIt) {
  // Raw samples hold plaintext before redaction. A file that existed with
  // wider permissions is narrowed too.
  namespace fs = std::filesystem;
  auto path = (fs::temp_directory_path() / "qtap_rec_mode_test.qrec").string();
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fclose(f);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                            fs::perms::others_read);
  {
    auto w = RecordingWriter::create(path, 0);
    ASSERT_TRUE(w) << w.error().message;
  }
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  std::remove(path.c_str());
  // Not a regular file: left alone (`--record /dev/null` must not lock
  // everyone else out of /dev/null).
  const auto null_mode = fs::status("/dev/null").permissions();
  {
    auto w = RecordingWriter::create("/dev/null", 0);
    ASSERT_TRUE(w) << w.error().message;
  }
  EXPECT_EQ(fs::status("/dev/null").permissions(), null_mode);
}

TEST(Recording, RejectsOtherFiles) {
  auto path = (std::filesystem::temp_directory_path() / "qtap_not_a_rec").string();
  FILE* f = fopen(path.c_str(), "w");
  fputs("hello world, not a recording at all", f);
  fclose(f);
  auto r = RecordingReader::open(path);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not a qtap recording"), std::string::npos);
  std::remove(path.c_str());
}
