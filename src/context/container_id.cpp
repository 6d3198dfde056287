// Container and pod identity from a cgroup path. Runtimes name the cgroup of
// a container after its id; the shapes seen in the wild:
//   docker (cgroupfs)      /docker/<id>
//   docker (systemd)       /system.slice/docker-<id>.scope
//   k8s cgroupfs           /kubepods/<qos>/pod<uid>/<id>          (runtime not named)
//                          /kubepods/<qos>/pod<uid>/crio-<id>
//   k8s systemd            /kubepods.slice/kubepods-<qos>.slice/
//                            kubepods-<qos>-pod<uid_>.slice/cri-containerd-<id>.scope
//                          (crio-<id>.scope, docker-<id>.scope with dockershim)
//   containerd on a v1 name=systemd hierarchy
//                          /system.slice/containerd.service/
//                            kubepods-<qos>-pod<uid_>.slice:cri-containerd:<id>
//   podman                 /machine.slice/libpod-<id>.scope[/container]
//   systemd-nspawn         /machine.slice/systemd-nspawn@<name>.service/payload[/...]
//                          /machine.slice/machine-<name>.scope[/payload/...]
//   lxc, lxd, incus        /lxc.payload.<name>[/...]
// The last component that matches wins, so nested runtimes (docker in docker)
// name the innermost container and a systemd "init.scope" or crun
// "container" child still resolves to its container.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <vector>

#include "context/container_info.h"

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

