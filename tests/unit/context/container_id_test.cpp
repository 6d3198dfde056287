#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "context/process_cache.h"

namespace qtap {
namespace {

const std::string kId = "34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376";
const std::string kId2 = "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d";
const std::string kPodUid = "74c13223-5a00-11e9-b385-42010a80018d";
const std::string kPodSlice = "74c13223_5a00_11e9_b385_42010a80018d";

struct Case {
  std::string path;
  std::optional<std::string> id;
};

void expect_all(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    EXPECT_EQ(container_id_from_cgroup(c.path), c.id) << c.path;
  }
}

TEST(ContainerIdFromCgroup, Docker) {
  expect_all({
      {"/docker/" + kId, kId},                          // cgroupfs driver
      {"/system.slice/docker-" + kId + ".scope", kId},  // systemd driver
      {"/docker/" + kId + "/init.scope", kId},          // systemd inside the container
      {"/docker/" + kId2 + "/docker/" + kId, kId},      // docker in docker: innermost
      {"/user.slice/user-1000.slice/user@1000.service/user.slice/docker-" + kId + ".scope",
       kId},                      // rootless
      {"/" + kId, std::nullopt},  // bare id, no known parent
  });
}

TEST(ContainerIdFromCgroup, KubernetesCgroupfs) {
  expect_all({
      {"/kubepods/besteffort/pod" + kPodUid + "/" + kId, kId},
      {"/kubepods/burstable/pod" + kPodUid + "/" + kId, kId},
      {"/kubepods/pod" + kPodUid + "/" + kId, kId},         // guaranteed
      {"/../../pod" + kPodUid + "/" + kId, kId},            // seen from another cgroup namespace
      {"/kubepods/burstable/pod" + kPodUid, std::nullopt},  // the pod, not a container
      {"/kubepods/burstable/pod" + kPodUid + "/crio-" + kId, kId},
      {"/kubepods/burstable/pod" + kPodUid + "/crio-conmon-" + kId, std::nullopt},
  });
}

TEST(ContainerIdFromCgroup, KubernetesSystemd) {
  const std::string besteffort =
      "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kPodSlice + ".slice";
  const std::string guaranteed = "/kubepods.slice/kubepods-pod" + kPodSlice + ".slice";
  expect_all({
      {besteffort + "/cri-containerd-" + kId + ".scope", kId},
      {guaranteed + "/cri-containerd-" + kId + ".scope", kId},
      {besteffort + "/docker-" + kId + ".scope", kId},  // dockershim
      {guaranteed + "/crio-" + kId + ".scope", kId},
      {guaranteed + "/crio-" + kId + ".scope/container", kId},
      {guaranteed + "/crio-conmon-" + kId + ".scope", std::nullopt},
      {besteffort, std::nullopt},
      {"/kubepods.slice/kubepods-burstable.slice", std::nullopt},
      {"/kubepods.slice", std::nullopt},
      // kind nodes nest the whole tree under kubelet.slice
      {"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
       "kubelet-kubepods-besteffort-pod" +
           kPodSlice + ".slice/cri-containerd-" + kId + ".scope",
       kId},
      // containerd's systemd driver as shown on a v1 name=systemd hierarchy
      {"/system.slice/containerd.service/kubepods-besteffort-pod" + kPodSlice +
           ".slice:cri-containerd:" + kId,
       kId},
      {"/kubepods-burstable-pod" + kPodSlice + ".slice:crio:" + kId, kId},
      {"/kubepods-burstable-pod" + kPodSlice + ".slice:crio-conmon:" + kId, std::nullopt},
      {"/system.slice/containerd.service", std::nullopt},
  });
}

TEST(ContainerIdFromCgroup, CriOCgroupNamespace) {
  expect_all({{"/../crio-" + kId + ".scope", kId}});
}

TEST(ContainerIdFromCgroup, Podman) {
  expect_all({
      {"/machine.slice/libpod-" + kId + ".scope", kId},
      {"/machine.slice/libpod-" + kId + ".scope/container", kId},
      {"/machine.slice/machine-libpod_pod_0123456789abcdef.slice/libpod-" + kId + ".scope", kId},
      {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId + ".scope", kId},
      {"/libpod_parent/libpod-" + kId, kId},  // cgroupfs manager
      {"/machine.slice/libpod-conmon-" + kId + ".scope", std::nullopt},
  });
}

TEST(ContainerIdFromCgroup, OtherKnownParents) {
  expect_all({
      {"/ecs/0123456789abcdef0123456789abcdef/" + kId, kId},
      {"/actions_job/" + kId, kId},
      {"/lxc/" + kId, std::nullopt},
  });
}

TEST(ContainerIdFromCgroup, UppercaseIsLowered) {
  std::string upper = kId;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(container_id_from_cgroup("/docker/" + upper), std::optional<std::string>(kId));
  EXPECT_EQ(container_id_from_cgroup("/system.slice/docker-" + upper + ".scope"),
            std::optional<std::string>(kId));
}

TEST(ContainerIdFromCgroup, HostCgroupsAreNotContainers) {
  expect_all({
      {"", std::nullopt},
      {"/", std::nullopt},
      {"/init.scope", std::nullopt},
      {"/user.slice/user-1000.slice/session-3.scope", std::nullopt},
      {"/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-1234.scope",
       std::nullopt},
      {"/system.slice/nginx.service", std::nullopt},
      {"/system.slice/docker.service", std::nullopt},
      {"/system.slice/containerd.service", std::nullopt},
      {"/system.slice/crio.service", std::nullopt},
      {"/process_api/b1632ff3db7b3621e5c9a3743616c19a", std::nullopt},
      {"/docker", std::nullopt},
      {"/docker/buildx", std::nullopt},
      // one hex digit short / long, and a non-hex character
      {"/docker/" + kId.substr(1), std::nullopt},
      {"/docker/" + kId + "0", std::nullopt},
      {"/system.slice/docker-" + kId.substr(0, 63) + "g.scope", std::nullopt},
      {"/system.slice/docker-" + kId.substr(0, 12) + ".scope", std::nullopt},
      {"/system.slice/docker-" + kId + ".mount", std::nullopt},
  });
}

TEST(PodUidFromCgroup, SystemdSlicesUseUnderscores) {
  const std::vector<std::pair<std::string, std::optional<std::string>>> cases = {
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kPodSlice +
           ".slice/cri-containerd-" + kId + ".scope",
       kPodUid},
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kPodSlice + ".slice",
       kPodUid},
      {"/kubepods.slice/kubepods-pod" + kPodSlice + ".slice/crio-" + kId + ".scope", kPodUid},
      {"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
       "kubelet-kubepods-besteffort-pod" +
           kPodSlice + ".slice/cri-containerd-" + kId + ".scope",
       kPodUid},
      {"/system.slice/containerd.service/kubepods-besteffort-pod" + kPodSlice +
           ".slice:cri-containerd:" + kId,
       kPodUid},
      {"/kubepods.slice/kubepods-pod74C13223_5A00_11E9_B385_42010A80018D.slice", kPodUid},
  };
  for (const auto& [path, uid] : cases) EXPECT_EQ(pod_uid_from_cgroup(path), uid) << path;
}

