#include "output/jsonl_sink.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "output/json_writer.h"
#include "output/request_url.h"

namespace qtap {
namespace {

std::string_view direction_name(Direction d) {
  switch (d) {
    case Direction::kEgress:
      return "egress";
    case Direction::kIngress:
      return "ingress";
    case Direction::kUnknown:
      break;
  }
  return "unknown";
}

void write_endpoint_fields(json::Writer& w, const Endpoint& ep) {
  w.key("ip").string(ep.ip);
  w.key("port").uint(ep.port);
}

// An empty string as null: the fields the context could not fill.
void string_or_null(json::Writer& w, std::string_view key, std::string_view s) {
  w.key(key);
  if (s.empty()) {
    w.null();
  } else {
    w.string(s);
  }
}

// 64 hex digits: an OCI runtime's id, not an nspawn or lxc container name.
bool is_hex_id(std::string_view id) {
  return id.size() == 64 && std::all_of(id.begin(), id.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) != 0;
         });
}

// The key `container` replaced, kept: schema.md promises keys are never removed.
void write_container_id(json::Writer& w, const std::optional<ContainerInfo>& c) {
  w.key("container_id");
  if (c && is_hex_id(c->id)) {
    w.string(c->id);
  } else {
    w.null();
  }
}

void write_container(json::Writer& w, const std::optional<ContainerInfo>& c) {
  w.key("container");
  if (!c) {
    w.null();
    return;
  }
  w.begin_object();
  string_or_null(w, "runtime", c->runtime);
  string_or_null(w, "id", c->id);
  string_or_null(w, "pod_uid", c->pod_uid);
  string_or_null(w, "name", c->name);
  string_or_null(w, "image", c->image);
  w.key("labels").begin_object();
  for (const auto& [k, v] : c->labels) w.escaped_key(k).string(v);
  w.end_object();
  string_or_null(w, "pod_name", c->pod_name);
  string_or_null(w, "pod_namespace", c->pod_namespace);
  w.end_object();
}

// process, host and connection: the fields every record type has.
// The members of a process object after "tid", serialised once per process
// and reused while its ProcessInfo stays the same: escaping the command line
// and paths of every record was a tenth of the agent's CPU under load.
std::string_view process_members(const std::shared_ptr<const ProcessInfo>& shared) {
  struct Entry {
    // Held, so its address cannot be reused by another process's answer.
    std::shared_ptr<const ProcessInfo> info;
    std::string json;
  };
  thread_local std::array<Entry, 64> cache;  // direct-mapped by pid
  thread_local json::Writer scratch;
  const ProcessInfo& p = *shared;
  Entry& e = cache[p.pid % cache.size()];
  if (e.info != shared) {
    scratch.clear();
    scratch.begin_object();
    scratch.key("comm").string(p.comm);
    scratch.key("exe").string(p.exe);
    scratch.key("cmdline").string(p.cmdline);
    scratch.key("uid").uint(p.uid);
    scratch.key("user").string(p.user);
    scratch.key("cgroup").string(p.cgroup);
    write_container_id(scratch, p.container);
    write_container(scratch, p.container);
    scratch.key("netns").uint(p.netns);
    scratch.end_object();
    std::string_view v = scratch.view();
    e.json.assign(v.substr(1, v.size() - 2));  // without the braces
    e.info = shared;
  }
  return e.json;
}

void write_who(json::Writer& w, const ProcessContext& proc, const std::string& hostname,
               const ConnectionContext& conn) {
  const ProcessInfo& p = *proc;
  w.key("process").begin_object();
  w.key("pid").uint(p.pid);
  w.key("tid").uint(proc.tid);
  w.raw_json(process_members(proc.info));
  w.end_object();

  w.key("host").begin_object();
  w.key("hostname").string(hostname);
  w.end_object();

  w.key("connection").begin_object();
  w.key("id").uint(conn.id);
  w.key("local").begin_object();
  write_endpoint_fields(w, conn.local);
  w.end_object();
  w.key("remote").begin_object();
  write_endpoint_fields(w, conn.remote);
  string_or_null(w, "scope", conn.remote_scope);
  w.end_object();
  w.key("direction").string(direction_name(conn.direction));
  w.key("tls").boolean(conn.tls);
  w.key("tls_library").optional_string(conn.tls_library);
  w.key("tls_sni").optional_string(conn.tls_sni);
  w.key("protocol").string(conn.protocol);
  w.key("bytes_sent").uint(conn.bytes_sent);
  w.key("bytes_received").uint(conn.bytes_received);
  w.end_object();
}

