#include <gtest/gtest.h>

#include "events/events.h"
#include "qtap_abi.h"
#include "tracker/conn_tracker.h"

using namespace qtap;

namespace {

struct Recorder : ConnTracker::Listener {
  struct Closed {
    uint64_t id;
    Protocol protocol;
    Direction direction;
    uint64_t sent, received;
  };
  std::vector<std::pair<uint64_t, HttpExchange>> exchanges;
  std::vector<Direction> directions;
  std::vector<Closed> closed;
  void on_exchange(const Connection& c, HttpExchange&& ex) override {
    exchanges.emplace_back(c.info().conn_id, std::move(ex));
    directions.push_back(c.direction());
  }
  void on_closed(const Connection& c) override {
    closed.push_back({c.info().conn_id, c.protocol(), c.direction(), c.bytes_sent(), c.bytes_received()});
  }
};

events::ConnOpen open_ev(uint64_t id, uint8_t source, uint32_t pid = 10, int32_t fd = 3) {
  events::ConnOpen o;
  o.hdr = {1000, pid, pid};
  o.conn_id = id;
  o.fd = fd;
  o.family = 2;
  o.source = source;
  o.comm = "test";
  return o;
}

struct Stream {
  uint64_t off[2] = {0, 0};
  events::Data next(uint64_t id, uint8_t dir, std::string_view bytes, uint64_t ts = 2000,
                    uint32_t pid = 10) {
    events::Data d;
    d.hdr = {ts, pid, pid + 1};
    d.conn_id = id;
    d.direction = dir;
    d.offset = off[dir];
    d.payload = bytes;
    off[dir] += bytes.size();
    return d;
  }
};

events::ConnClose close_ev(uint64_t id, uint64_t sent, uint64_t recv) {
  events::ConnClose c;
  c.hdr = {9000, 10, 10};
  c.conn_id = id;
  c.bytes_sent = sent;
  c.bytes_recv = recv;
  return c;
}

constexpr std::string_view kReq = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
constexpr std::string_view kResp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

}  // namespace

TEST(ConnTracker, ClientConnectionYieldsEgressExchange) {
  Recorder r;
  ConnTracker t(TrackerConfig{}, r);
  t.on_open(open_ev(1, QTAP_SRC_CONNECT));
  Stream s;
  t.on_data(s.next(1, QTAP_DIR_SEND, kReq));
  t.on_data(s.next(1, QTAP_DIR_RECV, kResp));
  ASSERT_EQ(r.exchanges.size(), 1u);
  EXPECT_EQ(r.directions[0], Direction::kEgress);
  auto& ex = r.exchanges[0].second;
  ASSERT_TRUE(ex.request && ex.response);
  EXPECT_EQ(ex.request->target, "/a");
  EXPECT_EQ(ex.response->status, 200);
  t.on_close(close_ev(1, kReq.size(), kResp.size()));
  ASSERT_EQ(r.closed.size(), 1u);
  EXPECT_EQ(r.closed[0].protocol, Protocol::kHttp1);
  EXPECT_EQ(t.size(), 0u);
}

TEST(ConnTracker, AcceptedConnectionYieldsIngressExchange) {
  Recorder r;
  ConnTracker t(TrackerConfig{}, r);
  t.on_open(open_ev(2, QTAP_SRC_ACCEPT));
  Stream s;
  t.on_data(s.next(2, QTAP_DIR_RECV, kReq));
  t.on_data(s.next(2, QTAP_DIR_SEND, kResp));
  ASSERT_EQ(r.exchanges.size(), 1u);
  EXPECT_EQ(r.directions[0], Direction::kIngress);
  EXPECT_EQ(r.exchanges[0].second.response->status, 200);
}

TEST(ConnTracker, InferredConnectionTakesItsDirectionFromTheProtocol) {
  Recorder r;
  ConnTracker t(TrackerConfig{}, r);
  t.on_open(open_ev(3, QTAP_SRC_INFERRED));
  Stream s;
  t.on_data(s.next(3, QTAP_DIR_RECV, kReq));  // it receives requests: a server
  t.on_data(s.next(3, QTAP_DIR_SEND, kResp));
  ASSERT_EQ(r.exchanges.size(), 1u);
  EXPECT_EQ(r.directions[0], Direction::kIngress);
}

