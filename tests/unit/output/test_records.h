// Hand-built records for the sink tests: one plausible curl exchange that each
// test bends to the case it checks.
#pragma once

#include <string>

#include "output/records.h"

namespace qtap::test {

// 2026-11-29T05:55:03.123456789Z
inline constexpr int64_t kTime = 1795931703'123456789;

inline Body text_body(std::string data) {
  Body b;
  b.size = data.size();
  b.wire_size = data.size();
  b.captured = data.size();
  b.data = std::move(data);
  return b;
}

inline ProcessContext curl_process() {
  ProcessContext p;
  ProcessInfo& info = p.edit();
  info.pid = 1234;
  info.comm = "curl";
  info.exe = "/usr/bin/curl";
  info.cmdline = "curl -s http://127.0.0.1:8080/x?y=1";
  info.uid = 1000;
  info.user = "alice";
  info.cgroup = "/user.slice/user-1000.slice/session-2.scope";
  p.tid = 1235;
  return p;
}

inline ConnectionContext egress_connection() {
  ConnectionContext c;
  c.id = 42;
  c.local = {"127.0.0.1", 34000};
  c.remote = {"127.0.0.1", 8080};
  c.direction = Direction::kEgress;
  c.protocol = "http1";
  c.bytes_sent = 120;
  c.bytes_received = 1300;
  return c;
}

inline HttpRecord http_record() {
  HttpRecord r;
  r.time_unix_ns = kTime;
  r.duration_ms = 3.4;
  r.process = curl_process();
  r.hostname = "box1";
  r.connection = egress_connection();
  r.http.version = "HTTP/1.1";

  HttpRequest req;
  req.method = "GET";
  req.target = "/x?y=1";
  req.version = "HTTP/1.1";
  req.headers = {{"Host", "127.0.0.1:8080"}, {"User-Agent", "curl/7.88.1"}, {"Accept", "*/*"}};
  req.body = text_body("");
  r.http.request = req;

  HttpResponse resp;
  resp.status = 200;
  resp.reason = "OK";
  resp.version = "HTTP/1.1";
  resp.headers = {{"Content-Type", "text/plain"}, {"Content-Length", "1229"}};
  resp.body = text_body(std::string(1229, 'a'));
  r.http.response = resp;
  return r;
}

inline ConnectionRecord connection_record() {
  ConnectionRecord r;
  r.time_unix_ns = kTime;
  r.duration_ms = 1.0;
  r.process = curl_process();
  r.process.edit().pid = 99;
  r.process.edit().comm = "nc";
  r.hostname = "box1";
  r.connection = egress_connection();
  r.connection.local = {"127.0.0.1", 34000};
  r.connection.remote = {"127.0.0.1", 5555};
  r.connection.protocol = "unknown";
  r.connection.bytes_sent = 12;
  r.connection.bytes_received = 0;
  return r;
}

}  // namespace qtap::test
