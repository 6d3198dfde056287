// Every output implements Sink. Sinks write to an injected stream so tests can
// capture what they produce.
#pragma once

#include "output/records.h"

namespace qtap {

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(const HttpRecord& rec) = 0;
  virtual void write(const ConnectionRecord& rec) = 0;
  virtual void write(const FindingRecord& rec) = 0;
  virtual void flush() = 0;
};

}  // namespace qtap
