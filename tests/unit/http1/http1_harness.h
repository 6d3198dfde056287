// Test harness for Http1Session: byte fixtures as a list of steps (data on one
// side, a gap, a close), a one-shot runner, and a "stressor" runner that feeds
// the same bytes split at random points and interleaved in a plausible order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "support/session_feed.h"

#include "protocols/http1/http1_session.h"

namespace qtap::http1::test {

using qtap::test::Step;

struct Fixture {
  std::string name;
  Config cfg;
  std::vector<Step> steps;
  // Whether the stressor may interleave the body of a response with the next
  // request. Off where the outcome legitimately depends on that order.
  bool interleave = true;

  explicit Fixture(std::string n, Config c = {}) : name(std::move(n)), cfg(c) {}
  // Each step is stamped with its own time: 1000, 2000, ...
  Fixture& req(std::string bytes) {
    return add(Step::Kind::kData, Side::kRequests, std::move(bytes), 0);
  }
  Fixture& resp(std::string bytes) {
    return add(Step::Kind::kData, Side::kResponses, std::move(bytes), 0);
  }
  Fixture& gap(Side side, uint64_t len) { return add(Step::Kind::kGap, side, {}, len); }
  Fixture& close() { return add(Step::Kind::kClose, Side::kRequests, {}, 0); }
  Fixture& no_interleave() {
    interleave = false;
    return *this;
  }

 private:
  Fixture& add(Step::Kind kind, Side side, std::string bytes, uint64_t gap) {
    steps.push_back(Step{kind, side, std::move(bytes), gap, 1000 * (steps.size() + 1)});
    return *this;
  }
};

// Time stamp of step i (0-based) of any fixture.
constexpr uint64_t ts_of(size_t step) { return 1000 * (step + 1); }

// Every fixture, each also run through the stressor.
const std::vector<Fixture>& fixtures();
const Fixture& fixture(std::string_view name);

// Feeds each step in one call.
std::vector<HttpExchange> run_whole(const Fixture& f);
// Feeds the same steps split at random points (seeded); seed % 4 == 0 feeds
// one byte at a time.
std::vector<HttpExchange> run_split(const Fixture& f, uint32_t seed);

// A canonical, readable text of exchanges, for comparing runs.
std::string dump(const std::vector<HttpExchange>& xs);

}  // namespace qtap::http1::test
