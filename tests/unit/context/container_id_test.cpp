#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "context/container_info.h"

namespace qtap {
namespace {

const std::string kId = "34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376";
const std::string kId2 = "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d";
const std::string kPodUid = "74c13223-5a00-11e9-b385-42010a80018d";
const std::string kPodSlice = "74c13223_5a00_11e9_b385_42010a80018d";

// A path and the container it names: runtime and id, nullopt for the host.
struct Case {
  std::string path;
  std::optional<std::pair<std::string, std::string>> container;
};

std::optional<std::pair<std::string, std::string>> in(std::string runtime, std::string id) {
  return std::pair{std::move(runtime), std::move(id)};
}

constexpr std::nullopt_t kHost = std::nullopt;

void expect_all(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    auto got = container_from_cgroup(c.path);
    ASSERT_EQ(got.has_value(), c.container.has_value()) << c.path;
    if (!got) continue;
    EXPECT_EQ(got->runtime, c.container->first) << c.path;
    EXPECT_EQ(got->id, c.container->second) << c.path;
  }
}

std::optional<std::string> pod_uid_of(const std::string& path) {
  auto c = container_from_cgroup(path);
  if (!c) return std::nullopt;
  return c->pod_uid;
}

TEST(ContainerFromCgroup, Docker) {
  expect_all({
      {"/docker/" + kId, in("docker", kId)},                          // cgroupfs driver
      {"/system.slice/docker-" + kId + ".scope", in("docker", kId)},  // systemd driver
      {"/docker/" + kId + "/init.scope", in("docker", kId)},      // systemd inside the container
      {"/docker/" + kId2 + "/docker/" + kId, in("docker", kId)},  // docker in docker: innermost
      {"/user.slice/user-1000.slice/user@1000.service/user.slice/docker-" + kId + ".scope",
       in("docker", kId)},  // rootless
      {"/" + kId, kHost},   // bare id, no known parent
  });
}

TEST(ContainerFromCgroup, KubernetesCgroupfs) {
  // Containers of kubelet's cgroupfs driver are bare ids: the path does not
  // say which runtime made them.
  expect_all({
      {"/kubepods/besteffort/pod" + kPodUid + "/" + kId, in("", kId)},
      {"/kubepods/burstable/pod" + kPodUid + "/" + kId, in("", kId)},
      {"/kubepods/pod" + kPodUid + "/" + kId, in("", kId)},  // guaranteed
      {"/../../pod" + kPodUid + "/" + kId, in("", kId)},     // seen from another cgroup namespace
      {"/kubepods/burstable/pod" + kPodUid, kHost},          // the pod, not a container
      {"/kubepods/burstable/pod" + kPodUid + "/crio-" + kId, in("cri-o", kId)},
      {"/kubepods/burstable/pod" + kPodUid + "/crio-conmon-" + kId, kHost},
  });
}

TEST(ContainerFromCgroup, KubernetesSystemd) {
  const std::string besteffort =
      "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kPodSlice + ".slice";
  const std::string guaranteed = "/kubepods.slice/kubepods-pod" + kPodSlice + ".slice";
  expect_all({
      {besteffort + "/cri-containerd-" + kId + ".scope", in("containerd", kId)},
      {guaranteed + "/cri-containerd-" + kId + ".scope", in("containerd", kId)},
      {besteffort + "/docker-" + kId + ".scope", in("docker", kId)},  // dockershim
      {guaranteed + "/crio-" + kId + ".scope", in("cri-o", kId)},
      {guaranteed + "/crio-" + kId + ".scope/container", in("cri-o", kId)},
      {guaranteed + "/crio-conmon-" + kId + ".scope", kHost},
      {besteffort, kHost},
      {"/kubepods.slice/kubepods-burstable.slice", kHost},
      {"/kubepods.slice", kHost},
      // kind nodes nest the whole tree under kubelet.slice
      {"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
       "kubelet-kubepods-besteffort-pod" +
           kPodSlice + ".slice/cri-containerd-" + kId + ".scope",
       in("containerd", kId)},
      // containerd's systemd driver as shown on a v1 name=systemd hierarchy
      {"/system.slice/containerd.service/kubepods-besteffort-pod" + kPodSlice +
           ".slice:cri-containerd:" + kId,
       in("containerd", kId)},
      {"/kubepods-burstable-pod" + kPodSlice + ".slice:crio:" + kId, in("cri-o", kId)},
      {"/kubepods-burstable-pod" + kPodSlice + ".slice:docker:" + kId, in("docker", kId)},
      {"/kubepods-burstable-pod" + kPodSlice + ".slice:crio-conmon:" + kId, kHost},
      {"/kubepods-burstable-pod" + kPodSlice + ".slice:other:" + kId, kHost},
      {"/system.slice/containerd.service", kHost},
  });
}

TEST(ContainerFromCgroup, CriOCgroupNamespace) {
  expect_all({{"/../crio-" + kId + ".scope", in("cri-o", kId)}});
}

TEST(ContainerFromCgroup, Podman) {
  expect_all({
      {"/machine.slice/libpod-" + kId + ".scope", in("podman", kId)},
      {"/machine.slice/libpod-" + kId + ".scope/container", in("podman", kId)},
      {"/machine.slice/machine-libpod_pod_0123456789abcdef.slice/libpod-" + kId + ".scope",
       in("podman", kId)},
      {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId + ".scope",
       in("podman", kId)},
      {"/libpod_parent/libpod-" + kId, in("podman", kId)},  // cgroupfs manager
      {"/machine.slice/libpod-conmon-" + kId + ".scope", kHost},
      {"/machine.slice/machine-libpod_pod_0123456789abcdef.slice", kHost},  // the pod's slice
  });
}

TEST(ContainerFromCgroup, SystemdNspawnIsNamedByItsMachine) {
  expect_all({
      // machinectl start web
      {"/machine.slice/systemd-nspawn@web.service/payload", in("systemd-nspawn", "web")},
      {"/machine.slice/systemd-nspawn@web.service/payload/system.slice/nginx.service",
       in("systemd-nspawn", "web")},
      {"/machine.slice/systemd-nspawn@web.service/supervisor", kHost},
      {"/machine.slice/systemd-nspawn@my\\x2dbox.service/payload/init.scope",
       in("systemd-nspawn", "my-box")},
      // systemd-nspawn -D ... run by hand
      {"/machine.slice/machine-web.scope", in("systemd-nspawn", "web")},
      {"/machine.slice/machine-web.scope/payload", in("systemd-nspawn", "web")},
      {"/machine.slice/machine-web.scope/payload/system.slice/nginx.service",
       in("systemd-nspawn", "web")},
      {"/machine.slice/machine-my\\x2dbox.scope/init.scope", in("systemd-nspawn", "my-box")},
      // docker inside the machine: the innermost container
      {"/machine.slice/machine-web.scope/payload/system.slice/docker-" + kId + ".scope",
       in("docker", kId)},
      // systemd-nspawn itself, beside the payload
      {"/machine.slice/machine-web.scope/supervisor", kHost},
      // libvirt VMs register with machined too; their qemu is a host process
      {"/machine.slice/machine-qemu\\x2d1\\x2dubuntu.scope", kHost},
      {"/machine.slice/machine-qemu\\x2d1\\x2dubuntu.scope/libvirt/emulator", kHost},
      {"/machine.slice", kHost},
      {"/machine.slice/machine-.scope", kHost},
  });
  auto c = container_from_cgroup("/machine.slice/machine-my\\x2dbox.scope");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->name, "my-box");
  EXPECT_EQ(c->pod_uid, "");
}

