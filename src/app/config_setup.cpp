#include "app/config_setup.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "audit/redactor.h"
#include "common/log.h"
#include "config/kernel_filter.h"
#include "context/cgroup_resolver.h"

namespace qtap::app {

namespace {

config::ParseOptions parse_options() {
  config::ParseOptions p;
  // Body patterns run in Hyperscan: check them with Hyperscan.
  p.body_regex_check = [](std::string_view re) { return Redactor::check_body_pattern(re); };
  return p;
}

// Every port of the ranges, or nothing when they are too many for the
// kernel's table (userspace still applies them).
std::vector<uint16_t> expand(const std::vector<config::PortRange>& ranges, size_t& budget) {
  size_t n = 0;
  for (const auto& r : ranges) n += r.last - r.first + 1u;
  if (n > budget) return {};
  budget -= n;
  std::vector<uint16_t> out;
  for (const auto& r : ranges) {
    for (uint32_t p = r.first; p <= r.last; ++p) out.push_back(static_cast<uint16_t>(p));
  }
  return out;
}

// cgroup v2 paths -> ids (the inode of the directory); unknown paths dropped.
std::vector<uint64_t> cgroup_ids(const std::vector<std::string>& paths, const char* what) {
  std::vector<uint64_t> ids;
  if (paths.empty()) return ids;
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream text;
  text << in.rdbuf();
  auto mount = find_cgroup2_mount(text.str());
  for (const auto& p : paths) {
    struct stat st{};
    std::string dir = mount ? mount->mount_point + p : "";
    if (!mount || stat(dir.c_str(), &st) != 0) {
      spdlog::info("config: cgroup {} ({}) does not exist now; filtered in userspace only", p, what);
      continue;
    }
    ids.push_back(st.st_ino);
  }
  return ids;
}

void add_list(std::string& out, const char* name, size_t n) {
  if (n) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, name);
}

}  // namespace

Result<config::Config> load_startup_config(Options& o) {
  o.config_path = config::config_path(o.config_flag, std::getenv("QTAP_CONFIG"));
  config::Config cfg;
  if (!o.config_path.empty()) {
    auto loaded = config::load_config(o.config_path, parse_options());
    if (!loaded) return loaded.error();
    cfg = std::move(*loaded);
  }
  apply_settings(o, config::resolve_settings(cfg.settings, o.cli));
  return cfg;
}

Result<config::Config> reload_config(const Options& o) {
  if (o.config_path.empty()) return make_error("no config file to reload (start with --config or QTAP_CONFIG)");
  return config::load_config(o.config_path, parse_options());
}

Result<std::unique_ptr<Policy>> make_policy(const config::Config& cfg, const Options& o) {
  return Policy::make(cfg, o.no_redact);
}

probes::KernelFilter kernel_filter_for(const config::Config& cfg, const Options& o) {
  config::KernelFilter k = config::kernel_filter(cfg);
  k.restrict_to_pids(o.pids);
  probes::KernelFilter f;
  f.only_listed_pids = k.drop_all;
  if (!k.drop_all) {
    f.include_pids = k.only_pids;
    f.exclude_pids = k.exclude_pids;
    f.include_cgroups = cgroup_ids(k.only_cgroups, "only");
    // Only-cgroups none of which exists: nothing can match yet. Leave it to
    // userspace rather than drop everything in the kernel.
    f.exclude_cgroups = cgroup_ids(k.exclude_cgroups, "exclude");
    size_t budget = 8192;  // entries of the kernel's port table
    f.exclude_local_ports = expand(k.exclude_local_ports, budget);
    f.exclude_remote_ports = expand(k.exclude_remote_ports, budget);
    f.only_local_ports = expand(k.only_local_ports, budget);
    f.only_remote_ports = expand(k.only_remote_ports, budget);
    f.drop_loopback = k.drop_loopback;
    f.only_egress = k.only_direction == Direction::kEgress;
    f.only_ingress = k.only_direction == Direction::kIngress;
  }
  return f;
}

std::string describe(const probes::KernelFilter& f) {
  if (f.only_listed_pids && f.include_pids.empty()) return "drop everything (no rule captures anything)";
  std::string out;
  add_list(out, "pid(s) only", f.include_pids.size());
  add_list(out, "pid(s) excluded", f.exclude_pids.size());
  add_list(out, "cgroup(s) only", f.include_cgroups.size());
  add_list(out, "cgroup(s) excluded", f.exclude_cgroups.size());
  add_list(out, "local port(s) excluded", f.exclude_local_ports.size());
  add_list(out, "remote port(s) excluded", f.exclude_remote_ports.size());
  add_list(out, "local port(s) only", f.only_local_ports.size());
  add_list(out, "remote port(s) only", f.only_remote_ports.size());
  if (f.drop_loopback) out += out.empty() ? "loopback dropped" : ", loopback dropped";
  if (f.only_egress) out += out.empty() ? "egress only" : ", egress only";
  if (f.only_ingress) out += out.empty() ? "ingress only" : ", ingress only";
  return out.empty() ? "none" : out;
}

}  // namespace qtap::app
