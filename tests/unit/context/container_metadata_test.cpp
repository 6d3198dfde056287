#include "context/container_metadata.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "unit/context/fake_metadata_source.h"

namespace qtap {
namespace {

using Lookup = ContainerMetadataCache::Lookup;
using testing::eventually;
using testing::FakeRuntime;
using testing::FakeSource;

const std::string kId = "34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376";
const std::string kId2 = "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d";

ContainerInfo docker(const std::string& id) {
  ContainerInfo c;
  c.runtime = "docker";
  c.id = id;
  return c;
}

ContainerMetadata web() {
  return ContainerMetadata{"web-1",
                           "nginx:1.25",
                           {{"app", "web"},
                            {"io.kubernetes.pod.name", "checkout-7d9f"},
                            {"io.kubernetes.pod.namespace", "prod"}}};
}

class MetadataCacheTest : public ::testing::Test {
 protected:
  std::unique_ptr<ContainerMetadataCache> make(MetadataCacheConfig cfg = {}) {
    return std::make_unique<ContainerMetadataCache>(std::make_unique<FakeSource>(rt), cfg);
  }

  std::shared_ptr<FakeRuntime> rt = std::make_shared<FakeRuntime>();
};

TEST(ApplyMetadata, CopiesAndTakesThePodFromKubeletLabels) {
  ContainerInfo c = docker(kId);
  apply_metadata(web(), c);
  EXPECT_EQ(c.name, "web-1");
  EXPECT_EQ(c.image, "nginx:1.25");
  EXPECT_EQ(c.labels.size(), 3u);
  EXPECT_EQ(c.pod_name, "checkout-7d9f");
  EXPECT_EQ(c.pod_namespace, "prod");
  EXPECT_EQ(c.id, kId);  // the path's fields stay

  apply_metadata(ContainerMetadata{"plain", "alpine", {}}, c);
  EXPECT_EQ(c.pod_name, "");
  EXPECT_EQ(c.pod_namespace, "");
}

TEST_F(MetadataCacheTest, FirstLookupQueuesALaterOneFinds) {
  rt->add(kId, web());
  auto cache = make();
  ContainerInfo c = docker(kId);
  const uint64_t before = cache->generation();
  EXPECT_EQ(cache->lookup(c), Lookup::kLater);
  EXPECT_EQ(c.name, "");
  ASSERT_TRUE(eventually([&] { return cache->generation() != before; }));
  EXPECT_EQ(cache->lookup(c), Lookup::kFound);
  EXPECT_EQ(c.name, "web-1");
  EXPECT_EQ(c.pod_namespace, "prod");
  // Cached per container: more lookups, and other processes' copies, ask nothing.
  ContainerInfo other = docker(kId);
  EXPECT_EQ(cache->lookup(other), Lookup::kFound);
  EXPECT_EQ(other.image, "nginx:1.25");
  EXPECT_EQ(rt->fetch_count(), 1u);
  EXPECT_EQ(cache->fetches(), 1u);
}

TEST_F(MetadataCacheTest, NeverAsksForOtherRuntimesOrWithoutAnId) {
  auto cache = make();
  ContainerInfo containerd = docker(kId);
  containerd.runtime = "containerd";
  EXPECT_EQ(cache->lookup(containerd), Lookup::kNever);
  ContainerInfo nameless = docker("");
  EXPECT_EQ(cache->lookup(nameless), Lookup::kNever);
  EXPECT_EQ(cache->fetches(), 0u);
}

TEST_F(MetadataCacheTest, ASlowSourceNeverBlocksALookup) {
  rt->hold();  // the runtime hangs
  auto cache = make();
  ContainerInfo c = docker(kId);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(cache->lookup(c), Lookup::kLater);
  ContainerInfo c2 = docker(kId2);
  EXPECT_EQ(cache->lookup(c2), Lookup::kLater);  // queued behind the hung fetch
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::milliseconds(500));
  ASSERT_TRUE(eventually([&] { return rt->fetch_count() == 1; }));  // one fetch, in the worker

