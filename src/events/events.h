// Kernel events as C++ values. The decoder copies the fixed part of each ring
// buffer sample out of the (unaligned) sample; payloads stay views into it,
// valid only while the sample is being handled.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "common/result.h"
#include "qtap_abi.h"

namespace qtap::events {

struct Header {
  uint64_t ts_ns = 0;  // CLOCK_BOOTTIME
  uint32_t pid = 0;
  uint32_t tid = 0;
};

struct SockAddr {
  std::array<uint8_t, 16> addr{};  // IPv4 as ::ffff:a.b.c.d
  uint16_t port = 0;
};

struct ConnOpen {
  Header hdr;
  uint64_t conn_id = 0;
  int32_t fd = -1;
  uint16_t family = 0;
  uint8_t source = 0;  // qtap_conn_source
  SockAddr local, remote;
  uint64_t cgroup_id = 0;
  uint32_t uid = 0, gid = 0;
  std::string_view comm;
};

struct ConnClose {
  Header hdr;
  uint64_t conn_id = 0;
  int32_t fd = -1;
  uint64_t bytes_sent = 0, bytes_recv = 0;
};

struct Data {
  Header hdr;
  uint64_t conn_id = 0;
  uint64_t offset = 0;
  uint32_t call_len = 0;
  int32_t fd = -1;
  uint8_t direction = 0;  // qtap_direction
  uint8_t call = 0;       // qtap_data_call
  uint8_t flags = 0;      // QTAP_DATA_F_*
  uint8_t tls_lib = 0;    // qtap_tls_library
  uint64_t tls_session = 0;
  std::string_view payload;
};

struct DataGap {
  Header hdr;
  uint64_t conn_id = 0;
  uint64_t offset = 0;
  uint64_t len = 0;
  int32_t fd = -1;
  uint8_t direction = 0;
  uint8_t call = 0;
  uint8_t flags = 0;  // QTAP_DATA_F_TLS: a hole in the plaintext stream
  uint8_t tls_lib = 0;
  uint64_t tls_session = 0;
};

struct ProcExec {
  Header hdr;
  uint32_t ppid = 0, uid = 0, gid = 0;
  uint64_t cgroup_id = 0;
  std::string_view comm;
  std::string_view filename;
  std::string_view args;  // argv, NUL-separated
};

struct ExecMapping {
  Header hdr;
  uint64_t ino = 0;
  uint32_t dev = 0;  // kernel encoding: major << 20 | minor
  std::string_view name;
};

struct ProcExit {
  Header hdr;
  int32_t exit_code = 0;
};

using Event = std::variant<ConnOpen, ConnClose, Data, DataGap, ProcExec, ProcExit, ExecMapping>;

// Decodes one ring buffer sample. Errors name what was wrong (short sample,
// ABI mismatch, unknown type) so a bad recording is easy to diagnose.
Result<Event> decode(std::span<const uint8_t> sample);

// Whether a sample is about processes and files (exec, exit, executable
// mappings) rather than connections and their bytes: what live discovery of
// programs to probe needs even when nothing is decoded (--record-only).
bool is_process_event(std::span<const uint8_t> sample);

// Text form of an address from the kernel (IPv4-mapped shown as IPv4).
std::string ip_to_string(const SockAddr& a);

// Text for a comm[16] field: up to the first NUL.
std::string_view fixed_string(const char* s, size_t max);

}  // namespace qtap::events
