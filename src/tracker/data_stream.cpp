#include "tracker/data_stream.h"

namespace qtap {

// Delivers a piece that starts at or before next_, trimming what was already
// delivered.
void DataStream::deliver(uint64_t offset, std::string_view bytes, uint64_t hole_len, uint64_t ts,
                         Consumer& c) {
  uint64_t len = bytes.empty() ? hole_len : bytes.size();
  if (offset + len <= next_) return;  // duplicate
  uint64_t skip = next_ - offset;
  if (!bytes.empty()) {
    c.on_bytes(bytes.substr(skip), ts);
  } else {
    c.on_gap(len - skip, ts);
  }
  next_ = offset + len;
}

void DataStream::drain(Consumer& c) {
  while (!pending_.empty()) {
    auto it = pending_.begin();
    if (it->first > next_) return;
    Pending p = std::move(it->second);
    uint64_t off = it->first;
    pending_bytes_ -= p.bytes.size();
    pending_.erase(it);
    deliver(off, p.bytes, p.hole_len, p.ts_ns, c);
  }
}

void DataStream::add(uint64_t offset, std::string_view bytes, uint64_t ts_ns, Consumer& c) {
  if (bytes.empty()) return;
  if (offset <= next_) {
    deliver(offset, bytes, 0, ts_ns, c);
    if (!pending_.empty()) drain(c);
    return;
  }
  pending_bytes_ += bytes.size();
  auto [it, inserted] = pending_.try_emplace(offset);
  if (inserted) {
    it->second = Pending{std::string(bytes), 0, ts_ns};
  } else {
    pending_bytes_ -= bytes.size();  // same offset twice: keep the first
  }
  if (pending_bytes_ > max_pending_) flush(c);
}

void DataStream::add_hole(uint64_t offset, uint64_t len, uint64_t ts_ns, Consumer& c) {
  if (len == 0) return;
  if (offset <= next_) {
    deliver(offset, {}, len, ts_ns, c);
    if (!pending_.empty()) drain(c);
    return;
  }
  pending_.try_emplace(offset, Pending{std::string(), len, ts_ns});
}

void DataStream::flush(Consumer& c) {
  while (!pending_.empty()) {
    auto it = pending_.begin();
    if (it->first > next_) {
      uint64_t missing = it->first - next_;
      gap_bytes_ += missing;
      c.on_gap(missing, it->second.ts_ns);
      next_ = it->first;
    }
    drain(c);
  }
}

}  // namespace qtap
