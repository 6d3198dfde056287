#include "output/console_sink.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>
#include <iterator>

#include "output/json_writer.h"
#include "output/request_url.h"

namespace qtap {
namespace {

constexpr std::string_view kReset = "\x1b[0m";
constexpr std::string_view kDim = "\x1b[2m";
constexpr std::string_view kRed = "\x1b[31m";
constexpr std::string_view kGreen = "\x1b[32m";
constexpr std::string_view kYellow = "\x1b[33m";
constexpr std::string_view kCyan = "\x1b[36m";

constexpr size_t kContainerIdLen = 64;
constexpr size_t kShortContainerId = 12;
constexpr size_t kBinaryPreviewBytes = 16;
constexpr std::string_view kIndent = "    ";

std::string_view arrow(Direction d) {
  switch (d) {
    case Direction::kEgress:
      return "→";
    case Direction::kIngress:
      return "←";
    case Direction::kUnknown:
      break;
  }
  return "↔";
}

// gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html), by value.
constexpr std::array<std::string_view, 17> kGrpcStatusNames = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};
static_assert(kGrpcStatusNames[16] == "UNAUTHENTICATED");

std::string_view status_color(int status) {
  if (status >= 500) return kRed;
  if (status >= 400) return kYellow;
  if (status >= 300) return kCyan;
  if (status >= 200) return kGreen;
  return {};
}

// Longest prefix of `s` of at most `max` bytes that does not cut a UTF-8
// sequence (s is known to be valid UTF-8).
std::string_view utf8_prefix(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  return s.substr(0, n);
}

// Builds the text of one record into the sink's buffer.
class Text {
 public:
  Text(std::string& out, const ConsoleOptions& opts) : out_(out), opts_(opts) { out_.clear(); }

  template <typename... Args>
  void format(fmt::format_string<Args...> f, Args&&... args) {
    fmt::format_to(std::back_inserter(out_), f, std::forward<Args>(args)...);
  }
  void raw(std::string_view s) { out_.append(s); }

  // Captured bytes are attacker-controlled: an ESC in a header must not reach
  // the operator's terminal. Printable UTF-8 and tabs are kept; other C0
  // controls, DEL, C1 controls (U+0080..U+009F) and bytes outside well-formed
  // UTF-8 become \xNN (\r and \n as such).
  void safe(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
      const auto c = static_cast<unsigned char>(s[i]);
      if ((c >= 0x20 && c < 0x7f) || c == '\t') {
        out_.push_back(static_cast<char>(c));
        ++i;
        continue;
      }
      if (c >= 0x80) {
        const size_t len = json::utf8_sequence_length(s.substr(i));
        const bool c1 = len == 2 && c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0;
        if (len != 0 && !c1) {
          out_.append(s.substr(i, len));
          i += len;
          continue;
        }
        if (c1) {
          format("\\x{:02x}\\x{:02x}", c, static_cast<unsigned char>(s[i + 1]));
          i += 2;
          continue;
        }
      }
      switch (c) {
        case '\n':
          raw("\\n");
          break;
        case '\r':
          raw("\\r");
          break;
        default:
          format("\\x{:02x}", c);
      }
      ++i;
    }
  }

  void paint(std::string_view color, std::string_view text) {
    if (opts_.color && !color.empty()) {
      raw(color);
      raw(text);
      raw(kReset);
    } else {
      raw(text);
    }
  }

