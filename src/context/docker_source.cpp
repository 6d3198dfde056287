#include "context/docker_source.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "context/proc_files.h"

namespace qtap {

namespace {

// An inspect answer is a few KiB; labels can add some. More is not docker.
constexpr size_t kMaxReply = size_t{1} << 20;

using Clock = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The next CRLF-terminated line of `s`, removed from it; nullopt without a CRLF.
std::optional<std::string_view> take_line(std::string_view& s) {
  size_t eol = s.find("\r\n");
  if (eol == std::string_view::npos) return std::nullopt;
  std::string_view line = s.substr(0, eol);
  s.remove_prefix(eol + 2);
  return line;
}

template <typename T>
std::optional<T> parse_number(std::string_view s, int base) {
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// RFC 9112 7.1: size [; extensions] CRLF data CRLF ..., then 0 CRLF
// [trailers] CRLF. Trailers are ignored.
std::optional<std::string> dechunk(std::string_view s) {
  std::string out;
  while (true) {
    auto line = take_line(s);
    if (!line) return std::nullopt;
    auto size = parse_number<size_t>(trim(line->substr(0, line->find(';'))), 16);
    if (!size) return std::nullopt;
    if (*size == 0) return out;
    if (s.size() < *size + 2 || s.substr(*size, 2) != "\r\n") return std::nullopt;
    out.append(s.substr(0, *size));
    s.remove_prefix(*size + 2);
  }
}

// Remaining milliseconds to `deadline`, for poll(); 0 when past.
int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(left.count(), 0));
}

// Waits for `events` on `fd` until the deadline; false at the timeout or on error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

std::optional<HttpReply> parse_http_reply(std::string_view raw) {
  auto status_line = take_line(raw);
  // "HTTP/1.1 200 OK"
  if (!status_line || !status_line->starts_with("HTTP/1.") || status_line->size() < 12 ||
      (*status_line)[8] != ' ') {
    return std::nullopt;
  }
  auto status = parse_number<int>(status_line->substr(9, 3), 10);
  if (!status) return std::nullopt;

  bool chunked = false;
  std::optional<size_t> length;
  while (true) {
    auto line = take_line(raw);
    if (!line) return std::nullopt;  // no end of headers: cut short
    if (line->empty()) break;
    size_t colon = line->find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view name = line->substr(0, colon);
    std::string_view value = trim(line->substr(colon + 1));
    if (iequals(name, "transfer-encoding")) chunked = iequals(value, "chunked");
    if (iequals(name, "content-length")) {
      length = parse_number<size_t>(value, 10);
      if (!length) return std::nullopt;
    }
  }

  HttpReply reply{*status, {}};
  if (chunked) {
    auto body = dechunk(raw);
    if (!body) return std::nullopt;
    reply.body = std::move(*body);
  } else if (length) {
    if (raw.size() < *length) return std::nullopt;
    reply.body = raw.substr(0, *length);
  } else {
    reply.body = raw;  // delimited by the close
  }
  return reply;
}

std::optional<ContainerMetadata> parse_docker_inspect(std::string_view text) {
  using Json = nlohmann::json;
  const Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;

  // value() throws on a type mismatch; the daemon's answer is not trusted.
  auto string_at = [](const Json& obj, const char* key) -> std::string {
    auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
  };

  ContainerMetadata m;
  m.name = string_at(j, "Name");
  if (m.name.starts_with('/')) m.name.erase(0, 1);

  auto config = j.find("Config");
  if (config != j.end() && config->is_object()) {
    m.image = string_at(*config, "Image");
    auto labels = config->find("Labels");
    if (labels != config->end() && labels->is_object()) {
      for (const auto& [key, value] : labels->items()) {
        if (value.is_string()) m.labels.emplace_back(key, value.get<std::string>());
      }
    }
  }
  // "Image" at the top is the image id ("sha256:..."): better than nothing.
  if (m.image.empty()) m.image = string_at(j, "Image");
  std::sort(m.labels.begin(), m.labels.end());
  return m;
}

DockerSource::DockerSource(std::string socket_path, std::chrono::milliseconds timeout)
    : socket_path_(std::move(socket_path)), timeout_(timeout) {}

bool DockerSource::serves(std::string_view runtime) const {
  return runtime == "docker" || runtime.empty();
}

std::optional<ContainerMetadata> DockerSource::fetch(std::string_view, const std::string& id) {
  // The id comes from a cgroup path (64 hex, or a machine name for runtimes
  // not served here): nothing in it needs escaping, but a path never gets in.
  if (id.find_first_of("/?#% \r\n") != std::string::npos) return std::nullopt;
  const std::string request = fmt::format(
      "GET /containers/{}/json HTTP/1.1\r\nHost: docker\r\nUser-Agent: qtap\r\n"
      "Accept: application/json\r\nConnection: close\r\n\r\n",
      id);
  auto raw = exchange(request);
  if (!raw) return std::nullopt;
  auto reply = parse_http_reply(*raw);
  if (!reply) {
    spdlog::debug("containers: unreadable answer from {} about {}", socket_path_, id);
    return std::nullopt;
  }
  if (reply->status != 200) {
    // 404: not docker's (a kubepods container of another runtime), or gone.
    spdlog::debug("containers: {} answered {} about {}", socket_path_, reply->status, id);
    return std::nullopt;
  }
  return parse_docker_inspect(reply->body);
}

std::optional<std::string> DockerSource::exchange(std::string_view request) {
  const auto deadline = Clock::now() + timeout_;
  auto fail = [this](std::string_view what, int err) -> std::optional<std::string> {
    // No socket: no docker on this host, the usual case, not worth a warning.
    if (err == ENOENT || warned_) {
      spdlog::debug("containers: {} {}: {}", socket_path_, what, std::strerror(err));
    } else {
      warned_ = true;
      spdlog::warn("containers: {} {}: {}; container names and images from docker missing",
                   socket_path_, what, std::strerror(err));
    }
    return std::nullopt;
  };

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof(addr.sun_path)) return fail("path", ENAMETOOLONG);
  std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);

  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return fail("socket", errno);
  // A unix connect completes at once or fails (EAGAIN: the backlog is full).
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return fail("connect", errno);
  }

  while (!request.empty()) {
    if (!wait_for(fd.get(), POLLOUT, deadline)) return fail("send", ETIMEDOUT);
    ssize_t n = ::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return fail("send", errno);
    if (n > 0) request.remove_prefix(static_cast<size_t>(n));
  }

  std::string reply;
  std::array<char, 16384> buf;
  while (true) {
    if (!wait_for(fd.get(), POLLIN, deadline)) return fail("answer", ETIMEDOUT);
    ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
    if (n == 0) return reply;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return fail("recv", errno);
    }
    reply.append(buf.data(), static_cast<size_t>(n));
    if (reply.size() > kMaxReply) return fail("answer", EMSGSIZE);
  }
}

}  // namespace qtap
