// The container a process runs in: what its cgroup path says (runtime, id,
// pod UID), and what the runtime says when it can be asked (name, image,
// labels). One struct for the records and for the capture rules.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qtap {

struct ContainerInfo {
  // "docker", "containerd", "cri-o", "podman", "systemd-nspawn", "lxc"; empty
  // when the path names a container but not its runtime (kubepods cgroupfs).
  std::string runtime;
  // 64 lowercase hex digits; systemd-nspawn and lxc name their containers
  // instead of numbering them, so there it is the machine / container name.
  std::string id;
  std::string pod_uid;  // Kubernetes pod UID with dashes; empty outside a pod
  // From the runtime (empty until it answered, or when it cannot be asked):
  std::string name;   // e.g. "web-1" (docker's leading '/' removed)
  std::string image;  // as the runtime reports it, e.g. "docker.io/library/nginx:1.25"
  std::vector<std::pair<std::string, std::string>> labels;  // sorted by key
  std::string pod_name;                                     // label io.kubernetes.pod.name
  std::string pod_namespace;                                // label io.kubernetes.pod.namespace

  bool operator==(const ContainerInfo&) const = default;

  // The value of label `key`, nullptr if absent (present and empty is "").
  const std::string* label(std::string_view key) const {
    for (const auto& [k, v] : labels) {
      if (k == key) return &v;
    }
    return nullptr;
  }
};

// The container a cgroup path names (docker, containerd, cri-o, podman,
// systemd-nspawn, lxc and bare kubepods shapes), with runtime, id and pod UID
// filled; nullopt for host cgroups. See container_id.cpp for the shapes.
std::optional<ContainerInfo> container_from_cgroup(std::string_view cgroup_path);

}  // namespace qtap