  void size(uint64_t bytes) {
    if (bytes < 1024) {
      format("{} B", bytes);
      return;
    }
    static constexpr std::string_view kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes) / 1024.0;
    size_t unit = 0;
    // 1023.96 KiB would print as "1024.0 KiB": move up while it rounds to 1024.
    while (v >= 1023.95 && unit + 1 < std::size(kUnits)) {
      v /= 1024.0;
      ++unit;
    }
    format("{:.1f} {}", v, kUnits[unit]);
  }

  void duration(double ms) {
    if (!std::isfinite(ms)) {
      raw("? ms");
    } else if (ms < 1.0) {
      format("{:.2f} ms", ms);
    } else if (ms < 1000.0) {
      format("{:.1f} ms", ms);
    } else {
      format("{:.2f} s", ms / 1000.0);
    }
  }

  void endpoint(const Endpoint& ep) {
    scratch_.clear();
    append_endpoint(scratch_, ep);
    safe(scratch_);
  }

  // "HH:MM:SS.mmm comm[pid] (container) → ", in local time like the logs on
  // stderr; the container only for processes in one.
  void prefix(int64_t time_unix_ns, const ProcessContext& proc, Direction direction) {
    constexpr int64_t kNsPerSec = 1'000'000'000;
    int64_t secs = time_unix_ns / kNsPerSec;
    int64_t sub = time_unix_ns % kNsPerSec;
    if (sub < 0) {
      sub += kNsPerSec;
      --secs;
    }
    const auto t = static_cast<time_t>(secs);
    struct tm tm {};
    localtime_r(&t, &tm);
    scratch_ =
        fmt::format("{:02}:{:02}:{:02}.{:03}", tm.tm_hour, tm.tm_min, tm.tm_sec, sub / 1'000'000);
    paint(kDim, scratch_);
    raw(" ");
    safe(proc->comm.empty() ? std::string_view("?") : std::string_view(proc->comm));
    format("[{}] ", proc->pid);
    if (proc->container) {
      container(*proc->container);
      raw(" ");
    }
    raw(arrow(direction));
    raw(" ");
  }

  // "(pod prod/checkout-7d9f)" when kubelet's labels are known, else
  // "(containerd:34dc0b5e626f)": which pod says more than which container.
  void container(const ContainerInfo& c) {
    raw("(");
    if (!c.pod_name.empty()) {
      raw("pod ");
      if (!c.pod_namespace.empty()) {
        safe(c.pod_namespace);
        raw("/");
      }
      safe(c.pod_name);
    } else {
      safe(c.runtime.empty() ? std::string_view("container") : std::string_view(c.runtime));
      raw(":");
      // Hex ids are cut as docker ps does; nspawn and lxc ids are names.
      std::string_view id = c.id;
      safe(id.size() == kContainerIdLen ? id.substr(0, kShortContainerId) : id);
    }
    raw(")");
  }

  // "  [tls openssl]"
  void tags(const ConnectionContext& conn) {
    if (conn.tls) {
      raw("  [tls");
      if (conn.tls_library) {
        raw(" ");
        safe(*conn.tls_library);
      }
      raw("]");
    }
  }

  // One line per kept gRPC message, its decoded JSON cut like a body.
  void grpc_messages(std::string_view mark, const std::vector<GrpcMessage>& messages,
                     uint64_t count) {
    for (const GrpcMessage& m : messages) {
      raw(kIndent);
      raw(mark);
      raw("[message ");
      size(m.size);
      if (m.compressed) raw(", compressed");
      if (m.truncated) raw(", truncated");
      if (m.decoded_json.empty() && !m.compressed) raw(", not decoded");
      raw("]");
      if (!m.decoded_json.empty()) {
        raw(" ");
        const std::string_view shown = utf8_prefix(m.decoded_json, opts_.max_body_print);
        safe(shown);
        if (shown.size() < m.decoded_json.size()) raw(" …");
      }
      raw("\n");
    }
    if (count > messages.size()) {
      raw(kIndent);
      raw(mark);
      format("… {} more messages\n", count - messages.size());
    }
  }

  void headers(std::string_view mark, const std::vector<Header>& headers) {
    for (const Header& h : headers) {
      raw(kIndent);
      raw(mark);
      safe(h.name);
      raw(": ");
      safe(h.value);
      raw("\n");
    }
  }

  // Below the headers, after a bare "> " or "< " line as curl -v does.
  void body(std::string_view mark, const Body& body) {
    if (body.size == 0 && body.data.empty()) return;
    raw(kIndent);
    raw(mark.substr(0, 1));
    raw("\n");
    if (body.content_encoding && !body.content_decoded) {
      raw(kIndent);
      raw("[");
      safe(*body.content_encoding);
      raw(" encoded, not decoded]\n");
    }
    const std::string_view data = body.data;
    if (data.empty()) {
      raw(kIndent);
      format("[{} bytes not captured]\n", body.size);
      return;
    }
    if (json::is_valid_utf8(data)) {
      text_lines(utf8_prefix(data, opts_.max_body_print));
      const size_t shown = utf8_prefix(data, opts_.max_body_print).size();
      if (shown < data.size()) {
        raw(kIndent);
        format("… ({} more bytes)\n", data.size() - shown);
      }
    } else {
      raw(kIndent);
      format("[{} bytes binary]", data.size());
      const size_t preview = std::min({data.size(), kBinaryPreviewBytes, opts_.max_body_print});
      for (size_t i = 0; i < preview; ++i) format(" {:02x}", static_cast<unsigned char>(data[i]));
      if (preview < data.size()) raw(" …");
      raw("\n");
    }
    if (body.truncated) {
      raw(kIndent);
      format("[truncated capture: {} of {} bytes]\n", data.size(), body.size);
    }
  }

 private:
  // Each line indented; a CRLF ends a line like a LF; no empty line is added
  // for a final newline.
  void text_lines(std::string_view s) {
    while (!s.empty()) {
      const size_t nl = s.find('\n');
      std::string_view line = s.substr(0, nl);
      s = nl == std::string_view::npos ? std::string_view() : s.substr(nl + 1);
      if (nl != std::string_view::npos && !line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      raw(kIndent);
      safe(line);
      raw("\n");
    }
  }

  std::string& out_;
  const ConsoleOptions& opts_;
  std::string scratch_;
};

}  // namespace

