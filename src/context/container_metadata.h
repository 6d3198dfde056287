// Name, image and labels of containers, asked of the container runtime in the
// background. The cgroup path gives a container's id at once; the runtime's
// answer takes a socket round trip, may be slow or never come, and must not
// hold up the thread that emits records. So a lookup only reads a cache: a
// miss queues a request for a worker thread and the caller carries on without
// the metadata; a later lookup finds the answer.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "context/container_info.h"

namespace qtap {

// What a runtime knows about one container.
struct ContainerMetadata {
  std::string name;
  std::string image;
  std::vector<std::pair<std::string, std::string>> labels;  // sorted by key
};

// Copies `m` into `c`, and the pod name and namespace from the labels
// kubelet sets (io.kubernetes.pod.name, io.kubernetes.pod.namespace).
void apply_metadata(const ContainerMetadata& m, ContainerInfo& c);

// Where metadata comes from: a runtime's API (DockerSource), or a fake in tests.
class ContainerMetadataSource {
 public:
  virtual ~ContainerMetadataSource() = default;

  // Whether containers of `runtime` (ContainerInfo::runtime) are worth asking
  // about. Called on the caller's thread: must be cheap and must not block.
  virtual bool serves(std::string_view runtime) const = 0;

  // What the runtime says about container `id`; nullopt when it does not
  // know the id or cannot be reached. Called on the worker thread only, one
  // call at a time; may block, but should give up after a short timeout:
  // lookups queued behind it wait.
  virtual std::optional<ContainerMetadata> fetch(std::string_view runtime,
                                                 const std::string& id) = 0;
};

struct MetadataCacheConfig {
  // A container the source had no answer for is asked about again after
  // this long (the runtime was restarting, or slow, when it was first asked).
  std::chrono::milliseconds retry_after{std::chrono::seconds(30)};
  size_t max_entries = 4096;  // containers remembered; the oldest asked goes first
  size_t max_queued = 256;    // lookups waiting; beyond, a lookup is retried later
};

// Thread-safe. The worker thread starts with the first queued lookup and is
// joined by the destructor (which waits for a fetch in progress).
class ContainerMetadataCache {
 public:
  ContainerMetadataCache(std::unique_ptr<ContainerMetadataSource> source,
                         MetadataCacheConfig cfg = {});
  ~ContainerMetadataCache();
  ContainerMetadataCache(const ContainerMetadataCache&) = delete;
  ContainerMetadataCache& operator=(const ContainerMetadataCache&) = delete;

  enum class Lookup {
    kFound,  // `c` now has name, image, labels, pod name and namespace
    // Not known yet: a fetch is queued, or the last one found nothing and
    // will be retried. Look again when generation() has moved.
    kLater,
    kNever,  // no id, or the source does not serve this runtime
  };

  // Never waits for the source, never reads the clock: answers from the
  // cache, and queues a fetch for a container not asked about yet or whose
  // negative answer has expired.
  Lookup lookup(ContainerInfo& c);

  // Moves when a fetch completes and when a negative answer expires. Cheap
  // to read: a caller that got kLater asks again only when this moved.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  size_t fetches() const;  // fetches started so far (tests)

 private:
  struct Entry {
    enum class State {
      kQueued,
      kFound,
      kNotKnown,  // until retry_at
      kExpired,   // not known, to be asked again at the next lookup
    } state = State::kQueued;
    ContainerMetadata metadata;
    std::chrono::steady_clock::time_point retry_at;
  };
  struct Request {
    std::string runtime;
    std::string id;
  };

  Lookup queue(const ContainerInfo& c);
  void make_room();
  void run();
  void store(const Request& req, std::optional<ContainerMetadata> got);
  std::optional<std::chrono::steady_clock::time_point> expire_due();

  std::unique_ptr<ContainerMetadataSource> source_;
  MetadataCacheConfig cfg_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::unordered_map<std::string, Entry> entries_;  // by container id
  std::deque<std::string> order_;                   // ids, oldest entry first
  std::deque<Request> queue_;
  size_t fetches_ = 0;
  bool stop_ = false;
  std::thread worker_;  // started by the first queue()

  std::atomic<uint64_t> generation_{0};
};

}  // namespace qtap
