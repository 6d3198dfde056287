// Every fixture, split at random points, must give exactly what feeding it whole gives.
#include <gtest/gtest.h>

#include "unit/http2/http2_harness.h"

namespace qtap::http2::test {
namespace {

class Stressor : public ::testing::TestWithParam<std::string> {};

TEST_P(Stressor, RandomSplitsMatchWholeFeeding) {
  const Fixture& f = fixture(GetParam());
  const std::string whole = dump(run_whole(f));
  ASSERT_FALSE(whole.empty()) << "fixture produced nothing";
  for (uint32_t seed = 1; seed <= 24; ++seed) {
    ASSERT_EQ(dump(run_split(f, seed)), whole) << f.name << " seed " << seed;
  }
}

std::vector<std::string> names() {
  std::vector<std::string> n;
  for (const Fixture& f : fixtures()) n.push_back(f.name);
  return n;
}

INSTANTIATE_TEST_SUITE_P(AllFixtures, Stressor, ::testing::ValuesIn(names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace qtap::http2::test
