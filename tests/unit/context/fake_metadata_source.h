// A ContainerMetadataSource for tests: answers from a table, counts its
// calls, and can be held (a runtime that is slow or hangs) until released.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "context/container_metadata.h"

namespace qtap::testing {

// Shared by the test and the source the cache owns.
struct FakeRuntime {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, ContainerMetadata> containers;  // by id
  bool held = false;
  size_t fetches = 0;

  void hold() {
    std::lock_guard lock(mu);
    held = true;
  }
  void release() {
    {
      std::lock_guard lock(mu);
      held = false;
    }
    cv.notify_all();
  }
  void add(const std::string& id, ContainerMetadata m) {
    std::lock_guard lock(mu);
    containers[id] = std::move(m);
  }
  size_t fetch_count() {
    std::lock_guard lock(mu);
    return fetches;
  }
};

class FakeSource : public ContainerMetadataSource {
 public:
  explicit FakeSource(std::shared_ptr<FakeRuntime> rt, std::string runtime = "docker")
      : rt_(std::move(rt)), runtime_(std::move(runtime)) {}

  bool serves(std::string_view runtime) const override { return runtime == runtime_; }

  std::optional<ContainerMetadata> fetch(std::string_view, const std::string& id) override {
    std::unique_lock lock(rt_->mu);
    ++rt_->fetches;
    rt_->cv.wait(lock, [&] { return !rt_->held; });
    auto it = rt_->containers.find(id);
    if (it == rt_->containers.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::shared_ptr<FakeRuntime> rt_;
  std::string runtime_;
};

// Polls `cond` until it holds or 5 s pass; the answer arrives on another thread.
template <typename Cond>
bool eventually(Cond cond) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace qtap::testing
