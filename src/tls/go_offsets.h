// From a *tls.Conn to the socket's file descriptor, for the BPF side of the
// Go probes: the struct offsets of the standard library, per Go version.
//
//   c *tls.Conn            (%rax at (*Conn).Write/Read)
//   c.conn                 net.Conn interface {itab *, data *} at tls_conn_conn
//   data (*net.TCPConn)    at tls_conn_conn + iface_data
//   TCPConn{conn{fd *netFD}}: fd at conn_fd
//   netFD{pfd poll.FD, ...}: pfd at netfd_pfd
//   poll.FD{fdmu fdMutex{state uint64; rsema, wsema uint32}; Sysfd int}:
//                          Sysfd (int, 8 bytes) at pfd_sysfd
//
// So fd = *(int64*)(*(void**)(*(void**)(c + 0 + 8) + 0) + 0 + 16).
//
// The data word is a *net.TCPConn only when the interface's dynamic type is
// (a TLS client from tls.Dial, a server from tls.Listen over TCP). *UnixConn
// and *IPConn embed the same `conn`, so the chain also yields their fd. A
// user type wrapping the connection (a metrics wrapper, a proxy-protocol
// conn) does not: the BPF side should treat the result as a candidate and
// confirm it (the itab address when known, see GoTlsPlan::tcp_conn_itab, or
// the socket the Write's own syscall uses).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace qtap::tls {

struct GoBuildInfo;

struct GoOffsets {
  uint32_t tls_conn_conn = 0;  // tls.Conn.conn (net.Conn)
  uint32_t iface_data = 8;     // data pointer inside an interface value (itab at +0)
  uint32_t conn_fd = 0;        // net.TCPConn -> embedded net.conn -> fd *netFD
  uint32_t netfd_pfd = 0;      // netFD.pfd (poll.FD)
  uint32_t pfd_sysfd = 16;     // poll.FD.Sysfd, after fdMutex (16 bytes)
  uint32_t sysfd_size = 8;     // Sysfd is a Go int
  // Which Go versions this row covers and how it was checked.
  std::string covers;
  std::string verified;
};

// The offsets for the Go version of `info`. Errors say why not: a binary
// older than go1.17 (stack-based calling convention: the arguments are on
// the goroutine stack, not in registers, and the probes here assume
// registers), a version the table does not cover (newer than its last row),
// or an unparsable version.
Result<GoOffsets> go_offsets(const GoBuildInfo& info);

}  // namespace qtap::tls
