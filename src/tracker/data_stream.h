// One direction of a connection's byte stream, put back in order.
//
// Every data event carries the stream offset of its first byte (the kernel
// advances a per-direction position atomically per call), so loss and
// reordering are visible: a chunk past the expected offset is held back until
// the missing bytes arrive, or declared a gap once too much is waiting. The
// common case - the next expected chunk - is delivered without a copy.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace qtap {

class DataStream {
 public:
  // Receives the stream in order.
  class Consumer {
   public:
    virtual ~Consumer() = default;
    virtual void on_bytes(std::string_view bytes, uint64_t ts_ns) = 0;
    virtual void on_gap(uint64_t len, uint64_t ts_ns) = 0;
  };

  explicit DataStream(size_t max_pending_bytes = 256 * 1024) : max_pending_(max_pending_bytes) {}

  // Bytes starting at stream `offset`.
  void add(uint64_t offset, std::string_view bytes, uint64_t ts_ns, Consumer& c);
  // `len` bytes at `offset` that moved but were never copied (sendfile).
  void add_hole(uint64_t offset, uint64_t len, uint64_t ts_ns, Consumer& c);
  // Gives up waiting: everything missing before held chunks becomes a gap.
  void flush(Consumer& c);

  uint64_t next_offset() const { return next_; }
  uint64_t gap_bytes() const { return gap_bytes_; }
  size_t pending_bytes() const { return pending_bytes_; }

 private:
  struct Pending {
    std::string bytes;  // empty for a hole
    uint64_t hole_len = 0;
    uint64_t ts_ns = 0;
    uint64_t length() const { return bytes.empty() ? hole_len : bytes.size(); }
  };

  void deliver(uint64_t offset, std::string_view bytes, uint64_t hole_len, uint64_t ts, Consumer& c);
  void drain(Consumer& c);

  size_t max_pending_;
  uint64_t next_ = 0;
  uint64_t gap_bytes_ = 0;
  size_t pending_bytes_ = 0;
  std::map<uint64_t, Pending> pending_;
};

}  // namespace qtap
