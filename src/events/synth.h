// Builders for raw ring buffer samples, byte-identical in layout to what the
// BPF programs submit. Used by pipeline tests and benchmarks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "qtap_abi.h"

namespace qtap::events::synth {

using Sample = std::vector<uint8_t>;

struct Who {
  uint32_t pid = 1000;
  uint32_t tid = 1000;
  uint64_t ts_ns = 0;
};

// ipv4 "a.b.c.d" or ipv6 text; port in host order.
qtap_sockaddr addr(std::string_view ip, uint16_t port);

Sample conn_open(const Who& w, uint64_t conn_id, int32_t fd, uint8_t source, qtap_sockaddr local,
                 qtap_sockaddr remote, std::string_view comm = "client", uint32_t uid = 0,
                 uint64_t cgroup_id = 0);
Sample conn_close(const Who& w, uint64_t conn_id, int32_t fd, uint64_t sent, uint64_t recv);
// One data event; `payload` must fit one chunk.
Sample data(const Who& w, uint64_t conn_id, int32_t fd, uint8_t direction, uint64_t offset,
            std::string_view payload, uint32_t call_len = 0, uint8_t flags = 0);
// Plaintext from a TLS library probe (conn_id 0: socket not known).
Sample tls_data(const Who& w, uint64_t conn_id, int32_t fd, uint8_t direction, uint64_t offset,
                std::string_view payload, uint64_t session, uint8_t lib = QTAP_TLS_OPENSSL,
                uint8_t extra_flags = 0);
// A whole call split into chunk-sized data events, as the kernel would.
std::vector<Sample> call(const Who& w, uint64_t conn_id, int32_t fd, uint8_t direction,
                         uint64_t offset, std::string_view bytes);
Sample data_gap(const Who& w, uint64_t conn_id, int32_t fd, uint8_t direction, uint64_t offset,
                uint64_t len);
Sample proc_exec(const Who& w, std::string_view filename, std::string_view args_nul_separated,
                 std::string_view comm, uint32_t uid = 0, uint64_t cgroup_id = 0);
Sample proc_exit(const Who& w, int32_t code = 0);

}  // namespace qtap::events::synth
