// Container and pod identity from a cgroup path. Runtimes name the cgroup of
// a container after its id; the shapes seen in the wild:
//   docker (cgroupfs)      /docker/<id>
//   docker (systemd)       /system.slice/docker-<id>.scope
//   k8s cgroupfs           /kubepods/<qos>/pod<uid>/<id>
//   k8s systemd            /kubepods.slice/kubepods-<qos>.slice/
//                            kubepods-<qos>-pod<uid_>.slice/cri-containerd-<id>.scope
//                          (crio-<id>.scope, docker-<id>.scope with dockershim)
//   containerd on a v1 name=systemd hierarchy
//                          /system.slice/containerd.service/
//                            kubepods-<qos>-pod<uid_>.slice:cri-containerd:<id>
//   podman                 /machine.slice/libpod-<id>.scope[/container]
// The last component that matches wins, so nested runtimes (docker in docker)
// name the innermost container and a systemd "init.scope" or crun
// "container" child still resolves to its container.
#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "context/process_cache.h"

namespace qtap {

namespace {

constexpr size_t kContainerIdLen = 64;

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

bool is_container_id(std::string_view s) { return s.size() == kContainerIdLen && is_hex(s); }

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t slash = path.find('/', pos);
    size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (end > pos) out.push_back(path.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

// Runtime prefixes of a systemd scope (or cgroupfs directory) named after the
// container. The monitor processes live in "crio-conmon-<id>" and
// "libpod-conmon-<id>": their rest is not a bare id, so they never match.
constexpr std::array<std::string_view, 4> kRuntimePrefixes = {"docker-", "cri-containerd-", "crio-",
                                                              "libpod-"};

// Top-level cgroups under which a bare 64-hex directory is a container.
bool is_container_parent_root(std::string_view c) {
  return c == "docker" || c.starts_with("kubepods") || c == "ecs" || c == "actions_job";
}

std::optional<std::string> normalize_pod_uid(std::string_view raw) {
  std::string uid = lowercase(raw);
  std::replace(uid.begin(), uid.end(), '_', '-');
  // A UUID (8-4-4-4-12), or the 32-hex hash kubelet gives static pods.
  if (uid.size() == 32 && is_hex(uid)) return uid;
  if (uid.size() != 36) return std::nullopt;
  for (size_t i = 0; i < uid.size(); ++i) {
    bool dash_slot = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_slot ? uid[i] != '-' : std::isxdigit(static_cast<unsigned char>(uid[i])) == 0) {
      return std::nullopt;
    }
  }
  return uid;
}

std::optional<std::string> pod_uid_in_component(std::string_view c) {
  // "kubepods-besteffort-pod<uid_>.slice:cri-containerd:<id>": the slice part.
  c = c.substr(0, c.find(':'));
  if (c.ends_with(".slice")) {
    c.remove_suffix(std::string_view(".slice").size());
    size_t pod = c.rfind("-pod");
    if (pod == std::string_view::npos) return std::nullopt;
    return normalize_pod_uid(c.substr(pod + 4));
  }
  if (c.starts_with("pod")) return normalize_pod_uid(c.substr(3));
  return std::nullopt;
}

std::optional<std::string> container_id_in_component(std::string_view c, bool bare_ok) {
  if (size_t colon = c.rfind(':'); colon != std::string_view::npos) {
    // systemd "slice:prefix:name" notation of the containerd / cri-o cgroup drivers.
    std::string_view id = c.substr(colon + 1);
    std::string_view rest = c.substr(0, colon);
    std::string_view prefix = rest.substr(rest.rfind(':') + 1);  // npos + 1 == 0
    bool runtime =
        prefix == "cri-containerd" || prefix == "crio" || prefix == "docker" || prefix == "libpod";
    if (runtime && is_container_id(id)) return lowercase(id);
    return std::nullopt;
  }
  if (c.ends_with(".scope")) c.remove_suffix(std::string_view(".scope").size());
  for (std::string_view prefix : kRuntimePrefixes) {
    if (c.starts_with(prefix) && is_container_id(c.substr(prefix.size()))) {
      return lowercase(c.substr(prefix.size()));
    }
  }
  if (bare_ok && is_container_id(c)) return lowercase(c);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> container_id_from_cgroup(std::string_view cgroup_path) {
  auto parts = components(cgroup_path);
  // A bare id counts under a known root, or directly under a pod directory
  // (cgroup namespaces show "/../../pod<uid>/<id>").
  size_t first_root = parts.size();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (is_container_parent_root(parts[i])) {
      first_root = i;
      break;
    }
  }
  for (size_t i = parts.size(); i-- > 0;) {
    bool bare_ok = i > first_root || (i > 0 && pod_uid_in_component(parts[i - 1]).has_value() &&
                                      parts[i - 1].starts_with("pod"));
    if (auto id = container_id_in_component(parts[i], bare_ok)) return id;
  }
  return std::nullopt;
}

std::optional<std::string> pod_uid_from_cgroup(std::string_view cgroup_path) {
  auto parts = components(cgroup_path);
  for (size_t i = parts.size(); i-- > 0;) {
    if (auto uid = pod_uid_in_component(parts[i])) return uid;
  }
  return std::nullopt;
}

}  // namespace qtap
