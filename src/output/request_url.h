// Where a request went, as both sinks show it: url, authority and path.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "output/records.h"

namespace qtap {

// Built from the request target (RFC 9112 section 3.2) and the connection:
//   origin-form "/p?q"         url = scheme://authority/p?q, path = "/p?q"
//   absolute-form "http://h/p" url = the target; authority and path taken from it
//   authority-form (CONNECT)   url = scheme://target, authority = target, path = ""
//   asterisk-form "*"          url = scheme://authority, path = "*"
// scheme is the :scheme pseudo-header of an HTTP/2 request, else "https" on a
// TLS connection and "http" otherwise. authority is the :authority
// pseudo-header (HTTP/2), else the Host header; without either, the server's
// address (remote on egress and unknown connections, local on ingress), IPv6
// in brackets. The HTTP/2 parser keeps :scheme and :authority as the request's
// first headers.
//
// Views point into the request and into this object, which is therefore
// neither copyable nor movable: build it where it is used.
class RequestUrl {
 public:
  RequestUrl(const HttpRequest& req, const ConnectionContext& conn);
  RequestUrl(const RequestUrl&) = delete;
  RequestUrl& operator=(const RequestUrl&) = delete;

  std::string_view authority() const { return authority_; }
  std::string_view path() const { return path_; }
  // The URL as consecutive pieces, so a writer can escape it without first
  // concatenating it.
  std::array<std::string_view, 4> url_parts() const { return parts_; }
  std::string url() const;

 private:
  std::string_view authority_;
  std::string_view path_;
  std::array<std::string_view, 4> parts_;
  std::string authority_buf_;  // "ip:port" when there is no Host header
  std::string path_buf_;       // "/?q" from an absolute-form target "http://h?q"
};

// "ip:port", or "[ip]:port" for IPv6.
void append_endpoint(std::string& out, const Endpoint& ep);

}  // namespace qtap
