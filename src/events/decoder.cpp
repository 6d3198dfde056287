#include <arpa/inet.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include <fmt/format.h>

#include "events/events.h"

namespace qtap::events {

std::string ip_to_string(const SockAddr& a) {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char buf[INET6_ADDRSTRLEN] = {};
  if (std::equal(std::begin(kMapped), std::end(kMapped), a.addr.begin())) {
    inet_ntop(AF_INET, a.addr.data() + 12, buf, sizeof(buf));
  } else {
    inet_ntop(AF_INET6, a.addr.data(), buf, sizeof(buf));
  }
  return buf;
}

std::string_view fixed_string(const char* s, size_t max) {
  return {s, strnlen(s, max)};
}

namespace {

// Ring buffer samples are 8-byte aligned today, but recordings are not; copy
// the fixed part out instead of casting.
template <typename T>
bool load(std::span<const uint8_t> sample, size_t size, T* out) {
  if (sample.size() < size) return false;
  std::memcpy(out, sample.data(), size);
  return true;
}

Header header(const qtap_event_header& h) { return Header{h.ts_ns, h.pid, h.tid}; }

SockAddr sockaddr(const qtap_sockaddr& a) {
  SockAddr s;
  std::memcpy(s.addr.data(), a.addr, 16);
  s.port = a.port;
  return s;
}

Error short_sample(const char* what, size_t got) {
  return make_error(fmt::format("{} event truncated ({} bytes)", what, got));
}

}  // namespace

bool is_process_event(std::span<const uint8_t> sample) {
  if (sample.size() < sizeof(qtap_event_header)) return false;
  qtap_u32 type;
  std::memcpy(&type, sample.data(), sizeof(type));
  return type == QTAP_EV_PROC_EXEC || type == QTAP_EV_PROC_EXIT || type == QTAP_EV_EXEC_MAPPING;
}

Result<Event> decode(std::span<const uint8_t> sample) {
  qtap_event_header h;
  if (!load(sample, sizeof(h), &h)) return short_sample("any", sample.size());
  if (h.abi != QTAP_ABI_VERSION) {
    return make_error(fmt::format("event ABI version {} but this qtap speaks {}", h.abi,
                                  QTAP_ABI_VERSION));
  }
  const char* base = reinterpret_cast<const char*>(sample.data());
  switch (h.type) {
    case QTAP_EV_CONN_OPEN: {
      qtap_conn_open_event e;
      if (!load(sample, sizeof(e), &e)) return short_sample("conn_open", sample.size());
      ConnOpen o;
      o.hdr = header(e.hdr);
      o.conn_id = e.conn_id;
      o.fd = e.fd;
      o.family = e.family;
      o.source = e.source;
      o.local = sockaddr(e.local);
      o.remote = sockaddr(e.remote);
      o.cgroup_id = e.cgroup_id;
      o.uid = e.uid;
      o.gid = e.gid;
      o.comm = fixed_string(base + offsetof(qtap_conn_open_event, comm), QTAP_COMM_LEN);
      return Event{o};
    }
    case QTAP_EV_CONN_CLOSE: {
      qtap_conn_close_event e;
      if (!load(sample, sizeof(e), &e)) return short_sample("conn_close", sample.size());
      return Event{ConnClose{header(e.hdr), e.conn_id, e.fd, e.bytes_sent, e.bytes_recv}};
    }
    case QTAP_EV_DATA: {
      constexpr size_t fixed = offsetof(qtap_data_event, payload);
      qtap_data_event e;
      if (!load(sample, fixed, &e)) return short_sample("data", sample.size());
      if (e.len > QTAP_CHUNK_SIZE || fixed + e.len > sample.size()) {
        return make_error(fmt::format("data event claims {} payload bytes, sample has {}",
                                      e.len, sample.size() - fixed));
      }
      Data d;
      d.hdr = header(e.hdr);
      d.conn_id = e.conn_id;
      d.offset = e.offset;
      d.call_len = e.call_len;
      d.fd = e.fd;
      d.direction = e.direction;
      d.call = e.call;
      d.flags = e.flags;
      d.tls_lib = e.tls_lib;
      d.tls_session = e.tls_session;
      d.payload = std::string_view(base + fixed, e.len);
      return Event{d};
    }
    case QTAP_EV_DATA_GAP: {
      qtap_data_gap_event e;
      if (!load(sample, sizeof(e), &e)) return short_sample("data_gap", sample.size());
      return Event{DataGap{header(e.hdr), e.conn_id, e.offset, e.len, e.fd, e.direction, e.call,
                           e.flags, e.tls_lib, e.tls_session}};
    }
    case QTAP_EV_PROC_EXEC: {
      constexpr size_t fixed = offsetof(qtap_proc_exec_event, data);
      qtap_proc_exec_event e;
      if (!load(sample, fixed, &e)) return short_sample("proc_exec", sample.size());
      size_t var = size_t(e.filename_len) + e.args_len;
      if (fixed + var > sample.size()) return short_sample("proc_exec", sample.size());
      ProcExec x;
      x.hdr = header(e.hdr);
      x.ppid = e.ppid;
      x.uid = e.uid;
      x.gid = e.gid;
      x.cgroup_id = e.cgroup_id;
      x.comm = fixed_string(base + offsetof(qtap_proc_exec_event, comm), QTAP_COMM_LEN);
      x.filename = std::string_view(base + fixed, e.filename_len);
      x.args = std::string_view(base + fixed + e.filename_len, e.args_len);
      return Event{x};
    }
    case QTAP_EV_EXEC_MAPPING: {
      qtap_exec_mapping_event e;
      if (!load(sample, sizeof(e), &e)) return short_sample("exec_mapping", sample.size());
      return Event{ExecMapping{header(e.hdr), e.ino, e.dev,
                               fixed_string(base + offsetof(qtap_exec_mapping_event, name),
                                            QTAP_FILE_NAME_LEN)}};
    }
    case QTAP_EV_PROC_EXIT: {
      qtap_proc_exit_event e;
      if (!load(sample, sizeof(e), &e)) return short_sample("proc_exit", sample.size());
      return Event{ProcExit{header(e.hdr), e.exit_code}};
    }
  }
  return make_error(fmt::format("unknown event type {}", h.type));
}

}  // namespace qtap::events
