#include "policy/policy.h"

#include <fmt/format.h>

namespace qtap {

namespace {

void strip_body(Body& b) {
  if (b.data.empty()) return;
  b.data.clear();
  b.data.shrink_to_fit();
  b.captured = 0;
  b.truncated = b.size > 0;
}

void cut_body(Body& b, uint64_t max_body) {
  if (b.data.size() <= max_body) return;
  b.data.resize(max_body);
  b.captured = max_body;
  b.truncated = true;
}

}  // namespace

void redact_cmdline(std::string& cmdline, const Redactor& r) {
  // Words are space-separated; a secret runs to the next option (" -") or
  // the end, so "-H 'Authorization: Bearer abc'" loses "Bearer abc".
  auto redact_from = [&](size_t from) {
    size_t end = cmdline.find(" -", from);
    if (end == std::string::npos) end = cmdline.size();
    if (end > from) cmdline.replace(from, end - from, kRedacted);
  };
  size_t pos = 0;
  std::string_view prev;
  while (pos < cmdline.size()) {
    size_t end = cmdline.find(' ', pos);
    if (end == std::string::npos) end = cmdline.size();
    std::string_view word(cmdline.data() + pos, end - pos);
    size_t skip_to = end + 1;
    if ((prev == "-u" || prev == "--user" || prev == "--proxy-user") && word.find(':') != std::string_view::npos) {
      size_t colon = pos + word.find(':') + 1;  // user:password, one word
      cmdline.replace(colon, end - colon, kRedacted);
      skip_to = colon + kRedacted.size() + 1;
    } else if (size_t sep = word.find_first_of(":="); sep != std::string_view::npos && sep > 0) {
      std::string_view name = word.substr(0, sep);
      while (name.starts_with('-')) name.remove_prefix(1);
      if (!name.empty() && r.sensitive_name(name)) {
        size_t value = pos + sep + 1;
        while (value < cmdline.size() && cmdline[value] == ' ') ++value;
        redact_from(value);
        skip_to = value + kRedacted.size() + 1;
      }
    }
    prev = std::string_view(cmdline).substr(pos, std::min(end, cmdline.size()) - pos);
    pos = skip_to;
  }
}

std::string_view request_host(const HttpExchange& ex) {
  if (!ex.request) return {};
  const auto& h = ex.request->headers;
  const Header* host = find_header(h, "host");
  if (!host) host = find_header(h, ":authority");
  return host ? std::string_view(host->value) : std::string_view();
}

void apply_capture_level(HttpExchange& ex, config::CaptureLevel level, std::optional<uint64_t> max_body) {
  using config::CaptureLevel;
  auto each_body = [&](auto&& fn) {
    if (ex.request) fn(ex.request->body);
    if (ex.response) fn(ex.response->body);
  };
  if (level == CaptureLevel::kSummary) {
    if (ex.request) ex.request->headers.clear();
    if (ex.response) ex.response->headers.clear();
    ex.trailers.clear();
  }
  if (level <= CaptureLevel::kHeaders) {
    each_body(strip_body);
    if (ex.grpc) {
      for (auto* msgs : {&ex.grpc->requests, &ex.grpc->responses}) {
        for (auto& m : *msgs) m.decoded_json.clear();
      }
    }
    ex.notes.push_back(fmt::format("capture level {}: {} not kept", config::level_name(level),
                                   level == CaptureLevel::kSummary ? "headers and bodies" : "bodies"));
    return;
  }
  if (max_body) each_body([&](Body& b) { cut_body(b, *max_body); });
}

Result<std::unique_ptr<Policy>> Policy::make(config::Config cfg, bool no_redact) {
  std::unique_ptr<Policy> p(new Policy(std::move(cfg)));
  const config::Config& c = p->cfg_;
  RedactionSettings rs = c.redaction;
  rs.enabled = rs.enabled && !no_redact;
  if (rs.enabled) {
    auto r = Redactor::make(rs);
    if (!r) return make_error(fmt::format("redaction: {}", r.error().message));
    p->redactor_.emplace(std::move(*r));
  }
  if (c.audit.enabled && c.audit.detectors.any()) {
    AuditSettings as;
    as.detectors = c.audit.detector_names();
    auto a = Auditor::make(as);
    if (!a) return make_error(fmt::format("audit: {}", a.error().message));
    p->auditor_.emplace(std::move(*a));
  }
  return p;
}

bool Policy::alerting(const config::ConnectionFacts& conn, std::string_view host) const {
  const auto& alerts = cfg_.audit.alerts;
  if (conn.direction != Direction::kEgress) return false;
  if (!host.empty() && alerts.domain_allowed(host)) return false;
  if (alerts.public_egress && conn.remote_scope == config::AddressScope::kPublic) return true;
  // An allow-list makes every other named destination an alert.
  return !alerts.allowed_domains.empty() && !host.empty();
}

bool Policy::apply(HttpRecord& rec, PolicyStats& stats) {
  config::ConnectionFacts facts = config::ConnectionFacts::from(rec.connection);
  config::Subject subject;
  subject.process = rec.process.info.get();
  subject.container = rec.process->container ? &*rec.process->container : nullptr;
  subject.connection = &facts;
  subject.http_host = request_host(rec.http);
  if (rec.connection.tls_sni) subject.tls_sni = *rec.connection.tls_sni;
  config::Decision d = config::decide(cfg_.capture, subject);
  if (d.level == config::CaptureLevel::kNone) {
    stats.dropped_records++;
    return false;
  }
  if (auditor_) {
    rec.findings = auditor_->scan(rec.http);
    if (!rec.findings.empty()) {
      bool alert = alerting(facts, subject.http_host);
      for (auto& f : rec.findings) f.alert = alert;
      stats.findings += rec.findings.size();
      if (alert) stats.alerts += rec.findings.size();
    }
  }
  // subject.http_host points into the request: no use of it past this line.
  if (redactor_) {
    redactor_->apply(rec.http);
    rec.process.info = redacted(rec.process.info);
  }
  apply_capture_level(rec.http, d.level, d.max_body);
  return true;
}

bool Policy::keep(ConnectionRecord& rec, PolicyStats& stats) const {
  config::ConnectionFacts facts = config::ConnectionFacts::from(rec.connection);
  config::Subject subject;
  subject.process = rec.process.info.get();
  subject.container = rec.process->container ? &*rec.process->container : nullptr;
  subject.connection = &facts;
  if (rec.connection.tls_sni) subject.tls_sni = *rec.connection.tls_sni;
  if (config::decide(cfg_.capture, subject).level == config::CaptureLevel::kNone) {
    stats.dropped_records++;
    return false;
  }
  if (redactor_) rec.process.info = redacted(rec.process.info);
  return true;
}

std::shared_ptr<const ProcessInfo> Policy::redacted(const std::shared_ptr<const ProcessInfo>& p) const {
  auto it = redacted_.find(p.get());
  if (it != redacted_.end() && it->second.first == p) return it->second.second;
  if (redacted_.size() >= kRedactedCacheSize) redacted_.clear();
  std::string cmdline = p->cmdline;
  redact_cmdline(cmdline, *redactor_);
  std::shared_ptr<const ProcessInfo> out = p;
  if (cmdline != p->cmdline) {
    auto copy = std::make_shared<ProcessInfo>(*p);
    copy->cmdline = std::move(cmdline);
    out = std::move(copy);
  }
  redacted_[p.get()] = {p, out};
  return out;
}

}  // namespace qtap