TEST(ConnTracker, ShortFirstPieceIsCompletedByTheNext) {
  Recorder r;
  ConnTracker t(TrackerConfig{}, r);
  t.on_open(open_ev(4, QTAP_SRC_CONNECT));
  Stream s;
  t.on_data(s.next(4, QTAP_DIR_SEND, kReq.substr(0, 2)));
  t.on_data(s.next(4, QTAP_DIR_SEND, kReq.substr(2)));
  t.on_data(s.next(4, QTAP_DIR_RECV, kResp));
  ASSERT_EQ(r.exchanges.size(), 1u);
  EXPECT_EQ(r.exchanges[0].second.request->method, "GET");
  EXPECT_EQ(r.exchanges[0].second.request->target, "/a");
}

TEST(ConnTracker, JunkIsReportedAsUnknownWithByteCounts) {
  Recorder r;
  ConnTracker t(TrackerConfig{}, r);
  t.on_open(open_ev(5, QTAP_SRC_CONNECT));
  Stream s;
  std::string junk(300, '\x01');
  t.on_data(s.next(5, QTAP_DIR_SEND, junk));
  t.on_data(s.next(5, QTAP_DIR_RECV, "\x02\x03"));
  t.on_close(close_ev(5, 300, 2));
  EXPECT_TRUE(r.exchanges.empty());
  ASSERT_EQ(r.closed.size(), 1u);
  EXPECT_EQ(r.closed[0].protocol, Protocol::kUnknown);
  EXPECT_EQ(r.closed[0].sent, 300u);
  EXPECT_EQ(r.closed[0].received, 2u);
}

