#include "tls/go_offsets.h"

#include <fmt/format.h>

#include <array>

#include "tls/go_buildinfo.h"

namespace qtap::tls {
namespace {

struct Row {
  int first_minor;  // go1.<first_minor> ...
  int last_minor;   // ... through go1.<last_minor>
  GoOffsets offsets;
};

// One row per layout. The four structs involved have kept their leading
// fields since go1.9 (when netFD got its poll.FD):
//   crypto/tls/conn.go    type Conn struct { conn net.Conn; ... }      (first field since go1.0)
//   net/net.go            type conn struct { fd *netFD }
//   net/tcpsock.go        type TCPConn struct { conn }
//   net/fd_posix.go       type netFD struct { pfd poll.FD; ... }       (fd_unix.go before go1.16)
//   internal/poll/fd_unix.go  type FD struct { fdmu fdMutex; Sysfd int; ... }
//   internal/poll/fd_mutex.go type fdMutex struct { state uint64; rsema uint32; wsema uint32 }
// Verified: go1.19 (Debian's go1.19.8) by building a program that prints the
// offsets through reflect and walks the chain with unsafe on a live
// *tls.Conn to the fd the net package reports (tests/unit/tls/go_toolchain_test.cpp).
// go1.17, go1.18 and go1.20-go1.23: from those source files of each release
// (the same declarations); no toolchain of those versions on the build machine.
constexpr int kFirstMinor = 17;  // the register ABI on amd64
constexpr int kLastMinor = 23;

const std::array<Row, 1> kRows = {{
    {kFirstMinor, kLastMinor,
     GoOffsets{0, 8, 0, 0, 16, 8, "go1.17-go1.23",
               "go1.19: built and run (reflect offsets, live chain walk); go1.17, go1.18, "
               "go1.20-go1.23: same declarations in their standard library sources"}},
}};

}  // namespace

Result<GoOffsets> go_offsets(const GoBuildInfo& info) {
  if (!info.parsed) {
    return make_error(fmt::format("Go version \"{}\" not understood", info.version));
  }
  const GoVersion& v = *info.parsed;
  if (v.major != 1 || v.minor < kFirstMinor) {
    return make_error(
        fmt::format("{}: Go older than go1.17 passes arguments on the stack (no register ABI), "
                    "which the Go TLS probes do not read",
                    info.version));
  }
  for (const Row& row : kRows) {
    if (v.minor >= row.first_minor && v.minor <= row.last_minor) return row.offsets;
  }
  return make_error(fmt::format(
      "{}: newer than the offsets table (go1.{}-go1.{}); check crypto/tls.Conn, net.conn, "
      "netFD and poll.FD of that release and add a row",
      info.version, kFirstMinor, kLastMinor));
}

}  // namespace qtap::tls
