#include "context/process_cache.h"

#include <sys/utsname.h>

#include <list>
#include <unordered_map>

#include "common/log.h"
#include "context/cgroup_resolver.h"
#include "context/container_metadata.h"
#include "context/docker_source.h"
#include "context/proc_files.h"
#include "context/user_names.h"

namespace qtap {

namespace {

constexpr size_t kCommMax = 15;  // TASK_COMM_LEN - 1

std::string_view basename_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Replays have no runtime to ask: the containers of their events are long gone.
std::unique_ptr<ContainerMetadataSource> default_source(const ContextConfig& cfg) {
  if (cfg.proc_root.empty() || cfg.docker_socket.empty()) return nullptr;
  return std::make_unique<DockerSource>(cfg.docker_socket, cfg.runtime_timeout);
}

}  // namespace

struct ProcessCache::Impl {
  struct Entry {
    // Shared with the records that carry it: a change (container metadata
    // arriving) makes a new object, so a pointer always names one content.
    std::shared_ptr<const ProcessInfo> info;
    std::list<uint32_t>::iterator order;
    // The metadata generation at the last lookup of the container when it
    // said kLater; nullopt when there is nothing more to wait for.
    std::optional<uint64_t> metadata_wait;
  };

  Impl(ContextConfig c, std::unique_ptr<ContainerMetadataSource> source)
      : cfg(std::move(c)),
        proc(cfg.proc_root),
        users(cfg.passwd_path),
        cgroups(CgroupResolverConfig{.proc_root = cfg.proc_root,
                                     .cgroup_root = cfg.cgroup_root,
                                     .max_entries = cfg.max_cgroups}) {
    if (cfg.max_processes == 0) cfg.max_processes = 1;
    if (source) metadata = std::make_unique<ContainerMetadataCache>(std::move(source));
  }

  const std::shared_ptr<const ProcessInfo>& insert(uint32_t pid, ProcessInfo info) {
    erase(pid);
    while (entries.size() >= cfg.max_processes) {
      // Oldest inserted, not least recently used: a hit stays one lookup with
      // no bookkeeping. An evicted live process is read from /proc again on
      // its next get(); one that missed its exit event ages out.
      spdlog::debug("context: process table full ({}), forgetting pid {}", cfg.max_processes,
                    order.front());
      entries.erase(order.front());
      order.pop_front();
    }
    order.push_back(pid);
    std::optional<uint64_t> wait = add_metadata(info);
    auto [it, _] = entries.emplace(
        pid, Entry{std::make_shared<const ProcessInfo>(std::move(info)), std::prev(order.end()), wait});
    return it->second.info;
  }

  // Fills in what the runtime has said about the process's container so far.
  // Returns the generation to wait past when more may come.
  std::optional<uint64_t> add_metadata(ProcessInfo& info) {
    if (!info.container || !metadata) return std::nullopt;
    // Read before the lookup: an answer stored in between moves it past this.
    uint64_t generation = metadata->generation();
    if (metadata->lookup(*info.container) != ContainerMetadataCache::Lookup::kLater) {
      return std::nullopt;
    }
    return generation;
  }

  const std::shared_ptr<const ProcessInfo>& hit(Entry& e) {
    if (e.metadata_wait && *e.metadata_wait != metadata->generation()) {
      ProcessInfo updated = *e.info;
      e.metadata_wait = add_metadata(updated);
      if (!(updated == *e.info)) e.info = std::make_shared<const ProcessInfo>(std::move(updated));
    }
    return e.info;
  }

  void erase(uint32_t pid) {
    auto it = entries.find(pid);
    if (it == entries.end()) return;
    order.erase(it->second.order);
    entries.erase(it);
  }

  std::string cgroup_of(uint64_t cgroup_id) {
    if (cgroup_id == 0) return "";
    return cgroups.path_of(cgroup_id).value_or("");
  }

  void finish(ProcessInfo& info) {
    info.user = users.name_of(info.uid);
    info.container = container_from_cgroup(info.cgroup);
  }

