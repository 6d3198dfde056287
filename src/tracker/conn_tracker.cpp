#include "tracker/conn_tracker.h"

#include <algorithm>

#include "protocols/tls_client_hello.h"
#include "qtap_abi.h"

namespace qtap {

namespace {
// How many pieces of a stream are looked at before a connection is declared
// "unknown protocol" (a capture may start in the middle of a message; the
// next call often starts a new one).
constexpr uint32_t kDetectPieces = 16;
// A first piece shorter than this is kept and completed by the next one.
constexpr size_t kDetectMinBytes = 24;  // the HTTP/2 client preface
constexpr size_t kMaxClientHello = 16384 + 5;  // one TLS record

http1::Side side_of(bool requests_are_sent, uint8_t dir) {
  bool sent = dir == QTAP_DIR_SEND;
  return sent == requests_are_sent ? http1::Side::kRequests : http1::Side::kResponses;
}
}  // namespace

// Hands one direction's in-order bytes back to its connection.
struct Connection::StreamSide final : DataStream::Consumer {
  StreamSide(Connection& c, int s) : conn(c), stream(s) {}
  void on_bytes(std::string_view bytes, uint64_t ts) override { conn.bytes_in_order(stream, bytes, ts); }
  void on_gap(uint64_t len, uint64_t ts) override { conn.gap_in_order(stream, len, ts); }
  Connection& conn;
  int stream;
};

Connection::Connection(ConnInfo info, const TrackerConfig& cfg)
    : info_(std::move(info)),
      cfg_(cfg),
      streams_{DataStream(cfg.max_pending_bytes), DataStream(cfg.max_pending_bytes),
               DataStream(cfg.max_pending_bytes), DataStream(cfg.max_pending_bytes)} {
  for (int i = 0; i < 4; i++) sides_[i] = std::make_unique<StreamSide>(*this, i);
  if (info_.source == QTAP_SRC_CONNECT) direction_ = Direction::kEgress;
  if (info_.source == QTAP_SRC_ACCEPT) direction_ = Direction::kIngress;
}

Connection::~Connection() = default;

void Connection::on_data(const events::Data& ev) {
  last_ts_ = ev.hdr.ts_ns;
  last_tid_ = ev.hdr.tid;
  int stream = ev.direction & 1;
  if (ev.flags & QTAP_DATA_F_TLS) {
    if (tls_lib_ == 0) start_tls(ev.tls_lib ? ev.tls_lib : uint8_t{QTAP_TLS_OPENSSL}, ev.flags & QTAP_DATA_F_FD_INFERRED);
    stream += kPlain;
  }
  streams_[stream].add(ev.offset, ev.payload, ev.hdr.ts_ns, *sides_[stream]);
}

void Connection::start_tls(uint8_t lib, bool inferred) {
  tls_lib_ = lib;
  tls_socket_inferred_ = inferred;
  // Whatever was concluded from ciphertext no longer applies.
  if (protocol_ != Protocol::kHttp1 && protocol_ != Protocol::kHttp2) {
    protocol_ = Protocol::kUndetected;
    detect_pieces_ = 0;
    detect_buf_[0].clear();
    detect_buf_[1].clear();
  }
}

void Connection::adopt_session(Connection& orphan) {
  tls_lib_ = orphan.tls_lib_;
  tls_socket_inferred_ = true;
  protocol_ = orphan.protocol_;
  requests_are_sent_ = orphan.requests_are_sent_;
  if (direction_ == Direction::kUnknown) direction_ = orphan.direction_;
  detect_pieces_ = orphan.detect_pieces_;
  detect_buf_ = std::move(orphan.detect_buf_);
  http1_ = std::move(orphan.http1_);
  http2_ = std::move(orphan.http2_);
  orphan.protocol_ = Protocol::kUndetected;
}

void Connection::on_hole(const events::DataGap& ev) {
  last_ts_ = ev.hdr.ts_ns;
  int stream = (ev.direction & 1) + ((ev.flags & QTAP_DATA_F_TLS) ? kPlain : 0);
  streams_[stream].add_hole(ev.offset, ev.len, ev.hdr.ts_ns, *sides_[stream]);
}

void Connection::on_close(uint64_t ts) {
  for (int i = 0; i < 4; i++) streams_[i].flush(*sides_[i]);
  if (http1_) http1_->on_close(ts);
  if (http2_) http2_->on_close(ts);
  // A connection that never said enough to be recognised.
  if (protocol_ == Protocol::kUndetected && (bytes_[0] || bytes_[1])) protocol_ = Protocol::kUnknown;
}

void Connection::start_protocol(Detection d, uint8_t dir, std::string_view first_bytes) {
  protocol_ = d.protocol;
  if (protocol_ != Protocol::kHttp1 && protocol_ != Protocol::kHttp2) return;
  bool sent = dir == QTAP_DIR_SEND;
  if (d.mid_stream && info_.source != 0 && info_.source != QTAP_SRC_INFERRED) {
    // HTTP/2 frames say nothing of who the client is; how the socket was
    // opened does.
    requests_are_sent_ = info_.source == QTAP_SRC_CONNECT;
  } else if (d.mid_stream) {
    // No socket origin (a TLS session not yet bound to its socket, a socket
    // opened before qtap). A side that begins with a SETTINGS frame is the
    // server's: memory-BIO runtimes (grpc, node) often show the peer's
    // SETTINGS before their own preface. Otherwise a guess: the side seen
    // first sends the requests.
    requests_are_sent_ = http2::starts_with_settings(first_bytes) ? !sent : sent;
  } else {
    requests_are_sent_ = sent == d.is_request;
  }
  if (direction_ == Direction::kUnknown) {
    // Opened before qtap: whoever sends the requests is the client.
    direction_ = requests_are_sent_ ? Direction::kEgress : Direction::kIngress;
  }
  if (protocol_ == Protocol::kHttp1) {
    http1_ = std::make_unique<http1::Http1Session>(cfg_.http1);
  } else {
    http2_ = std::make_unique<http2::Http2Session>(cfg_.http2, d.mid_stream);
  }
}

void Connection::look_for_sni(uint8_t dir, std::string_view bytes) {
  std::string_view hello = bytes;
  if (!sni_buf_.empty()) {
    sni_buf_.append(bytes.substr(0, std::min<size_t>(bytes.size(), kMaxClientHello - sni_buf_.size())));
    hello = sni_buf_;
  }
  SniResult r = parse_client_hello_sni(hello, sni_);
  if (r == SniResult::kNeedMore && hello.size() < kMaxClientHello) {
    if (sni_buf_.empty()) sni_buf_.assign(bytes);
    return;
  }
  sni_looked_[dir] = true;
  sni_buf_.clear();
  sni_buf_.shrink_to_fit();
  if (r == SniResult::kFound) sni_looked_ = {true, true};
}

void Connection::bytes_in_order(int stream, std::string_view bytes, uint64_t ts) {
  uint8_t dir = stream & 1;
  if (stream < kPlain) {
    if (!sni_looked_[dir]) look_for_sni(dir, bytes);
    bytes_[dir] += bytes.size();
    if (tls_lib_ != 0) return;  // ciphertext: the plaintext streams carry the protocol
  }
  parse(dir, bytes, ts);
}

void Connection::feed(uint8_t dir, std::string_view bytes, uint64_t ts) {
  auto side = side_of(requests_are_sent_, dir);
  if (http2_) {
    http2_->on_data(side, bytes, ts);
    return;
  }
  http1_->on_data(side, bytes, ts);
  if (http1_->upgraded()) {
    // 101 Switching Protocols (h2c, websocket) or a CONNECT tunnel: what
    // follows is another protocol, detected afresh from the next bytes.
    for (auto& ex : http1_->take_exchanges()) done_.push_back(std::move(ex));
    http1_.reset();
    protocol_ = Protocol::kUndetected;
    detect_pieces_ = 0;
  }
}

void Connection::parse(uint8_t dir, std::string_view bytes, uint64_t ts) {
  if (protocol_ == Protocol::kHttp1 || protocol_ == Protocol::kHttp2) {
    feed(dir, bytes, ts);
    return;
  }
  if (protocol_ != Protocol::kUndetected) return;

  std::string& buf = detect_buf_[dir];
  std::string_view piece = bytes;
  if (!buf.empty()) {
    buf.append(bytes.substr(0, 64));
    piece = buf;
  }
  Detection d = detect_protocol(piece);
  if (d.protocol == Protocol::kUndetected) {
    if (buf.empty()) buf.assign(bytes.substr(0, 64));
    if (buf.size() >= kDetectMinBytes) buf.clear();  // still undecided: not worth waiting
    return;
  }
  if (d.protocol == Protocol::kUnknown) {
    buf.clear();
    if (++detect_pieces_ >= kDetectPieces) protocol_ = Protocol::kUnknown;
    return;
  }
  start_protocol(d, dir, piece);
  if (protocol_ == Protocol::kHttp1 || protocol_ == Protocol::kHttp2) {
    if (!buf.empty()) {
      // The kept prefix, then the whole piece (the part appended for
      // detection is not fed twice).
      size_t kept = buf.size() - std::min<size_t>(bytes.size(), 64);
      feed(dir, std::string_view(buf).substr(0, kept), ts);
    }
    feed(dir, bytes, ts);
  }
  detect_buf_[0].clear();
  detect_buf_[1].clear();
}

void Connection::gap_in_order(int stream, uint64_t len, uint64_t ts) {
  uint8_t dir = stream & 1;
  if (stream < kPlain) {
    sni_looked_[dir] = true;  // a ClientHello is never read across a hole
    sni_buf_.clear();
    bytes_[dir] += len;
    if (tls_lib_ != 0) return;
  }
  if (http1_) {
    http1_->on_gap(side_of(requests_are_sent_, dir), len, ts);
  } else if (http2_) {
    http2_->on_gap(side_of(requests_are_sent_, dir), len, ts);
  } else {
    detect_buf_[dir].clear();
  }
}

std::vector<HttpExchange> Connection::take_exchanges() {
  std::vector<HttpExchange> out = std::move(done_);
  done_.clear();
  auto more = http1_ ? http1_->take_exchanges() : http2_ ? http2_->take_exchanges() : std::vector<HttpExchange>{};
  if (out.empty()) return more;
  for (auto& ex : more) out.push_back(std::move(ex));
  return out;
}

ConnTracker::ConnTracker(TrackerConfig cfg, Listener& listener)
    : cfg_(std::move(cfg)), listener_(listener) {}

ConnTracker::~ConnTracker() = default;

Connection& ConnTracker::insert(ConnInfo info) {
  while (conns_.size() >= cfg_.max_connections && !lru_.empty()) {
    stats_.evicted++;
    end(lru_.back(), 0);
  }
  uint64_t id = info.conn_id;
  uint32_t pid = info.pid;
  auto conn = std::make_unique<Connection>(std::move(info), cfg_);
  lru_.push_front(id);
  conn->lru_pos_ = lru_.begin();
  Connection& ref = *conn;
  conns_[id] = std::move(conn);
  by_pid_[pid].insert(id);
  stats_.opened++;
  return ref;
}

void ConnTracker::on_open(const events::ConnOpen& ev) {
  // The same id twice would be a kernel bug; never two connections per id.
  if (conns_.count(ev.conn_id)) end(ev.conn_id, ev.hdr.ts_ns);
  ConnInfo info;
  info.conn_id = ev.conn_id;
  info.pid = ev.hdr.pid;
  info.fd = ev.fd;
  info.family = ev.family;
  info.source = ev.source;
  info.local = ev.local;
  info.remote = ev.remote;
  info.local_ip = events::ip_to_string(ev.local);
  info.remote_ip = events::ip_to_string(ev.remote);
  info.open_ts_ns = ev.hdr.ts_ns;
  info.uid = ev.uid;
  info.cgroup_id = ev.cgroup_id;
  info.comm = std::string(ev.comm);
  insert(std::move(info));
}

Connection& ConnTracker::get_or_create(uint64_t conn_id, const events::Header& hdr, int32_t fd) {
  auto it = conns_.find(conn_id);
  if (it != conns_.end()) return *it->second;
  stats_.data_without_open++;
  ConnInfo info;
  info.conn_id = conn_id;
  info.pid = hdr.pid;
  info.fd = fd;
  info.open_ts_ns = hdr.ts_ns;
  return insert(std::move(info));
}

void ConnTracker::touch(Connection& c) {
  if (c.lru_pos_ != lru_.begin()) lru_.splice(lru_.begin(), lru_, c.lru_pos_);
}

void ConnTracker::emit(Connection& c) {
  for (auto& ex : c.take_exchanges()) {
    stats_.exchanges++;
    listener_.on_exchange(c, std::move(ex));
  }
}

// The connection a TLS data event belongs to: its socket's, or for a
// session whose socket is unknown a synthetic one per (pid, session). When a
// session first shows up with its socket, the socket's connection takes over
// the parser state of the synthetic one, so an exchange begun there ends
// there.
Connection& ConnTracker::tls_target(const events::Header& hdr, uint64_t conn_id, int32_t fd,
                                    uint64_t session) {
  SessionKey key{hdr.pid, session};
  auto orphan = orphans_.find(key);
  if (conn_id != 0) {
    Connection& c = get_or_create(conn_id, hdr, fd);
    if (orphan != orphans_.end()) {
      uint64_t orphan_id = orphan->second;
      orphans_.erase(orphan);
      auto it = conns_.find(orphan_id);
      if (it != conns_.end()) {
        c.adopt_session(*it->second);
        end(orphan_id, hdr.ts_ns);
      }
    }
    return c;
  }
  if (orphan != orphans_.end() && conns_.count(orphan->second)) return *conns_[orphan->second];
  stats_.tls_sessions_without_socket++;
  ConnInfo info;
  info.conn_id = next_orphan_id_++;
  info.pid = hdr.pid;
  info.open_ts_ns = hdr.ts_ns;
  info.tls_session = session;
  orphans_[key] = info.conn_id;
  return insert(std::move(info));
}

void ConnTracker::on_data(const events::Data& ev) {
  Connection& c = (ev.flags & QTAP_DATA_F_TLS) ? tls_target(ev.hdr, ev.conn_id, ev.fd, ev.tls_session)
                                                : get_or_create(ev.conn_id, ev.hdr, ev.fd);
  touch(c);
  int stream = (ev.direction & 1) + ((ev.flags & QTAP_DATA_F_TLS) ? Connection::kPlain : 0);
  uint64_t gaps_before = c.streams_[stream].gap_bytes();
  c.on_data(ev);
  stats_.gap_bytes += c.streams_[stream].gap_bytes() - gaps_before;
  emit(c);
}

void ConnTracker::on_gap(const events::DataGap& ev) {
  Connection& c = (ev.flags & QTAP_DATA_F_TLS) ? tls_target(ev.hdr, ev.conn_id, ev.fd, ev.tls_session)
                                                : get_or_create(ev.conn_id, ev.hdr, ev.fd);
  touch(c);
  stats_.gap_bytes += ev.len;
  c.on_hole(ev);
  emit(c);
}

void ConnTracker::end(uint64_t conn_id, uint64_t ts_ns) {
  auto it = conns_.find(conn_id);
  if (it == conns_.end()) return;
  std::unique_ptr<Connection> c = std::move(it->second);
  conns_.erase(it);
  lru_.erase(c->lru_pos_);
  auto p = by_pid_.find(c->info().pid);
  if (p != by_pid_.end()) {
    p->second.erase(conn_id);
    if (p->second.empty()) by_pid_.erase(p);
  }
  if (c->info().tls_session != 0) {
    auto o = orphans_.find(SessionKey{c->info().pid, c->info().tls_session});
    if (o != orphans_.end() && o->second == conn_id) orphans_.erase(o);
  }
  c->on_close(ts_ns ? ts_ns : c->last_ts_ns());
  emit(*c);
  stats_.closed++;
  listener_.on_closed(*c);
}

void ConnTracker::on_close(const events::ConnClose& ev) {
  auto it = conns_.find(ev.conn_id);
  if (it == conns_.end()) return;
  // The kernel's totals include bytes that were never copied.
  Connection& c = *it->second;
  c.bytes_[0] = std::max(c.bytes_[0], ev.bytes_sent);
  c.bytes_[1] = std::max(c.bytes_[1], ev.bytes_recv);
  c.last_ts_ = ev.hdr.ts_ns;
  end(ev.conn_id, ev.hdr.ts_ns);
}

std::vector<int32_t> ConnTracker::end_process(uint32_t pid, uint64_t ts_ns) {
  std::vector<int32_t> fds;
  auto p = by_pid_.find(pid);
  if (p == by_pid_.end()) return fds;
  std::vector<uint64_t> ids(p->second.begin(), p->second.end());
  for (uint64_t id : ids) {
    auto it = conns_.find(id);
    if (it != conns_.end()) fds.push_back(it->second->info().fd);
    end(id, ts_ns);
  }
  return fds;
}

void ConnTracker::end_all(uint64_t ts_ns) {
  while (!lru_.empty()) end(lru_.back(), ts_ns);
}

}  // namespace qtap