TEST(PodUidFromCgroup, CgroupfsAndStaticPods) {
  const std::vector<std::pair<std::string, std::optional<std::string>>> cases = {
      {"/kubepods/besteffort/pod" + kPodUid + "/" + kId, kPodUid},
      {"/kubepods/pod" + kPodUid, kPodUid},
      {"/../../pod" + kPodUid + "/" + kId, kPodUid},
      // static (mirror) pods carry a 32-hex config hash instead of a UUID
      {"/kubepods/burstable/pod6e5b5a1f0d0a63c9d3b4a5c6d7e8f901/" + kId,
       "6e5b5a1f0d0a63c9d3b4a5c6d7e8f901"},
      {"/kubepods.slice/kubepods-burstable.slice/"
       "kubepods-burstable-pod6e5b5a1f0d0a63c9d3b4a5c6d7e8f901.slice",
       "6e5b5a1f0d0a63c9d3b4a5c6d7e8f901"},
  };
  for (const auto& [path, uid] : cases) EXPECT_EQ(pod_uid_from_cgroup(path), uid) << path;
}

TEST(PodUidFromCgroup, NotInAPod) {
  for (const std::string& path : {
           std::string(""),
           std::string("/"),
           std::string("/kubepods.slice"),
           std::string("/kubepods.slice/kubepods-besteffort.slice"),
           std::string("/kubepods/burstable"),
           "/docker/" + kId,
           "/system.slice/docker-" + kId + ".scope",
           std::string("/system.slice/podman.service"),
           std::string("/machine.slice/machine-libpod_pod_0123456789abcdef.slice"),
           std::string("/kubepods/podnot-a-uid"),
           "/kubepods/pod" + kPodUid.substr(1),
           std::string("/kubepods/pod74c13223-5a00-11e9-b385-42010a80018dx"),
           std::string("/kubepods/pod74c13223x5a00-11e9-b385-42010a80018d"),
       }) {
    EXPECT_EQ(pod_uid_from_cgroup(path), std::nullopt) << path;
  }
}

}  // namespace
}  // namespace qtap