// The fields http and connection records share, in schema order.
void write_context(json::Writer& w, int64_t time_unix_ns, double duration_ms,
                   const ProcessContext& proc, const std::string& hostname,
                   const ConnectionContext& conn) {
  w.key("time").rfc3339_micros(time_unix_ns);
  // Whole microseconds: 3.4, not 3.4000000000000004.
  w.key("duration_ms").number_3dp(duration_ms);
  write_who(w, proc, hostname, conn);
}

// detector, location, count, alert: the members of a findings entry, also
// the top-level keys of a finding record.
void write_finding_fields(json::Writer& w, const Finding& f) {
  w.key("detector").string(f.detector);
  w.key("location").string(f.location);
  w.key("count").uint(f.count);
  w.key("alert").boolean(f.alert);
}

void write_findings(json::Writer& w, const std::vector<Finding>& findings) {
  w.key("findings").begin_array();
  for (const Finding& f : findings) {
    w.begin_object();
    write_finding_fields(w, f);
    w.end_object();
  }
  w.end_array();
}

void write_headers(json::Writer& w, std::string_view key, const std::vector<Header>& headers) {
  w.key(key).begin_array();
  for (const Header& h : headers) {
    w.begin_object();
    w.key("name").string(h.name);
    w.key("value").string(h.value);
    w.end_object();
  }
  w.end_array();
}

void write_body(json::Writer& w, const Body& b) {
  w.key("body").begin_object();
  w.key("size").uint(b.size);
  w.key("wire_size").uint(b.wire_size);
  w.key("captured").uint(b.captured);
  w.key("truncated").boolean(b.truncated);
  w.key("content_encoding").optional_string(b.content_encoding);
  w.key("content_decoded").boolean(b.content_decoded);
  // Most bodies are text: write them as such in one pass, and only when a
  // byte proves otherwise go back and write base64 instead.
  const json::Writer::Mark before = w.mark();
  w.key("encoding").string("utf8");
  if (!w.key("data").string_if_utf8(b.data)) {
    w.rewind(before);
    w.key("encoding").string("base64");
    w.key("data").base64(b.data);
  }
  w.end_object();
}

void write_request(json::Writer& w, const HttpRequest& req, const ConnectionContext& conn) {
  const RequestUrl url(req, conn);
  w.begin_object();
  w.key("method").string(req.method);
  w.key("url").string_parts(url.url_parts());
  w.key("authority").string(url.authority());
  w.key("path").string(url.path());
  w.key("target").string(req.target);
  write_headers(w, "headers", req.headers);
  write_body(w, req.body);
  w.end_object();
}

void write_response(json::Writer& w, const HttpResponse& resp) {
  w.begin_object();
  w.key("status").sint(resp.status);
  w.key("reason").string(resp.reason);
  write_headers(w, "headers", resp.headers);
  write_body(w, resp.body);
  w.end_object();
}

void write_grpc_messages(json::Writer& w, const std::vector<GrpcMessage>& messages) {
  w.begin_array();
  for (const GrpcMessage& m : messages) {
    w.begin_object();
    w.key("size").uint(m.size);
    w.key("compressed").boolean(m.compressed);
    w.key("truncated").boolean(m.truncated);
    // decoded_json is made by protobuf_to_json, which only ever produces valid JSON.
    w.key("decoded");
    if (m.decoded_json.empty()) {
      w.null();
    } else {
      w.raw_json(m.decoded_json);
    }
    w.end_object();
  }
  w.end_array();
}

void write_grpc(json::Writer& w, const GrpcCall& g) {
  w.begin_object();
  w.key("service").string(g.service);
  w.key("method").string(g.method);
  w.key("status_code").optional_sint(g.status_code);
  w.key("status_message").string(g.status_message);
  w.key("request_messages").uint(g.request_messages);
  w.key("response_messages").uint(g.response_messages);
  w.key("requests");
  write_grpc_messages(w, g.requests);
  w.key("responses");
  write_grpc_messages(w, g.responses);
  w.end_object();
}