TEST(ContainerFromCgroup, LxcPayload) {
  expect_all({
      {"/lxc.payload.web1", in("lxc", "web1")},
      {"/lxc.payload.web1/init.scope", in("lxc", "web1")},
      {"/lxc.payload.web1/system.slice/nginx.service", in("lxc", "web1")},
      {"/lxc.payload.default_web.1", in("lxc", "default_web.1")},  // lxd project prefix
      {"/lxc.monitor.web1", kHost},                                // the monitor, host side
      {"/lxc.payload.", kHost},
      {"/lxc/" + kId, kHost},  // LXC < 4 layout, not recognised
  });
  EXPECT_EQ(container_from_cgroup("/lxc.payload.web1")->name, "web1");
}

TEST(ContainerFromCgroup, OtherKnownParents) {
  expect_all({
      {"/ecs/0123456789abcdef0123456789abcdef/" + kId, in("docker", kId)},
      {"/actions_job/" + kId, in("docker", kId)},
  });
}

TEST(ContainerFromCgroup, UppercaseIsLowered) {
  std::string upper = kId;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  expect_all({
      {"/docker/" + upper, in("docker", kId)},
      {"/system.slice/docker-" + upper + ".scope", in("docker", kId)},
  });
}

TEST(ContainerFromCgroup, HostCgroupsAreNotContainers) {
  expect_all({
      {"", kHost},
      {"/", kHost},
      {"/init.scope", kHost},
      {"/user.slice/user-1000.slice/session-3.scope", kHost},
      {"/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-1234.scope",
       kHost},
      {"/system.slice/nginx.service", kHost},
      {"/system.slice/docker.service", kHost},
      {"/system.slice/containerd.service", kHost},
      {"/system.slice/crio.service", kHost},
      {"/system.slice/lxc-monitord.service", kHost},
      {"/system.slice/machines.target", kHost},
      {"/process_api/b1632ff3db7b3621e5c9a3743616c19a", kHost},
      {"/docker", kHost},
      {"/docker/buildx", kHost},
      // one hex digit short / long, and a non-hex character
      {"/docker/" + kId.substr(1), kHost},
      {"/docker/" + kId + "0", kHost},
      {"/system.slice/docker-" + kId.substr(0, 63) + "g.scope", kHost},
      {"/system.slice/docker-" + kId.substr(0, 12) + ".scope", kHost},
      {"/system.slice/docker-" + kId + ".mount", kHost},
  });
}

