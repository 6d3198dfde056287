#include "events/event_text.h"

#include <fmt/format.h>

namespace qtap::events {
namespace {

const char* call_name(uint8_t call) {
  switch (call) {
    case QTAP_CALL_READ: return "read";
    case QTAP_CALL_WRITE: return "write";
    case QTAP_CALL_READV: return "readv";
    case QTAP_CALL_WRITEV: return "writev";
    case QTAP_CALL_RECVFROM: return "recvfrom";
    case QTAP_CALL_SENDTO: return "sendto";
    case QTAP_CALL_RECVMSG: return "recvmsg";
    case QTAP_CALL_SENDMSG: return "sendmsg";
    case QTAP_CALL_SENDFILE: return "sendfile";
    case QTAP_CALL_SENDMMSG: return "sendmmsg";
    case QTAP_CALL_RECVMMSG: return "recvmmsg";
    case QTAP_CALL_SPLICE: return "splice";
    case QTAP_CALL_TLS: return "tls";
  }
  return "?";
}

const char* dir_name(uint8_t d) { return d == QTAP_DIR_SEND ? "send" : "recv"; }

std::string escaped(std::string_view s, size_t max) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

std::string head(const Header& h, const char* kind) {
  return fmt::format("{}.{:09} {:<10} pid {} tid {}", h.ts_ns / 1000000000, h.ts_ns % 1000000000, kind,
                     h.pid, h.tid);
}

std::string tls_part(uint8_t flags, uint64_t session) {
  if (!(flags & QTAP_DATA_F_TLS)) return {};
  return fmt::format(" tls session {:#x}{}", session,
                     (flags & QTAP_DATA_F_FD_INFERRED) ? " (socket by call order)" : "");
}

}  // namespace

std::string to_text(const Event& ev, size_t payload_bytes) {
  return std::visit(
      [&](const auto& e) -> std::string {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, ConnOpen>) {
          return fmt::format("{} conn {} fd {} {}:{} -> {}:{} source {} comm {}", head(e.hdr, "open"),
                             e.conn_id, e.fd, ip_to_string(e.local), e.local.port, ip_to_string(e.remote),
                             e.remote.port, e.source, e.comm);
        } else if constexpr (std::is_same_v<T, ConnClose>) {
          return fmt::format("{} conn {} fd {} sent {} received {}", head(e.hdr, "close"), e.conn_id, e.fd,
                             e.bytes_sent, e.bytes_recv);
        } else if constexpr (std::is_same_v<T, Data>) {
          return fmt::format("{} conn {} fd {} {} {} offset {} len {} of {}{} \"{}\"", head(e.hdr, "data"),
                             e.conn_id, e.fd, call_name(e.call), dir_name(e.direction), e.offset,
                             e.payload.size(), e.call_len, tls_part(e.flags, e.tls_session),
                             escaped(e.payload, payload_bytes));
        } else if constexpr (std::is_same_v<T, DataGap>) {
          return fmt::format("{} conn {} fd {} {} {} offset {} len {}{}", head(e.hdr, "gap"), e.conn_id, e.fd,
                             call_name(e.call), dir_name(e.direction), e.offset, e.len,
                             tls_part(e.flags, e.tls_session));
        } else if constexpr (std::is_same_v<T, ProcExec>) {
          return fmt::format("{} ppid {} uid {} {} \"{}\"", head(e.hdr, "exec"), e.ppid, e.uid, e.filename,
                             escaped(e.args, 120));
        } else if constexpr (std::is_same_v<T, ProcExit>) {
          return fmt::format("{} code {}", head(e.hdr, "exit"), e.exit_code);
        } else {
          return fmt::format("{} dev {:#x} ino {} {}", head(e.hdr, "mapping"), e.dev, e.ino, e.name);
        }
      },
      ev);
}

}  // namespace qtap::events
