#include <gtest/gtest.h>

#include <random>

#include "tracker/data_stream.h"

using namespace qtap;

namespace {
struct Collect : DataStream::Consumer {
  std::string text;  // gaps appear as '#' per missing byte
  uint64_t gaps = 0;
  void on_bytes(std::string_view b, uint64_t) override { text.append(b); }
  void on_gap(uint64_t len, uint64_t) override {
    gaps += len;
    text.append(len, '#');
  }
};
}  // namespace

TEST(DataStream, InOrderIsDeliveredAsIs) {
  DataStream s;
  Collect c;
  s.add(0, "hello ", 1, c);
  s.add(6, "world", 2, c);
  EXPECT_EQ(c.text, "hello world");
  EXPECT_EQ(s.next_offset(), 11u);
}

TEST(DataStream, OutOfOrderIsReordered) {
  DataStream s;
  Collect c;
  s.add(6, "world", 1, c);
  EXPECT_EQ(c.text, "");
  s.add(0, "hello ", 2, c);
  EXPECT_EQ(c.text, "hello world");
  EXPECT_EQ(s.pending_bytes(), 0u);
}

TEST(DataStream, DuplicatesAndOverlapsAreTrimmed) {
  DataStream s;
  Collect c;
  s.add(0, "abcdef", 1, c);
  s.add(0, "abc", 1, c);
  s.add(3, "defgh", 1, c);
  EXPECT_EQ(c.text, "abcdefgh");
}

TEST(DataStream, LossBecomesAGapWhenTooMuchWaits) {
  DataStream s(/*max_pending_bytes=*/10);
  Collect c;
  s.add(0, "abc", 1, c);
  s.add(5, "fghij", 1, c);   // 2 bytes missing
  EXPECT_EQ(c.text, "abc");
  s.add(10, "klmnop", 1, c);  // over the limit: give up waiting
  EXPECT_EQ(c.text, "abc##fghijklmnop");
  EXPECT_EQ(s.gap_bytes(), 2u);
  s.add(3, "de", 1, c);  // too late: ignored
  EXPECT_EQ(c.text, "abc##fghijklmnop");
}

TEST(DataStream, HolesAreDeliveredInOrder) {
  DataStream s;
  Collect c;
  s.add_hole(3, 4, 1, c);  // sendfile of 4 bytes after 3 bytes of headers
  s.add(0, "abc", 1, c);
  s.add(7, "xyz", 1, c);
  EXPECT_EQ(c.text, "abc####xyz");
  EXPECT_EQ(c.gaps, 4u);
}

TEST(DataStream, FlushDeclaresMissingBytes) {
  DataStream s;
  Collect c;
  s.add(4, "efgh", 1, c);
  s.flush(c);
  EXPECT_EQ(c.text, "####efgh");
}

TEST(DataStream, RandomPermutationsReassemble) {
  std::string data;
  for (int i = 0; i < 2000; i++) data.push_back(char('a' + i % 26));
  for (unsigned seed = 1; seed <= 20; seed++) {
    std::mt19937 rng(seed);
    std::vector<std::pair<uint64_t, std::string>> pieces;
    for (size_t pos = 0; pos < data.size();) {
      size_t n = std::min<size_t>(1 + rng() % 97, data.size() - pos);
      pieces.emplace_back(pos, data.substr(pos, n));
      pos += n;
    }
    // Local swaps only, as the ring buffer produces (bounded disorder).
    for (size_t i = 0; i + 1 < pieces.size(); i++) {
      if (rng() % 3 == 0) std::swap(pieces[i], pieces[i + 1]);
    }
    DataStream s;
    Collect c;
    for (auto& [off, b] : pieces) s.add(off, b, 1, c);
    s.flush(c);
    EXPECT_EQ(c.text, data) << "seed " << seed;
  }
}