TEST(ConnTracker, TlsRecordsAreRecognisedAndNotParsed) {
  Recorder r;
  ConnTracker t(TrackerConfig{}, r);
  t.on_open(open_ev(6, QTAP_SRC_CONNECT));
  Stream s;
  t.on_data(s.next(6, QTAP_DIR_SEND, std::string_view("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)));
  t.on_close(close_ev(6, 11, 0));
  ASSERT_EQ(r.closed.size(), 1u);
  EXPECT_EQ(r.closed[0].protocol, Protocol::kTls);
}

TEST(ConnTracker, KernelTotalsCountBytesThatWereNotCopied) {
  Recorder r;
  ConnTracker t(TrackerConfig{}, r);
  t.on_open(open_ev(7, QTAP_SRC_CONNECT));
  Stream s;
  t.on_data(s.next(7, QTAP_DIR_SEND, "\x01\x02"));
  t.on_close(close_ev(7, 5000, 70));
  EXPECT_EQ(r.closed[0].sent, 5000u);
  EXPECT_EQ(r.closed[0].received, 70u);
}

TEST(ConnTracker, DataWithoutOpenCreatesTheConnection) {
  Recorder r;
  ConnTracker t(TrackerConfig{}, r);
  Stream s;
  t.on_data(s.next(8, QTAP_DIR_SEND, kReq));
  t.on_data(s.next(8, QTAP_DIR_RECV, kResp));
  EXPECT_EQ(t.stats().data_without_open, 1u);
  ASSERT_EQ(r.exchanges.size(), 1u);
  EXPECT_EQ(r.directions[0], Direction::kEgress);
}

TEST(ConnTracker, ProcessExitEndsItsConnectionsOnly) {
  Recorder r;
  ConnTracker t(TrackerConfig{}, r);
  t.on_open(open_ev(10, QTAP_SRC_CONNECT, 100, 4));
  t.on_open(open_ev(11, QTAP_SRC_CONNECT, 100, 5));
  t.on_open(open_ev(12, QTAP_SRC_CONNECT, 200, 4));
  Stream s;
  t.on_data(s.next(10, QTAP_DIR_SEND, kReq, 2000, 100));  // a request never answered
  auto fds = t.end_process(100, 5000);
  std::sort(fds.begin(), fds.end());
  EXPECT_EQ(fds, (std::vector<int32_t>{4, 5}));
  EXPECT_EQ(t.size(), 1u);
  ASSERT_EQ(r.exchanges.size(), 1u);  // the pending request is still reported
  EXPECT_FALSE(r.exchanges[0].second.response.has_value());
}

TEST(ConnTracker, LeastRecentlyActiveIsEvictedAtCapacity) {
  Recorder r;
  TrackerConfig cfg;
  cfg.max_connections = 2;
  ConnTracker t(cfg, r);
  t.on_open(open_ev(1, QTAP_SRC_CONNECT, 10, 1));
  t.on_open(open_ev(2, QTAP_SRC_CONNECT, 10, 2));
  Stream s;
  t.on_data(s.next(1, QTAP_DIR_SEND, "x"));  // 1 is now more recent than 2
  t.on_open(open_ev(3, QTAP_SRC_CONNECT, 10, 3));
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.stats().evicted, 1u);
  ASSERT_EQ(r.closed.size(), 1u);
  EXPECT_EQ(r.closed[0].id, 2u);
}

namespace {
events::Data tls_ev(uint64_t id, uint8_t dir, uint64_t off, std::string_view bytes, uint64_t session,
                    uint8_t extra_flags = 0) {
  events::Data d;
  d.hdr = {3000, 10, 11};
  d.conn_id = id;
  d.fd = id ? 3 : -1;
  d.direction = dir;
  d.offset = off;
  d.flags = QTAP_DATA_F_TLS | extra_flags;
  d.tls_lib = QTAP_TLS_OPENSSL;
  d.tls_session = session;
  d.call = QTAP_CALL_TLS;
  d.payload = bytes;
  return d;
}
}  // namespace

TEST(ConnTracker, TlsPlaintextIsParsedAndCiphertextOnlyCounted) {
  Recorder r;
  ConnTracker t(TrackerConfig{}, r);
  t.on_open(open_ev(20, QTAP_SRC_CONNECT));
  Stream s;
  std::string hello("\x16\x03\x01\x00\x05hello", 10);
  t.on_data(s.next(20, QTAP_DIR_SEND, hello));  // ClientHello: detected as TLS
  t.on_data(tls_ev(20, QTAP_DIR_SEND, 0, kReq, 0xabc));
  t.on_data(s.next(20, QTAP_DIR_RECV, std::string(40, '\x17')));  // ciphertext: not parsed
  t.on_data(tls_ev(20, QTAP_DIR_RECV, 0, kResp, 0xabc));
  ASSERT_EQ(r.exchanges.size(), 1u);
  EXPECT_EQ(r.exchanges[0].second.request->target, "/a");
  EXPECT_EQ(r.exchanges[0].second.response->status, 200);
  EXPECT_EQ(r.directions[0], Direction::kEgress);
  t.on_close(close_ev(20, 0, 0));
  ASSERT_EQ(r.closed.size(), 1u);
  EXPECT_EQ(r.closed[0].sent, hello.size());  // wire bytes, not plaintext
  EXPECT_EQ(r.closed[0].received, 40u);
}

TEST(ConnTracker, SocketlessTlsSessionHandsItsExchangeToTheSocketOnceKnown) {
  Recorder r;
  ConnTracker t(TrackerConfig{}, r);
  t.on_open(open_ev(30, QTAP_SRC_CONNECT));
  // The request's plaintext arrives before the session is bound to a socket.
  t.on_data(tls_ev(0, QTAP_DIR_SEND, 0, kReq, 0x5e55));
  EXPECT_EQ(t.stats().tls_sessions_without_socket, 1u);
  EXPECT_EQ(t.size(), 2u);
  // Then the response, on the socket the session was bound to.
  t.on_data(tls_ev(30, QTAP_DIR_RECV, 0, kResp, 0x5e55, QTAP_DATA_F_FD_INFERRED));
  ASSERT_EQ(r.exchanges.size(), 1u);
  EXPECT_EQ(r.exchanges[0].first, 30u);  // reported on the real connection
  EXPECT_EQ(r.exchanges[0].second.request->target, "/a");
  EXPECT_EQ(r.exchanges[0].second.response->status, 200);
  EXPECT_EQ(t.size(), 1u);  // the synthetic connection is gone
}

TEST(ConnTracker, SessionNeverBoundStillYieldsItsExchange) {
  Recorder r;
  ConnTracker t(TrackerConfig{}, r);
  t.on_data(tls_ev(0, QTAP_DIR_SEND, 0, kReq, 0x77));
  t.on_data(tls_ev(0, QTAP_DIR_RECV, 0, kResp, 0x77));
  ASSERT_EQ(r.exchanges.size(), 1u);
  EXPECT_EQ(r.directions[0], Direction::kEgress);  // it sent the request
}

TEST(ConnTracker, TlsHoleInsideABodyKeepsTheSizeExact) {
  Recorder r;
  ConnTracker t(TrackerConfig{}, r);
  t.on_open(open_ev(40, QTAP_SRC_ACCEPT));
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n";
  t.on_data(tls_ev(40, QTAP_DIR_RECV, 0, kReq, 1));
  t.on_data(tls_ev(40, QTAP_DIR_SEND, 0, head + std::string(1000, 'x'), 1));
  events::DataGap g;
  g.hdr = {4000, 10, 10};
  g.conn_id = 40;
  g.direction = QTAP_DIR_SEND;
  g.offset = head.size() + 1000;
  g.len = 4000;
  g.flags = QTAP_DATA_F_TLS;
  g.tls_session = 1;
  t.on_gap(g);
  ASSERT_EQ(r.exchanges.size(), 1u);
  auto& body = r.exchanges[0].second.response->body;
  EXPECT_EQ(body.size, 5000u);
  EXPECT_EQ(body.captured, 1000u);
  EXPECT_TRUE(body.truncated);
}

namespace {
// Hand-built HTTP/2 (RFC 9113): a frame header, then the payload.
std::string h2_frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
  std::string f;
  const auto n = static_cast<uint32_t>(payload.size());
  f += static_cast<char>(n >> 16);
  f += static_cast<char>(n >> 8);
  f += static_cast<char>(n);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  f += static_cast<char>(stream >> 24);
  f += static_cast<char>(stream >> 16);
  f += static_cast<char>(stream >> 8);
  f += static_cast<char>(stream);
  f += payload;
  return f;
}
const std::string kH2Settings = h2_frame(0x4, 0, 0, std::string("\x00\x03\x00\x00\x00\x64", 6));
const std::string kH2SettingsAck = h2_frame(0x4, 0x1, 0, "");
// GET / over https (HPACK static entries 2, 4, 7), END_STREAM | END_HEADERS.
const std::string kH2Request = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + kH2Settings +
                               h2_frame(0x1, 0x5, 1, "\x82\x84\x87");
const std::string kH2Response = h2_frame(0x1, 0x5, 1, "\x88");  // :status 200

// The one exchange reported, checked whole: on `conn`, seen as `dir`, GET / -> 200, with no
// sign of a missed stream start.
void expect_whole_get(const Recorder& r, uint64_t conn, Direction dir) {
  ASSERT_EQ(r.exchanges.size(), 1u);
  const HttpExchange& x = r.exchanges[0].second;
  EXPECT_EQ(r.exchanges[0].first, conn);
  EXPECT_EQ(r.directions[0], dir);
  ASSERT_TRUE(x.request && x.response);
  EXPECT_EQ(x.request->method, "GET");
  EXPECT_EQ(x.request->target, "/");
  EXPECT_EQ(x.response->status, 200);
  for (const std::string& n : x.notes) EXPECT_EQ(n.find("before the capture"), std::string::npos) << n;
}
}  // namespace

// A memory-BIO client (grpc) may read the server's SETTINGS before it writes
// its own preface, and both before its session is bound to the socket: the
// side that began with SETTINGS is the server's, not "whoever came first".
TEST(ConnTracker, SocketlessH2ClientThatFirstReadsTheServerSettingsIsTheClient) {
  Recorder r;
  ConnTracker t(TrackerConfig{}, r);
  t.on_open(open_ev(50, QTAP_SRC_CONNECT));
  t.on_data(tls_ev(0, QTAP_DIR_RECV, 0, kH2Settings, 0xc1));
  t.on_data(tls_ev(0, QTAP_DIR_SEND, 0, kH2Request, 0xc1));
  t.on_data(tls_ev(50, QTAP_DIR_RECV, 0, kH2SettingsAck + kH2Response, 0xc1, QTAP_DATA_F_FD_INFERRED));
  expect_whole_get(r, 50, Direction::kEgress);
}

// The server's view of the same: its own SETTINGS come first, unbound.
TEST(ConnTracker, SocketlessH2ServerWhoseFirstPlaintextIsItsSettingsIsTheServer) {
  Recorder r;
  ConnTracker t(TrackerConfig{}, r);
  t.on_open(open_ev(60, QTAP_SRC_ACCEPT));
  t.on_data(tls_ev(0, QTAP_DIR_SEND, 0, kH2Settings, 0x5e));
  t.on_data(tls_ev(60, QTAP_DIR_RECV, 0, kH2Request, 0x5e, QTAP_DATA_F_FD_INFERRED));
  t.on_data(tls_ev(60, QTAP_DIR_SEND, 0, kH2SettingsAck + kH2Response, 0x5e, QTAP_DATA_F_FD_INFERRED));
  expect_whole_get(r, 60, Direction::kIngress);
}