  // /proc/PID as it is now; nullopt when the process is gone. comm and
  // status stay readable for any live process (exe needs ptrace rights).
  std::optional<ProcessInfo> read_proc(uint32_t pid, const ProcessHint& hint) {
    auto comm = proc.comm(pid);
    auto uid = proc.uid(pid);
    if (!comm && !uid) return std::nullopt;
    ProcessInfo info;
    info.pid = pid;
    info.comm = comm ? *comm : std::string(until_nul(hint.comm));
    info.uid = uid ? *uid : hint.uid;
    info.exe = proc.exe(pid).value_or("");
    info.cmdline = proc.cmdline(pid, cfg.max_cmdline_bytes).value_or("");
    auto cgroup = proc.cgroup(pid);
    info.cgroup = cgroup ? *cgroup : cgroup_of(hint.cgroup_id);
    info.netns = proc.netns(pid).value_or(0);
    finish(info);
    return info;
  }

  ProcessInfo from_hint(uint32_t pid, const ProcessHint& hint) {
    ProcessInfo info;
    info.pid = pid;
    info.comm = until_nul(hint.comm);
    info.uid = hint.uid;
    info.cgroup = cgroup_of(hint.cgroup_id);
    finish(info);
    add_metadata(info);
    return info;
  }

  ContextConfig cfg;
  ProcReader proc;
  UserNames users;
  CgroupResolver cgroups;
  std::unique_ptr<ContainerMetadataCache> metadata;  // null: no runtime to ask
  std::unordered_map<uint32_t, Entry> entries;
  std::list<uint32_t> order;  // pids, oldest inserted first
  std::shared_ptr<const ProcessInfo> gone;  // the last hint-only answer (not cached)
};

ProcessCache::ProcessCache(ContextConfig cfg) : ProcessCache(cfg, default_source(cfg)) {}

ProcessCache::ProcessCache(ContextConfig cfg, std::unique_ptr<ContainerMetadataSource> metadata)
    : impl_(std::make_unique<Impl>(std::move(cfg), std::move(metadata))) {}

ProcessCache::~ProcessCache() = default;

void ProcessCache::on_exec(uint32_t pid, const ProcessHint& hint, std::string_view filename,
                           std::string_view args) {
  ProcessInfo info;
  info.pid = pid;
  info.uid = hint.uid;
  filename = until_nul(filename);

  // The link names the real file (symlinks resolved: /usr/bin/python3 ->
  // /usr/bin/python3.11), the same answer a process found in /proc gets. The
  // event is handled milliseconds after the exec; if the process is already
  // gone (or exec'd again) the name as given is the best there is.
  info.exe = impl_->proc.exe(pid).value_or(std::string(filename));

  info.comm = until_nul(hint.comm);
  if (info.comm.empty()) info.comm = basename_of(filename).substr(0, kCommMax);
  info.cmdline = join_args(args, impl_->cfg.max_cmdline_bytes);

  // /proc/PID/cgroup also names the v1 hierarchies, which the v2 id cannot
  // on hybrid hosts; the id is the fallback for a process already gone.
  auto cgroup = impl_->proc.cgroup(pid);
  info.cgroup = cgroup ? *cgroup : impl_->cgroup_of(hint.cgroup_id);
  info.netns = impl_->proc.netns(pid).value_or(0);
  impl_->finish(info);
  impl_->insert(pid, std::move(info));
}

const std::shared_ptr<const ProcessInfo>& ProcessCache::share(uint32_t pid, const ProcessHint& hint) {
  if (auto it = impl_->entries.find(pid); it != impl_->entries.end()) return impl_->hit(it->second);
  if (auto info = impl_->read_proc(pid, hint)) return impl_->insert(pid, std::move(*info));
  spdlog::debug("context: pid {} is gone; context from the event only", pid);
  ProcessInfo info = impl_->from_hint(pid, hint);
  // The same answer as last time keeps its object (and the sinks' caches keyed on it).
  if (!impl_->gone || !(*impl_->gone == info)) impl_->gone = std::make_shared<const ProcessInfo>(std::move(info));
  return impl_->gone;
}

const ProcessInfo& ProcessCache::get(uint32_t pid, const ProcessHint& hint) { return *share(pid, hint); }

void ProcessCache::seed(ProcessInfo info) {
  const uint32_t pid = info.pid;
  impl_->insert(pid, std::move(info));
}

void ProcessCache::on_exit(uint32_t pid) { impl_->erase(pid); }

size_t ProcessCache::size() const { return impl_->entries.size(); }

const std::string& host_name() {
  static const std::string name = [] {
    utsname u{};
    if (::uname(&u) != 0) {
      spdlog::warn("uname failed; host name unknown");
      return std::string();
    }
    return std::string(u.nodename);
  }();
  return name;
}

}  // namespace qtap
