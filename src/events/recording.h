// Recordings of raw ring buffer samples, so a capture can be replayed through
// the userspace pipeline without root (tests, bug reports, benchmarks).
//
// File layout (little endian):
//   "QTAPREC2"  u32 abi_version  u32 reserved  i64 boottime_to_realtime_ns
//   then entries. A sample: u32 length, `length` bytes (the sample exactly as
//   the kernel submitted it). Context a replay cannot find on its own (the
//   host's name, a process's /proc answer): u32 0x80000000 | (1 + n), one
//   byte EntryKind, n bytes. "QTAPREC1" files (samples only) read the same.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace qtap::events {

struct FileCloser {
  void operator()(FILE* f) const {
    if (f) fclose(f);
  }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

enum class EntryKind : uint8_t {
  kSample = 0,   // a kernel event
  kHost = 1,     // the recording host's name
  kProcess = 2,  // a process's context as /proc gave it (src/app/recording_context.h)
};

class RecordingWriter {
 public:
  static Result<RecordingWriter> create(const std::string& path, int64_t clock_offset_ns);
  Result<void> write(std::span<const uint8_t> sample);
  // A context entry (not kSample).
  Result<void> write_context(EntryKind kind, std::string_view bytes);
  Result<void> flush();

 private:
  explicit RecordingWriter(FilePtr f) : f_(std::move(f)) {}
  FilePtr f_;
};

class RecordingReader {
 public:
  static Result<RecordingReader> open(const std::string& path);
  int64_t clock_offset_ns() const { return clock_offset_ns_; }
  // Reads the next sample into `out`; false at a clean end of file. With
  // `kind`, context entries are returned too (their kind there, the bytes in
  // `out`); without, they are skipped.
  Result<bool> next(std::vector<uint8_t>& out, EntryKind* kind = nullptr);

 private:
  RecordingReader(FilePtr f, int64_t off) : f_(std::move(f)), clock_offset_ns_(off) {}
  FilePtr f_;
  int64_t clock_offset_ns_ = 0;
};

}  // namespace qtap::events