TEST(ContainerFromCgroup, PodUidFromSystemdSlicesUsesDashes) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kPodSlice +
           ".slice/cri-containerd-" + kId + ".scope",
       kPodUid},
      {"/kubepods.slice/kubepods-pod" + kPodSlice + ".slice/crio-" + kId + ".scope", kPodUid},
      {"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
       "kubelet-kubepods-besteffort-pod" +
           kPodSlice + ".slice/cri-containerd-" + kId + ".scope",
       kPodUid},
      {"/system.slice/containerd.service/kubepods-besteffort-pod" + kPodSlice +
           ".slice:cri-containerd:" + kId,
       kPodUid},
      {"/kubepods.slice/kubepods-pod74C13223_5A00_11E9_B385_42010A80018D.slice/cri-containerd-" +
           kId + ".scope",
       kPodUid},
  };
  for (const auto& [path, uid] : cases) EXPECT_EQ(pod_uid_of(path), uid) << path;
}

TEST(ContainerFromCgroup, PodUidFromCgroupfsAndStaticPods) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/kubepods/besteffort/pod" + kPodUid + "/" + kId, kPodUid},
      {"/kubepods/pod" + kPodUid + "/crio-" + kId, kPodUid},
      {"/../../pod" + kPodUid + "/" + kId, kPodUid},
      // static (mirror) pods carry a 32-hex config hash instead of a UUID
      {"/kubepods/burstable/pod6e5b5a1f0d0a63c9d3b4a5c6d7e8f901/" + kId,
       "6e5b5a1f0d0a63c9d3b4a5c6d7e8f901"},
      {"/kubepods.slice/kubepods-burstable.slice/"
       "kubepods-burstable-pod6e5b5a1f0d0a63c9d3b4a5c6d7e8f901.slice/cri-containerd-" +
           kId + ".scope",
       "6e5b5a1f0d0a63c9d3b4a5c6d7e8f901"},
  };
  for (const auto& [path, uid] : cases) EXPECT_EQ(pod_uid_of(path), uid) << path;
}

TEST(ContainerFromCgroup, NoPodUidOutsideAPod) {
  for (const std::string& path : {
           "/docker/" + kId,
           "/system.slice/docker-" + kId + ".scope",
           "/machine.slice/machine-libpod_pod_0123456789abcdef.slice/libpod-" + kId + ".scope",
           "/kubepods/podnot-a-uid/" + kId,
           "/kubepods/pod" + kPodUid.substr(1) + "/" + kId,
           "/kubepods/pod74c13223-5a00-11e9-b385-42010a80018dx/" + kId,
           "/kubepods/pod74c13223x5a00-11e9-b385-42010a80018d/" + kId,
       }) {
    EXPECT_EQ(pod_uid_of(path), "") << path;
  }
}

TEST(ContainerInfo, Label) {
  ContainerInfo c;
  c.labels = {{"app", "web"}, {"empty", ""}};
  ASSERT_NE(c.label("app"), nullptr);
  EXPECT_EQ(*c.label("app"), "web");
  ASSERT_NE(c.label("empty"), nullptr);
  EXPECT_EQ(*c.label("empty"), "");
  EXPECT_EQ(c.label("missing"), nullptr);
}

}  // namespace
}  // namespace qtap
