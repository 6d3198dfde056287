#include "events/synth.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

namespace qtap::events::synth {

namespace {
qtap_event_header header(const Who& w, uint32_t type) {
  qtap_event_header h{};
  h.type = type;
  h.abi = QTAP_ABI_VERSION;
  h.ts_ns = w.ts_ns;
  h.pid = w.pid;
  h.tid = w.tid;
  return h;
}

template <typename T>
Sample bytes_of(const T& v, size_t size = sizeof(T)) {
  Sample s(size);
  std::memcpy(s.data(), &v, std::min(size, sizeof(T)));
  return s;
}

void copy_comm(char* dst, std::string_view comm) {
  std::memset(dst, 0, QTAP_COMM_LEN);
  std::memcpy(dst, comm.data(), std::min<size_t>(comm.size(), QTAP_COMM_LEN - 1));
}
}  // namespace

qtap_sockaddr addr(std::string_view ip, uint16_t port) {
  qtap_sockaddr a{};
  std::string s(ip);
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    a.addr[10] = 0xff;
    a.addr[11] = 0xff;
    std::memcpy(&a.addr[12], &v4, 4);
  } else {
    inet_pton(AF_INET6, s.c_str(), a.addr);
  }
  a.port = port;
  return a;
}

Sample conn_open(const Who& w, uint64_t conn_id, int32_t fd, uint8_t source, qtap_sockaddr local,
                 qtap_sockaddr remote, std::string_view comm, uint32_t uid, uint64_t cgroup_id) {
  qtap_conn_open_event e{};
  e.hdr = header(w, QTAP_EV_CONN_OPEN);
  e.conn_id = conn_id;
  e.fd = fd;
  bool v4 = local.addr[10] == 0xff && local.addr[11] == 0xff;
  e.family = v4 ? 2 : 10;
  e.source = source;
  e.local = local;
  e.remote = remote;
  e.cgroup_id = cgroup_id;
  e.uid = uid;
  e.gid = uid;
  copy_comm(e.comm, comm);
  return bytes_of(e);
}

Sample conn_close(const Who& w, uint64_t conn_id, int32_t fd, uint64_t sent, uint64_t recv) {
  qtap_conn_close_event e{};
  e.hdr = header(w, QTAP_EV_CONN_CLOSE);
  e.conn_id = conn_id;
  e.fd = fd;
  e.bytes_sent = sent;
  e.bytes_recv = recv;
  return bytes_of(e);
}

Sample data(const Who& w, uint64_t conn_id, int32_t fd, uint8_t direction, uint64_t offset,
            std::string_view payload, uint32_t call_len, uint8_t flags) {
  constexpr size_t fixed = offsetof(qtap_data_event, payload);
  size_t n = std::min<size_t>(payload.size(), QTAP_CHUNK_SIZE);
  qtap_data_event hdr{};
  hdr.hdr = header(w, QTAP_EV_DATA);
  hdr.conn_id = conn_id;
  hdr.offset = offset;
  hdr.call_len = call_len ? call_len : static_cast<uint32_t>(payload.size());
  hdr.len = static_cast<uint32_t>(n);
  hdr.fd = fd;
  hdr.direction = direction;
  hdr.call = direction == QTAP_DIR_SEND ? QTAP_CALL_WRITE : QTAP_CALL_READ;
  hdr.flags = flags;
  Sample s(fixed + n);
  std::memcpy(s.data(), &hdr, fixed);
  std::memcpy(s.data() + fixed, payload.data(), n);
  return s;
}

Sample tls_data(const Who& w, uint64_t conn_id, int32_t fd, uint8_t direction, uint64_t offset,
                std::string_view payload, uint64_t session, uint8_t lib, uint8_t extra_flags) {
  Sample s = data(w, conn_id, fd, direction, offset, payload, 0, QTAP_DATA_F_TLS | extra_flags);
  auto* e = reinterpret_cast<qtap_data_event*>(s.data());
  e->call = QTAP_CALL_TLS;
  e->tls_lib = lib;
  e->tls_session = session;
  return s;
}

std::vector<Sample> call(const Who& w, uint64_t conn_id, int32_t fd, uint8_t direction,
                         uint64_t offset, std::string_view bytes) {
  std::vector<Sample> out;
  for (size_t pos = 0; pos < bytes.size(); pos += QTAP_CHUNK_SIZE) {
    out.push_back(data(w, conn_id, fd, direction, offset + pos, bytes.substr(pos, QTAP_CHUNK_SIZE),
                       static_cast<uint32_t>(bytes.size())));
  }
  return out;
}

Sample data_gap(const Who& w, uint64_t conn_id, int32_t fd, uint8_t direction, uint64_t offset,
                uint64_t len) {
  qtap_data_gap_event e{};
  e.hdr = header(w, QTAP_EV_DATA_GAP);
  e.conn_id = conn_id;
  e.offset = offset;
  e.len = len;
  e.fd = fd;
  e.direction = direction;
  e.call = QTAP_CALL_SENDFILE;
  return bytes_of(e);
}

Sample proc_exec(const Who& w, std::string_view filename, std::string_view args,
                 std::string_view comm, uint32_t uid, uint64_t cgroup_id) {
  constexpr size_t fixed = offsetof(qtap_proc_exec_event, data);
  qtap_proc_exec_event e{};
  e.hdr = header(w, QTAP_EV_PROC_EXEC);
  e.uid = uid;
  e.gid = uid;
  e.cgroup_id = cgroup_id;
  copy_comm(e.comm, comm);
  filename = filename.substr(0, QTAP_EXEC_FILENAME_LEN - 1);
  args = args.substr(0, QTAP_EXEC_ARGS_LEN);
  e.filename_len = static_cast<uint16_t>(filename.size());
  e.args_len = static_cast<uint16_t>(args.size());
  Sample s(fixed + filename.size() + args.size());
  std::memcpy(s.data(), &e, fixed);
  std::memcpy(s.data() + fixed, filename.data(), filename.size());
  std::memcpy(s.data() + fixed + filename.size(), args.data(), args.size());
  return s;
}

Sample proc_exit(const Who& w, int32_t code) {
  qtap_proc_exit_event e{};
  e.hdr = header(w, QTAP_EV_PROC_EXIT);
  e.exit_code = code;
  return bytes_of(e);
}

}  // namespace qtap::events::synth
