// JSON Lines output: one object per line, schema in docs/schema.md.
#pragma once

#include <ostream>
#include <string>

#include "output/json_writer.h"
#include "output/sink.h"

namespace qtap {

class JsonlSink final : public Sink {
 public:
  explicit JsonlSink(std::ostream& out);
  ~JsonlSink() override;  // writes what is still batched
  void write(const HttpRecord& rec) override;
  void write(const ConnectionRecord& rec) override;
  void write(const FindingRecord& rec) override;
  void flush() override;

 private:
  static constexpr size_t kBatchBytes = size_t{64} * 1024;
  template <typename Record>
  void append(const Record& rec);
  void write_batch();

  std::ostream& out_;
  // Lines batched until flush() or 64 KiB: libstdc++ sends every write of
  // 1 KiB or more straight to the kernel, so writing line by line cost one
  // syscall per record (~1 us). Records are serialised into it directly.
  // Reused: one allocation for the sink's life.
  json::Writer batch_;
};

// Appends the JSON text of one record, without the trailing newline, to `out`
// (exposed for tests and benchmarks).
void to_json(const HttpRecord& rec, std::string& out);
void to_json(const ConnectionRecord& rec, std::string& out);
void to_json(const FindingRecord& rec, std::string& out);

}  // namespace qtap
