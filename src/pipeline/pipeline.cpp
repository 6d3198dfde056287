#include "pipeline/pipeline.h"

#include <type_traits>

#include "common/log.h"
#include "config/address.h"
#include "qtap_abi.h"

namespace qtap {

const char* tls_library_name(uint8_t lib) {
  switch (lib) {
    case QTAP_TLS_OPENSSL: return "openssl";
    case QTAP_TLS_GO: return "go";
    case QTAP_TLS_GNUTLS: return "gnutls";
    case QTAP_TLS_NSS: return "nss";
  }
  return nullptr;
}

Pipeline::Pipeline(PipelineConfig cfg, ProcessCache& processes, Sink& sink)
    : cfg_(std::move(cfg)), processes_(processes), sink_(sink), tracker_(cfg_.tracker, *this) {}

void Pipeline::on_sample(std::span<const uint8_t> sample) {
  stats_.samples++;
  auto ev = events::decode(sample);
  if (!ev) {
    if (stats_.decode_errors++ == 0) spdlog::warn("undecodable kernel event: {}", ev.error().message);
    return;
  }
  on_event(*ev);
}

void Pipeline::on_event(const events::Event& event) {
  std::visit(
      [this](const auto& ev) {
        using T = std::decay_t<decltype(ev)>;
        last_ts_ = ev.hdr.ts_ns;
        if constexpr (std::is_same_v<T, events::Data>) {
          stats_.data_events++;
          stats_.data_bytes += ev.payload.size();
          tracker_.on_data(ev);
        } else if constexpr (std::is_same_v<T, events::ConnOpen>) {
          tracker_.on_open(ev);
        } else if constexpr (std::is_same_v<T, events::ConnClose>) {
          tracker_.on_close(ev);
        } else if constexpr (std::is_same_v<T, events::DataGap>) {
          tracker_.on_gap(ev);
        } else if constexpr (std::is_same_v<T, events::ProcExec>) {
          // exec closes close-on-exec sockets without a close() call.
          end_process(ev.hdr.pid, ev.hdr.ts_ns);
          processes_.on_exec(ev.hdr.pid, ProcessHint{ev.comm, ev.uid, ev.cgroup_id}, ev.filename,
                             ev.args);
          if (observer_) observer_->on_exec(ev.hdr.pid, ev.filename);
        } else if constexpr (std::is_same_v<T, events::ExecMapping>) {
          if (observer_) observer_->on_exec_mapping(ev.hdr.pid, ev.dev, ev.ino, ev.name);
        } else if constexpr (std::is_same_v<T, events::ProcExit>) {
          stats_.processes_exited++;
          end_process(ev.hdr.pid, ev.hdr.ts_ns);
          processes_.on_exit(ev.hdr.pid);
        }
      },
      event);
}

void Pipeline::end_process(uint32_t pid, uint64_t ts_ns) {
  for (int32_t fd : tracker_.end_process(pid, ts_ns)) {
    if (forget_) forget_(pid, fd);
  }
}

void Pipeline::shutdown() {
  tracker_.end_all(last_ts_);
  sink_.flush();
}

ProcessContext Pipeline::process_of(const Connection& conn, uint32_t tid) {
  const ConnInfo& i = conn.info();
  ProcessContext p;
  p.info = processes_.share(i.pid, ProcessHint{i.comm, i.uid, i.cgroup_id});
  p.tid = tid ? tid : i.pid;
  return p;
}

ConnectionContext Pipeline::connection_of(const Connection& conn) const {
  const ConnInfo& i = conn.info();
  ConnectionContext c;
  c.id = i.conn_id;
  if (i.family != 0) {
    c.local = Endpoint{i.local_ip, i.local.port, i.local.addr};
    c.remote = Endpoint{i.remote_ip, i.remote.port, i.remote.addr};
    c.remote_scope = config::scope_name(config::scope_of(config::IpAddress::from_mapped(i.remote.addr)));
  }
  c.direction = conn.direction();
  c.tls = conn.tls();
  if (const char* lib = tls_library_name(conn.tls_library())) c.tls_library = lib;
  if (!conn.tls_sni().empty()) c.tls_sni = conn.tls_sni();
  c.protocol = protocol_name(conn.protocol());
  c.bytes_sent = conn.bytes_sent();
  c.bytes_received = conn.bytes_received();
  return c;
}

void Pipeline::on_exchange(const Connection& conn, HttpExchange&& ex) {
  HttpRecord rec;
  uint64_t start = ex.request ? ex.request->start_ns : (ex.response ? ex.response->start_ns : 0);
  uint64_t end = ex.response ? ex.response->end_ns : (ex.request ? ex.request->end_ns : start);
  rec.time_unix_ns = wall(start);
  rec.duration_ms = end > start ? double(end - start) / 1e6 : 0.0;
  rec.process = process_of(conn, conn.last_tid());
  rec.hostname = hostname_;
  rec.connection = connection_of(conn);
  rec.http = std::move(ex);
  if (conn.info().tls_session != 0) {
    rec.http.notes.push_back(
        "TLS session's socket not known: the library did not read or write it while qtap "
        "watched (memory BIO); connection addresses are missing");
  } else if (conn.tls_socket_inferred()) {
    rec.http.notes.push_back("TLS session matched to its socket by call order (memory BIO)");
  }
  if (policy_ && !policy_->apply(rec, policy_stats_)) return;
  stats_.http_records++;
  sink_.write(rec);
  for (const Finding& f : rec.findings) sink_.write(make_finding_record(rec, f));
}

void Pipeline::on_closed(const Connection& conn) {
  if (!cfg_.report_unknown_connections) return;
  Protocol p = conn.protocol();
  if (p == Protocol::kHttp1 || p == Protocol::kHttp2) return;  // reported exchange by exchange
  if (p == Protocol::kUndetected && conn.bytes_sent() == 0 && conn.bytes_received() == 0 &&
      conn.info().family == 0) {
    return;  // nothing known about it at all
  }
  ConnectionRecord rec;
  uint64_t open = conn.info().open_ts_ns;
  rec.time_unix_ns = wall(open);
  uint64_t end = std::max(conn.last_ts_ns(), open);
  rec.duration_ms = double(end - open) / 1e6;
  rec.process = process_of(conn, conn.last_tid());
  rec.hostname = hostname_;
  rec.connection = connection_of(conn);
  if (policy_ && !policy_->keep(rec, policy_stats_)) return;
  stats_.connection_records++;
  sink_.write(rec);
}

}  // namespace qtap
