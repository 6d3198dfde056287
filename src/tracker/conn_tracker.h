// Connections, keyed by the kernel's connection id (unique per socket fd
// opening, so it survives fd reuse). Each owns two DataStreams (what the
// process sent, what it received), detects the protocol from the first bytes
// and feeds the matching parser. Bounded: least recently active connections
// are evicted past `max_connections`; a process's connections end when it
// exits or execs.
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "events/events.h"
#include "output/records.h"
#include "protocols/http1/http1_session.h"
#include "protocols/http2/http2_session.h"
#include "tracker/data_stream.h"
#include "tracker/protocol_detector.h"

namespace qtap {

struct ConnInfo {
  uint64_t conn_id = 0;
  uint32_t pid = 0;
  int32_t fd = -1;
  uint16_t family = 0;
  uint8_t source = 0;  // qtap_conn_source; 0 if the open event was lost
  events::SockAddr local, remote;
  std::string local_ip, remote_ip;  // text forms, made once per connection
  uint64_t open_ts_ns = 0;
  uint32_t uid = 0;
  uint64_t cgroup_id = 0;
  std::string comm;
  // A TLS session whose socket is not known (its library never touched the
  // socket while qtap watched): conn_id is synthetic, the tuple unknown.
  uint64_t tls_session = 0;
};

struct TrackerConfig {
  http1::Config http1;
  http2::Config http2;
  size_t max_connections = 65536;
  size_t max_pending_bytes = 256 * 1024;  // per direction, waiting for missing bytes
};

class Connection {
 public:
  Connection(ConnInfo info, const TrackerConfig& cfg);
  ~Connection();

  const ConnInfo& info() const { return info_; }
  Protocol protocol() const { return protocol_; }
  Direction direction() const { return direction_; }
  uint64_t bytes_sent() const { return bytes_[0]; }
  uint64_t bytes_received() const { return bytes_[1]; }
  uint64_t last_ts_ns() const { return last_ts_; }
  uint32_t last_tid() const { return last_tid_; }
  // TLS: plaintext came from a TLS library probe, or the bytes on the socket
  // looked like TLS records.
  bool tls() const { return tls_lib_ != 0 || protocol_ == Protocol::kTls; }
  uint8_t tls_library() const { return tls_lib_; }  // qtap_tls_library; 0 if unknown
  // The session was matched to this socket by call order, not by a call on it.
  bool tls_socket_inferred() const { return tls_socket_inferred_; }
  // The server name of the TLS ClientHello seen on the socket; empty if none.
  const std::string& tls_sni() const { return sni_; }

 private:
  friend class ConnTracker;
  struct StreamSide;

  // Stream 0/1: what the process sent/received on the socket; 2/3: the TLS
  // plaintext of the same directions.
  static constexpr int kPlain = 2;

  void on_data(const events::Data& ev);
  void on_hole(const events::DataGap& ev);
  void on_close(uint64_t ts);
  void bytes_in_order(int stream, std::string_view bytes, uint64_t ts);
  void gap_in_order(int stream, uint64_t len, uint64_t ts);
  // The first bytes of each direction on the socket: a ClientHello's SNI.
  void look_for_sni(uint8_t dir, std::string_view bytes);
  void parse(uint8_t dir, std::string_view bytes, uint64_t ts);
  void feed(uint8_t dir, std::string_view bytes, uint64_t ts);
  void start_protocol(Detection d, uint8_t dir, std::string_view first_bytes);
  void start_tls(uint8_t lib, bool inferred);
  // Continues the protocol state of a socketless TLS session on this socket.
  void adopt_session(Connection& orphan);
  std::vector<HttpExchange> take_exchanges();

  ConnInfo info_;
  const TrackerConfig& cfg_;
  Protocol protocol_ = Protocol::kUndetected;
  Direction direction_ = Direction::kUnknown;
  bool requests_are_sent_ = true;  // which stream carries HTTP requests
  std::array<DataStream, 4> streams_;
  std::array<std::unique_ptr<StreamSide>, 4> sides_;
  uint8_t tls_lib_ = 0;
  bool tls_socket_inferred_ = false;
  std::array<std::string, 2> detect_buf_;  // a short first piece, kept until decidable
  std::array<bool, 2> sni_looked_{false, false};  // per direction: its start was examined
  std::string sni_buf_;                           // a ClientHello not complete yet
  std::string sni_;
  uint32_t detect_pieces_ = 0;
  std::array<uint64_t, 2> bytes_{0, 0};
  std::unique_ptr<http1::Http1Session> http1_;
  std::unique_ptr<http2::Http2Session> http2_;
  std::vector<HttpExchange> done_;  // exchanges of a parser already replaced (h2c upgrade)
  uint64_t last_ts_ = 0;
  uint32_t last_tid_ = 0;
  std::list<uint64_t>::iterator lru_pos_;
};


struct TrackerStats {
  uint64_t opened = 0;
  uint64_t closed = 0;
  uint64_t evicted = 0;
  uint64_t data_without_open = 0;  // connection learned from data: its open event was lost
  uint64_t tls_sessions_without_socket = 0;
  uint64_t gap_bytes = 0;          // bytes missing from streams (lost or not copied)
  uint64_t exchanges = 0;
};

class ConnTracker {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // A completed HTTP exchange on `conn`.
    virtual void on_exchange(const Connection& conn, HttpExchange&& ex) = 0;
    // `conn` ended (close, process exit, eviction, shutdown); it is destroyed
    // right after this call.
    virtual void on_closed(const Connection& conn) = 0;
  };

  ConnTracker(TrackerConfig cfg, Listener& listener);
  ~ConnTracker();

  void on_open(const events::ConnOpen& ev);
  void on_data(const events::Data& ev);
  void on_gap(const events::DataGap& ev);
  void on_close(const events::ConnClose& ev);
  // Ends every connection of `pid` (exit, or exec which drops close-on-exec
  // sockets silently). Returns their fds, to forget them in the kernel too.
  std::vector<int32_t> end_process(uint32_t pid, uint64_t ts_ns);
  // Ends everything (shutdown).
  void end_all(uint64_t ts_ns);

  size_t size() const { return conns_.size(); }
  const TrackerStats& stats() const { return stats_; }

 private:
  Connection& get_or_create(uint64_t conn_id, const events::Header& hdr, int32_t fd);
  Connection& tls_target(const events::Header& hdr, uint64_t conn_id, int32_t fd, uint64_t session);
  Connection& insert(ConnInfo info);
  void touch(Connection& c);
  void emit(Connection& c);
  void end(uint64_t conn_id, uint64_t ts_ns);

  TrackerConfig cfg_;
  Listener& listener_;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> conns_;
  std::unordered_map<uint32_t, std::unordered_set<uint64_t>> by_pid_;
  struct SessionKey {
    uint32_t pid;
    uint64_t session;
    bool operator==(const SessionKey&) const = default;
  };
  struct SessionHash {
    size_t operator()(const SessionKey& k) const { return std::hash<uint64_t>()(k.session ^ (uint64_t(k.pid) << 48)); }
  };
  // Socketless TLS sessions -> their synthetic connection ids.
  std::unordered_map<SessionKey, uint64_t, SessionHash> orphans_;
  uint64_t next_orphan_id_ = 1ull << 62;
  std::list<uint64_t> lru_;  // front: most recently active
  TrackerStats stats_;
};

}  // namespace qtap