ConsoleSink::ConsoleSink(std::ostream& out, ConsoleOptions opts) : out_(out), opts_(opts) {}

namespace {

// "GET https://example.com/x 200 OK  req 0 B  resp 1.2 KiB"
void http_summary(Text& t, const HttpExchange& ex, const ConnectionContext& conn,
                  const ConsoleOptions& opts) {
  if (ex.request && ex.request->method.empty()) {
    t.raw("(request headers not decoded)");  // HTTP/2 with HPACK state missed
  } else if (ex.request) {
    t.safe(ex.request->method);
    t.raw(" ");
    const RequestUrl url(*ex.request, conn);
    for (std::string_view part : url.url_parts()) t.safe(part);
  } else {
    t.raw("(no request)");
  }
  t.raw(" ");
  if (ex.response && ex.response->status == 0) {
    t.raw("(status unknown)");
  } else if (ex.response) {
    std::string status = std::to_string(ex.response->status);
    if (!ex.response->reason.empty()) {
      status.push_back(' ');
      status.append(ex.response->reason);
    }
    // Painted after sanitising, so the reason phrase cannot carry escapes.
    std::string safe_status;
    Text(safe_status, opts).safe(status);
    t.paint(status_color(ex.response->status), safe_status);
  } else {
    t.paint(kRed, "(no response)");
  }
}

// "grpc helloworld.Greeter/SayHello OK (0)"
void grpc_summary(Text& t, const HttpExchange& ex) {
  const GrpcCall& g = *ex.grpc;
  t.raw("grpc ");
  if (g.service.empty()) {
    t.raw("(unknown method)");
  } else {
    t.safe(g.service);
    t.raw("/");
    t.safe(g.method);
  }
  t.raw(" ");
  if (g.status_code) {
    const int code = *g.status_code;
    std::string status =
        code >= 0 && static_cast<size_t>(code) < kGrpcStatusNames.size()
            ? fmt::format("{} ({})", kGrpcStatusNames[static_cast<size_t>(code)], code)
            : fmt::format("status {}", code);
    t.paint(code == 0 ? kGreen : kRed, status);
  } else {
    t.paint(kRed, "(no status)");
    // A proxy or server that answered without gRPC: its HTTP status says why.
    if (ex.response && ex.response->status != 200 && ex.response->status != 0) {
      std::string http = fmt::format("HTTP {}", ex.response->status);
      t.raw(" ");
      t.paint(status_color(ex.response->status), http);
    }
  }
}

void grpc_sizes(Text& t, std::string_view label, uint64_t count, const Body& body) {
  t.raw(label);
  t.format("{} {} ", count, count == 1 ? "msg" : "msgs");
  t.size(body.size);
}

}  // namespace