void write_exchange(json::Writer& w, const HttpExchange& ex, const ConnectionContext& conn) {
  w.key("http").begin_object();
  w.key("version").string(ex.version);
  if (ex.stream_id != 0) w.key("stream_id").uint(ex.stream_id);
  w.key("request");
  if (ex.request) {
    write_request(w, *ex.request, conn);
  } else {
    w.null();
  }
  w.key("response");
  if (ex.response) {
    write_response(w, *ex.response);
  } else {
    w.null();
  }
  write_headers(w, "trailers", ex.trailers);
  w.key("error").optional_string(ex.error);
  w.key("grpc");
  if (ex.grpc) {
    write_grpc(w, *ex.grpc);
  } else {
    w.null();
  }
  w.key("notes").begin_array();
  for (const std::string& note : ex.notes) w.string(note);
  w.end_array();
  w.end_object();
}

// One writer per thread, reused: its storage stays at the size of the
// largest recent line instead of being allocated per record.
json::Writer& thread_writer() {
  thread_local json::Writer w;
  w.clear();
  return w;
}

// Above this a buffer is given back after use (a body near --max-body
// escaped to six bytes per byte would otherwise stay allocated).
constexpr size_t kKeepWriterBytes = 1 << 20;

void write_record(json::Writer& w, const HttpRecord& rec) {
  w.begin_object();
  w.key("type").string("http");
  write_context(w, rec.time_unix_ns, rec.duration_ms, rec.process, rec.hostname, rec.connection);
  write_exchange(w, rec.http, rec.connection);
  write_findings(w, rec.findings);
  w.end_object();
}

void write_record(json::Writer& w, const ConnectionRecord& rec) {
  w.begin_object();
  w.key("type").string("connection");
  write_context(w, rec.time_unix_ns, rec.duration_ms, rec.process, rec.hostname, rec.connection);
  w.end_object();
}

void write_record(json::Writer& w, const FindingRecord& rec) {
  w.begin_object();
  w.key("type").string("finding");
  w.key("time").rfc3339_micros(rec.time_unix_ns);
  write_who(w, rec.process, rec.hostname, rec.connection);
  write_finding_fields(w, rec.finding);
  w.key("http").begin_object();
  w.key("method").optional_string(rec.method);
  w.key("url").optional_string(rec.url);
  w.key("status").optional_sint(rec.status);
  w.end_object();
  w.end_object();
}

template <typename Record>
void append_json(const Record& rec, std::string& out) {
  json::Writer& w = thread_writer();
  write_record(w, rec);
  out.append(w.view());
  w.release_if_larger(kKeepWriterBytes);
}

}  // namespace

void to_json(const HttpRecord& rec, std::string& out) { append_json(rec, out); }
void to_json(const ConnectionRecord& rec, std::string& out) { append_json(rec, out); }
void to_json(const FindingRecord& rec, std::string& out) { append_json(rec, out); }

JsonlSink::JsonlSink(std::ostream& out) : out_(out) {}

JsonlSink::~JsonlSink() { flush(); }

template <typename Record>
void JsonlSink::append(const Record& rec) {
  // Straight into the batch: no copy of the line.
  write_record(batch_, rec);
  batch_.end_line();
  if (batch_.size() >= kBatchBytes) write_batch();
}

void JsonlSink::write(const HttpRecord& rec) { append(rec); }
void JsonlSink::write(const ConnectionRecord& rec) { append(rec); }
void JsonlSink::write(const FindingRecord& rec) { append(rec); }

void JsonlSink::write_batch() {
  const std::string_view v = batch_.view();
  out_.write(v.data(), static_cast<std::streamsize>(v.size()));
  batch_.clear();
  // A batch that grew around one huge body is not kept for the sink's life.
  batch_.release_if_larger(4 * kBatchBytes);
}

void JsonlSink::flush() {
  if (batch_.size() != 0) write_batch();
  out_.flush();
}

}  // namespace qtap
