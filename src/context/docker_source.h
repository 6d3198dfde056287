// Container metadata from the Docker Engine API: GET /containers/<id>/json,
// HTTP/1.1 over the daemon's unix socket. Blocking, bounded by a timeout; it
// runs on ContainerMetadataCache's worker thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "context/container_metadata.h"

namespace qtap {

class DockerSource : public ContainerMetadataSource {
 public:
  // `timeout` bounds one whole request: connect, send, read to the end.
  DockerSource(std::string socket_path, std::chrono::milliseconds timeout);

  // Docker's containers, and those whose runtime the cgroup path does not
  // name (kubelet's cgroupfs layout is also dockershim's).
  bool serves(std::string_view runtime) const override;
  std::optional<ContainerMetadata> fetch(std::string_view runtime, const std::string& id) override;

 private:
  // The raw response to `request`, read until the daemon closes; nullopt on
  // any error or at the timeout.
  std::optional<std::string> exchange(std::string_view request);

  std::string socket_path_;
  std::chrono::milliseconds timeout_;
  bool warned_ = false;  // one warning per source; the rest go to debug
};

// An HTTP/1.x response read to its end: the status and the body, with the
// chunked transfer coding removed. nullopt when malformed or cut short.
struct HttpReply {
  int status = 0;
  std::string body;
};
std::optional<HttpReply> parse_http_reply(std::string_view raw);

// Name (without docker's leading '/'), image (Config.Image, as the container
// was created from) and labels (Config.Labels) from a container inspect body.
// nullopt when it is not a JSON object.
std::optional<ContainerMetadata> parse_docker_inspect(std::string_view json);

}  // namespace qtap
