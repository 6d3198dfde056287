// Recordings of raw ring buffer samples, so a capture can be replayed through
// the userspace pipeline without root (tests, bug reports, benchmarks).
//
// File layout (little endian):
//   "QTAPREC1"  u32 abi_version  u32 reserved  i64 boottime_to_realtime_ns
//   then per sample: u32 length, `length` bytes (the sample exactly as the
//   kernel submitted it).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace qtap::events {

struct FileCloser {
  void operator()(FILE* f) const {
    if (f) fclose(f);
  }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

class RecordingWriter {
 public:
  static Result<RecordingWriter> create(const std::string& path, int64_t clock_offset_ns);
  Result<void> write(std::span<const uint8_t> sample);
  Result<void> flush();

 private:
  explicit RecordingWriter(FilePtr f) : f_(std::move(f)) {}
  FilePtr f_;
};

class RecordingReader {
 public:
  static Result<RecordingReader> open(const std::string& path);
  int64_t clock_offset_ns() const { return clock_offset_ns_; }
  // Reads the next sample into `out`; false at a clean end of file.
  Result<bool> next(std::vector<uint8_t>& out);

 private:
  RecordingReader(FilePtr f, int64_t off) : f_(std::move(f)), clock_offset_ns_(off) {}
  FilePtr f_;
  int64_t clock_offset_ns_ = 0;
};

}  // namespace qtap::events
