#include "output/request_url.h"

#include <algorithm>
#include <charconv>

namespace qtap {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Length of "scheme" in "scheme://..." (RFC 3986 section 3.1), or 0.
size_t absolute_scheme_length(std::string_view target) {
  if (target.empty() || !is_alpha(target[0])) return 0;
  size_t i = 1;
  while (i < target.size() && (is_alpha(target[i]) || is_digit(target[i]) || target[i] == '+' ||
                               target[i] == '-' || target[i] == '.')) {
    ++i;
  }
  return target.substr(i).starts_with("://") ? i : 0;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

void append_endpoint(std::string& out, const Endpoint& ep) {
  const bool v6 = ep.ip.find(':') != std::string::npos;
  if (v6) out.push_back('[');
  out.append(ep.ip);
  if (v6) out.push_back(']');
  out.push_back(':');
  char buf[8];
  const auto r = std::to_chars(buf, buf + sizeof buf, ep.port);
  out.append(buf, r.ptr);
}

RequestUrl::RequestUrl(const HttpRequest& req, const ConnectionContext& conn) {
  const std::string_view target = req.target;
  // HTTP/2 requests carry :scheme and :authority as their first headers (the pseudo-header
  // fields the parser kept); HTTP/1 header names cannot start with ':'.
  std::string_view pseudo_scheme;
  std::string_view pseudo_authority;
  for (const Header& h : req.headers) {
    if (h.name.empty() || h.name.front() != ':') break;
    if (h.name == ":scheme") {
      pseudo_scheme = h.value;
    } else if (h.name == ":authority") {
      pseudo_authority = h.value;
    }
  }
  const std::string_view scheme =
      !pseudo_scheme.empty() ? pseudo_scheme : (conn.tls ? std::string_view("https") : "http");

  if (const size_t n = absolute_scheme_length(target); n != 0) {
    std::string_view rest = target.substr(n + 3);
    const size_t end = std::min(rest.find_first_of("/?#"), rest.size());
    std::string_view authority = rest.substr(0, end);
    if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
      authority.remove_prefix(at + 1);  // userinfo is not part of the authority we report
    }
    authority_ = authority;
    path_ = rest.substr(end);
    if (path_.empty() || path_.front() != '/') {
      path_buf_.reserve(path_.size() + 1);
      path_buf_.push_back('/');
      path_buf_.append(path_);
      path_ = path_buf_;
    }
    parts_ = {target, {}, {}, {}};
    return;
  }

  if (req.method == "CONNECT") {
    authority_ = target;
    path_ = {};
    parts_ = {scheme, "://", authority_, {}};
    return;
  }

  std::string_view host = pseudo_authority;
  if (host.empty()) {
    if (const Header* h = find_header(req.headers, "host")) host = trim_ows(h->value);
  }
  if (!host.empty()) {
    authority_ = host;
  } else {
    // The server's end: for an ingress connection the traced process is it.
    append_endpoint(authority_buf_,
                    conn.direction == Direction::kIngress ? conn.local : conn.remote);
    authority_ = authority_buf_;
  }
  path_ = target;
  if (target == "*") {
    parts_ = {scheme, "://", authority_, {}};
  } else {
    parts_ = {scheme, "://", authority_, path_};
  }
}

std::string RequestUrl::url() const {
  std::string s;
  for (std::string_view p : parts_) s.append(p);
  return s;
}

}  // namespace qtap