void ConsoleSink::write(const HttpRecord& rec) {
  Text t(buf_, opts_);
  const HttpExchange& ex = rec.http;
  t.prefix(rec.time_unix_ns, rec.process, rec.connection.direction);
  if (ex.grpc) {
    grpc_summary(t, ex);
  } else {
    http_summary(t, ex, rec.connection, opts_);
  }
  if (ex.error) {
    std::string error;
    Text(error, opts_).safe(*ex.error);
    t.raw(" ");
    t.paint(kRed, "[" + error + "]");
  }
  if (ex.grpc) {
    if (ex.request) grpc_sizes(t, "  req ", ex.grpc->request_messages, ex.request->body);
    if (ex.response) grpc_sizes(t, "  resp ", ex.grpc->response_messages, ex.response->body);
  } else {
    if (ex.request) {
      t.raw("  req ");
      t.size(ex.request->body.size);
    }
    if (ex.response) {
      t.raw("  resp ");
      t.size(ex.response->body.size);
    }
  }
  t.raw("  ");
  t.duration(rec.duration_ms);
  if (ex.version == "HTTP/2") t.raw("  [h2]");
  t.tags(rec.connection);
  t.raw("\n");

  if (opts_.verbose) {
    if (ex.request) {
      const HttpRequest& req = *ex.request;
      t.raw(kIndent);
      t.raw("> ");
      t.safe(req.method);
      t.raw(" ");
      t.safe(req.target);
      t.raw(" ");
      t.safe(req.version);
      t.raw("\n");
      t.headers("> ", req.headers);
      if (ex.grpc) {
        t.grpc_messages("> ", ex.grpc->requests, ex.grpc->request_messages);
      } else {
        t.body("> ", req.body);
      }
    }
    if (ex.response) {
      const HttpResponse& resp = *ex.response;
      t.raw(kIndent);
      t.raw("< ");
      t.safe(resp.version);
      t.format(" {}", resp.status);
      if (!resp.reason.empty()) {
        t.raw(" ");
        t.safe(resp.reason);
      }
      t.raw("\n");
      t.headers("< ", resp.headers);
      if (ex.grpc) {
        t.grpc_messages("< ", ex.grpc->responses, ex.grpc->response_messages);
      } else {
        t.body("< ", resp.body);
      }
    }
    // Trailers come after the body, as on the wire (curl -v shows them the same way).
    t.headers("< ", ex.trailers);
    if (ex.grpc && !ex.grpc->status_message.empty()) {
      t.raw(kIndent);
      t.raw("status message: ");
      t.safe(ex.grpc->status_message);
      t.raw("\n");
    }
    for (const std::string& note : ex.notes) {
      t.raw(kIndent);
      t.raw("note: ");
      t.safe(note);
      t.raw("\n");
    }
    // Which detectors fired where; the details are on the finding lines.
    if (!rec.findings.empty()) {
      t.raw(kIndent);
      t.paint(kYellow, "! findings:");
      for (size_t i = 0; i < rec.findings.size(); ++i) {
        t.raw(i == 0 ? " " : ", ");
        t.safe(rec.findings[i].detector);
        t.raw("(");
        t.safe(rec.findings[i].location);
        t.raw(")");
      }
      t.raw("\n");
    }
  }
  out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
}

void ConsoleSink::write(const ConnectionRecord& rec) {
  Text t(buf_, opts_);
  const ConnectionContext& conn = rec.connection;
  t.prefix(rec.time_unix_ns, rec.process, conn.direction);
  // The peer first, as in HTTP lines: "comm → peer" reads as "talked to".
  t.raw("tcp ");
  t.endpoint(conn.remote);
  t.raw(" ↔ ");
  t.endpoint(conn.local);
  t.raw(" ");
  t.safe(conn.protocol.empty() ? std::string_view("unknown") : std::string_view(conn.protocol));
  t.raw(" protocol, sent ");
  t.size(conn.bytes_sent);
  t.raw(", received ");
  t.size(conn.bytes_received);
  t.raw(", ");
  t.duration(rec.duration_ms);
  t.tags(conn);
  t.raw("\n");
  out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
}

// "05:55:03.123 curl[1234] → ⚠ credit_card in request.body (1) → 93.184.216.34:443 [ALERT]"
void ConsoleSink::write(const FindingRecord& rec) {
  Text t(buf_, opts_);
  const Finding& f = rec.finding;
  t.prefix(rec.time_unix_ns, rec.process, rec.connection.direction);
  std::string what;
  Text text(what, opts_);
  text.raw("⚠ ");
  text.safe(f.detector);
  text.raw(" in ");
  text.safe(f.location);
  text.format(" ({})", f.count);
  // Painted after sanitising, as the HTTP status is.
  t.paint(kYellow, what);
  t.raw(" ");
  t.raw(arrow(rec.connection.direction));
  t.raw(" ");
  t.endpoint(rec.connection.remote);
  if (f.alert) {
    t.raw(" ");
    t.paint(kRed, "[ALERT]");
  }
  t.raw("\n");
  out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
}

void ConsoleSink::flush() { out_.flush(); }

}  // namespace qtap