// systemd unit names escape '-' and other bytes as \xNN ("machine-my\x2dbox.scope").
std::string unescape_unit_name(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.substr(i, 2) == "\\x" && i + 3 < s.size()) {
      const char* digits = s.data() + i + 2;
      unsigned byte = 0;
      auto [end, ec] = std::from_chars(digits, digits + 2, byte, 16);
      if (ec == std::errc() && end == digits + 2) {
        out.push_back(static_cast<char>(byte));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

struct Prefix {
  std::string_view text;
  std::string_view runtime;
};

// Runtime prefixes of a systemd scope (or cgroupfs directory) named after the
// container. The monitor processes live in "crio-conmon-<id>" and
// "libpod-conmon-<id>": their rest is not a bare id, so they never match.
constexpr std::array<Prefix, 4> kRuntimePrefixes = {{{"docker-", "docker"},
                                                     {"cri-containerd-", "containerd"},
                                                     {"crio-", "cri-o"},
                                                     {"libpod-", "podman"}}};

// The same prefixes in the "slice:prefix:id" notation of the systemd drivers.
constexpr std::array<Prefix, 4> kColonPrefixes = {{{"docker", "docker"},
                                                   {"cri-containerd", "containerd"},
                                                   {"crio", "cri-o"},
                                                   {"libpod", "podman"}}};

// Top-level cgroups under which a bare 64-hex directory is a container, and
// the runtime that puts it there ("" when several do: kubelet's cgroupfs
// driver looks the same for containerd, cri-o and dockershim).
std::optional<std::string_view> bare_id_root(std::string_view c) {
  // ECS on EC2 and GitHub Actions job containers are docker's.
  if (c == "docker" || c == "ecs" || c == "actions_job") return "docker";
  if (c.starts_with("kubepods")) return "";
  return std::nullopt;
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

ContainerInfo named(std::string_view runtime, std::string id) {
  ContainerInfo c;
  c.runtime = runtime;
  c.id = std::move(id);
  return c;
}

// "slice:prefix:<id>" of the containerd / cri-o cgroup drivers.
std::optional<ContainerInfo> colon_notation(std::string_view c) {
  size_t colon = c.rfind(':');
  std::string_view id = c.substr(colon + 1);
  std::string_view rest = c.substr(0, colon);
  std::string_view prefix = rest.substr(rest.rfind(':') + 1);  // npos + 1 == 0
  if (!is_container_id(id)) return std::nullopt;
  for (const Prefix& p : kColonPrefixes) {
    if (prefix == p.text) return named(p.runtime, lowercase(id));
  }
  return std::nullopt;
}

// A systemd-nspawn container: "systemd-nspawn@<name>.service" when started
// by machinectl, "machine-<name>.scope" when run by hand (the scope any
// machined registration gets). libvirt registers its VMs the same way
// ("machine-qemu\x2d1\x2dvm.scope"): their qemu process is not in a container.
std::optional<ContainerInfo> nspawn_unit(std::string_view c) {
  constexpr std::string_view kService = "systemd-nspawn@";
  constexpr std::string_view kScope = "machine-";
  if (c.starts_with(kService) && c.ends_with(".service")) {
    c.remove_prefix(kService.size());
    c.remove_suffix(std::string_view(".service").size());
  } else if (c.starts_with(kScope) && c.ends_with(".scope")) {
    c.remove_prefix(kScope.size());
    c.remove_suffix(std::string_view(".scope").size());
  } else {
    return std::nullopt;
  }
  std::string name = unescape_unit_name(c);
  if (name.empty() || name.starts_with("qemu-")) return std::nullopt;
  ContainerInfo info = named("systemd-nspawn", name);
  info.name = std::move(name);
  return info;
}

// LXC 4+, LXD and Incus: "lxc.payload.<name>" ("lxc.monitor.<name>" is the
// monitor process on the host side).
std::optional<ContainerInfo> lxc_payload(std::string_view c) {
  constexpr std::string_view kPayload = "lxc.payload.";
  if (!c.starts_with(kPayload) || c.size() == kPayload.size()) return std::nullopt;
  ContainerInfo info = named("lxc", std::string(c.substr(kPayload.size())));
  info.name = info.id;
  return info;
}

// The container a component is named after; bare ids are left to the caller.
std::optional<ContainerInfo> container_in_component(std::string_view c) {
  if (c.find(':') != std::string_view::npos) return colon_notation(c);
  if (auto n = nspawn_unit(c)) return n;
  if (auto l = lxc_payload(c)) return l;
  std::string_view unit = c;
  if (unit.ends_with(".scope")) unit.remove_suffix(std::string_view(".scope").size());
  for (const Prefix& p : kRuntimePrefixes) {
    std::string_view rest = unit.substr(std::min(p.text.size(), unit.size()));
    if (unit.starts_with(p.text) && is_container_id(rest)) return named(p.runtime, lowercase(rest));
  }
  return std::nullopt;
}

// When a bare id at parts[i] is a container: below a known root (the nearest
// one names the runtime), or directly under a pod directory (cgroup
// namespaces show "/../../pod<uid>/<id>").
std::optional<std::string_view> bare_runtime_at(const std::vector<std::string_view>& parts,
                                                size_t i) {
  for (size_t j = i; j-- > 0;) {
    if (auto runtime = bare_id_root(parts[j])) return runtime;
  }
  if (i > 0 && parts[i - 1].starts_with("pod") && pod_uid_in_component(parts[i - 1])) {
    return std::string_view();
  }
  return std::nullopt;
}

std::string pod_uid_of(const std::vector<std::string_view>& parts) {
  for (size_t i = parts.size(); i-- > 0;) {
    if (auto uid = pod_uid_in_component(parts[i])) return *uid;
  }
  return "";
}

}  // namespace

std::optional<ContainerInfo> container_from_cgroup(std::string_view cgroup_path) {
  auto parts = components(cgroup_path);
  for (size_t i = parts.size(); i-- > 0;) {
    auto found = container_in_component(parts[i]);
    if (!found && is_container_id(parts[i])) {
      if (auto runtime = bare_runtime_at(parts, i)) found = named(*runtime, lowercase(parts[i]));
    }
    if (!found) continue;
    // systemd-nspawn moves itself to "supervisor" beside the container's "payload".
    if (found->runtime == "systemd-nspawn" && i + 1 < parts.size() &&
        parts[i + 1] == "supervisor") {
      continue;
    }
    found->pod_uid = pod_uid_of(parts);
    return found;
  }
  return std::nullopt;
}

}  // namespace qtap