  rt->add(kId, web());
  const uint64_t before = cache->generation();
  rt->release();
  ASSERT_TRUE(eventually([&] { return cache->generation() != before; }));
  ASSERT_TRUE(eventually([&] { return cache->lookup(c) == Lookup::kFound; }));
  EXPECT_EQ(c.name, "web-1");
}

TEST_F(MetadataCacheTest, ADestructorDuringAHungFetchWaitsForIt) {
  rt->hold();
  auto cache = make();
  ContainerInfo c = docker(kId);
  cache->lookup(c);
  ASSERT_TRUE(eventually([&] { return rt->fetch_count() == 1; }));
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    rt->release();
  });
  cache.reset();  // joins the worker once the fetch returns
  release.join();
}

TEST_F(MetadataCacheTest, NegativeAnswersAreKeptThenRetried) {
  auto cache = make(MetadataCacheConfig{.retry_after = std::chrono::milliseconds(200)});
  ContainerInfo c = docker(kId);
  EXPECT_EQ(cache->lookup(c), Lookup::kLater);
  ASSERT_TRUE(eventually([&] { return cache->fetches() == 1 && cache->generation() == 1; }));
  // Not known: kept, not asked again at once.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(cache->lookup(c), Lookup::kLater);
  EXPECT_EQ(rt->fetch_count(), 1u);

  // The runtime learns about it; once the negative answer expires the
  // generation moves by itself, and the next lookup asks again.
  rt->add(kId, web());
  ASSERT_TRUE(eventually([&] { return cache->generation() >= 2; }));
  EXPECT_EQ(rt->fetch_count(), 1u);
  EXPECT_EQ(cache->lookup(c), Lookup::kLater);
  ASSERT_TRUE(eventually([&] { return cache->lookup(c) == Lookup::kFound; }));
  EXPECT_EQ(rt->fetch_count(), 2u);
  EXPECT_EQ(c.name, "web-1");
}

TEST_F(MetadataCacheTest, RemembersAtMostMaxEntries) {
  rt->add(kId, web());
  rt->add(kId2, ContainerMetadata{"db", "postgres:16", {}});
  auto cache = make(MetadataCacheConfig{.max_entries = 1});
  ContainerInfo a = docker(kId);
  ContainerInfo b = docker(kId2);
  cache->lookup(a);
  ASSERT_TRUE(eventually([&] { return cache->lookup(a) == Lookup::kFound; }));
  cache->lookup(b);  // pushes a out
  ASSERT_TRUE(eventually([&] { return cache->lookup(b) == Lookup::kFound; }));
  EXPECT_EQ(cache->lookup(a), Lookup::kLater);  // asked again
  ASSERT_TRUE(eventually([&] { return rt->fetch_count() == 3; }));
}

TEST_F(MetadataCacheTest, AFullQueueAsksLater) {
  rt->hold();
  auto cache = make(MetadataCacheConfig{.max_queued = 1});
  ContainerInfo a = docker(kId);
  cache->lookup(a);
  ASSERT_TRUE(eventually([&] { return rt->fetch_count() == 1; }));  // a is being fetched
  ContainerInfo b = docker(kId2);
  ContainerInfo c = docker(std::string(64, 'c'));
  EXPECT_EQ(cache->lookup(b), Lookup::kLater);  // queued
  EXPECT_EQ(cache->lookup(c), Lookup::kLater);  // not queued: no room
  rt->release();
  ASSERT_TRUE(eventually([&] { return cache->fetches() == 2; }));
  // c was never queued; its next lookup does it.
  EXPECT_EQ(cache->lookup(c), Lookup::kLater);
  ASSERT_TRUE(eventually([&] { return cache->fetches() == 3; }));
}

}  // namespace
}  // namespace qtap
