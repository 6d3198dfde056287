#include <gtest/gtest.h>

#include "events/event_text.h"

using namespace qtap::events;

TEST(EventText, DataEventShowsCallOffsetSessionAndEscapedBytes) {
  Data d;
  d.hdr = {5'000'000'123, 42, 43};
  d.conn_id = 7;
  d.fd = 5;
  d.direction = QTAP_DIR_SEND;
  d.call = QTAP_CALL_TLS;
  d.offset = 100;
  d.call_len = 300;
  d.flags = QTAP_DATA_F_TLS | QTAP_DATA_F_FD_INFERRED;
  d.tls_session = 0xabc;
  d.payload = std::string_view("PRI *\r\n\x00\x01", 9);
  const std::string line = to_text(d, 7);
  EXPECT_EQ(line,
            "5.000000123 data       pid 42 tid 43 conn 7 fd 5 tls send offset 100 len 9 of 300 "
            "tls session 0xabc (socket by call order) \"PRI *\\x0d\\x0a...\"");
}

TEST(EventText, OpenCloseAndExit) {
  ConnOpen o;
  o.hdr = {1'000'000'000, 1, 2};
  o.conn_id = 3;
  o.fd = 4;
  o.local.addr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
  o.local.port = 80;
  o.remote.addr = o.local.addr;
  o.remote.port = 5555;
  o.source = QTAP_SRC_ACCEPT;
  o.comm = "nginx";
  EXPECT_EQ(to_text(o), "1.000000000 open       pid 1 tid 2 conn 3 fd 4 127.0.0.1:80 -> 127.0.0.1:5555 source 2 comm nginx");
  ConnClose c;
  c.hdr = o.hdr;
  c.conn_id = 3;
  c.fd = 4;
  c.bytes_sent = 10;
  c.bytes_recv = 20;
  EXPECT_EQ(to_text(c), "1.000000000 close      pid 1 tid 2 conn 3 fd 4 sent 10 received 20");
  ProcExit e;
  e.hdr = o.hdr;
  e.exit_code = 9;
  EXPECT_EQ(to_text(e), "1.000000000 exit       pid 1 tid 2 code 9");
}
