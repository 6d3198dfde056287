#include "context/container_metadata.h"

#include "common/log.h"

namespace qtap {

void apply_metadata(const ContainerMetadata& m, ContainerInfo& c) {
  c.name = m.name;
  c.image = m.image;
  c.labels = m.labels;
  const std::string* pod = c.label("io.kubernetes.pod.name");
  const std::string* ns = c.label("io.kubernetes.pod.namespace");
  c.pod_name = pod ? *pod : "";
  c.pod_namespace = ns ? *ns : "";
}

ContainerMetadataCache::ContainerMetadataCache(std::unique_ptr<ContainerMetadataSource> source,
                                               MetadataCacheConfig cfg)
    : source_(std::move(source)), cfg_(cfg) {
  if (cfg_.max_entries == 0) cfg_.max_entries = 1;
}

ContainerMetadataCache::~ContainerMetadataCache() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

ContainerMetadataCache::Lookup ContainerMetadataCache::lookup(ContainerInfo& c) {
  if (c.id.empty() || !source_->serves(c.runtime)) return Lookup::kNever;
  std::lock_guard lock(mu_);
  auto it = entries_.find(c.id);
  if (it == entries_.end()) return queue(c);
  Entry& e = it->second;
  switch (e.state) {
    case Entry::State::kFound:
      apply_metadata(e.metadata, c);
      return Lookup::kFound;
    case Entry::State::kQueued:
    case Entry::State::kNotKnown:
      return Lookup::kLater;
    case Entry::State::kExpired:
      return queue(c);
  }
  return Lookup::kLater;
}

// With mu_ held.
ContainerMetadataCache::Lookup ContainerMetadataCache::queue(const ContainerInfo& c) {
  // A full queue means fetches are in flight: each one moves the generation,
  // and the caller's next lookup tries again.
  if (queue_.size() >= cfg_.max_queued) return Lookup::kLater;
  auto [it, inserted] = entries_.try_emplace(c.id);
  if (inserted) {
    order_.push_back(c.id);
    make_room();
  }
  it->second.state = Entry::State::kQueued;
  queue_.push_back(Request{c.runtime, c.id});
  if (!worker_.joinable()) worker_ = std::thread([this] { run(); });
  wake_.notify_one();
  return Lookup::kLater;
}

// With mu_ held. A queued entry may go too: its answer is then dropped, and
// the container is queued again at its next lookup.
void ContainerMetadataCache::make_room() {
  while (entries_.size() > cfg_.max_entries) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
}

void ContainerMetadataCache::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (queue_.empty()) {
      if (auto next = expire_due()) {
        wake_.wait_until(lock, *next);
      } else {
        wake_.wait(lock);
      }
      continue;
    }
    Request req = std::move(queue_.front());
    queue_.pop_front();
    ++fetches_;
    lock.unlock();
    // The only place the source is called: no lock held, so lookups carry
    // on while a slow runtime keeps us waiting.
    std::optional<ContainerMetadata> got = source_->fetch(req.runtime, req.id);
    lock.lock();
    store(req, std::move(got));
  }
}

// With mu_ held.
void ContainerMetadataCache::store(const Request& req, std::optional<ContainerMetadata> got) {
  if (auto it = entries_.find(req.id); it != entries_.end()) {
    Entry& e = it->second;
    if (got) {
      e.state = Entry::State::kFound;
      e.metadata = std::move(*got);
    } else {
      spdlog::debug("containers: no metadata for {} container {}", req.runtime, req.id);
      e.state = Entry::State::kNotKnown;
      e.retry_at = std::chrono::steady_clock::now() + cfg_.retry_after;
    }
  }
  generation_.fetch_add(1, std::memory_order_release);
}

// With mu_ held. Negative answers whose time is up become kExpired (and the
// generation moves, so waiting callers look again and queue a fetch);
// returns when the next one is due.
std::optional<std::chrono::steady_clock::time_point> ContainerMetadataCache::expire_due() {
  const auto now = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> next;
  bool expired = false;
  for (auto& [id, e] : entries_) {
    if (e.state != Entry::State::kNotKnown) continue;
    if (e.retry_at <= now) {
      e.state = Entry::State::kExpired;
      expired = true;
    } else if (!next || e.retry_at < *next) {
      next = e.retry_at;
    }
  }
  if (expired) generation_.fetch_add(1, std::memory_order_release);
  return next;
}

size_t ContainerMetadataCache::fetches() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

}  // namespace qtap
