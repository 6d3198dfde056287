// JSON Lines output: one object per line, schema in docs/schema.md.
#pragma once

#include <ostream>
#include <string>

#include "output/sink.h"

namespace qtap {

class JsonlSink final : public Sink {
 public:
  explicit JsonlSink(std::ostream& out);
  void write(const HttpRecord& rec) override;
  void write(const ConnectionRecord& rec) override;
  void flush() override;

 private:
  std::ostream& out_;
  std::string line_;  // reused buffer: one allocation for the sink's life
};

// The JSON text of one record, without the trailing newline (exposed for tests
// and benchmarks).
void to_json(const HttpRecord& rec, std::string& out);
void to_json(const ConnectionRecord& rec, std::string& out);

}  // namespace qtap
