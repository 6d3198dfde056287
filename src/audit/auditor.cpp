#include "audit/auditor.h"

#include <hs.h>

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "audit/candidate_scan.h"
#include "audit/hyperscan_db.h"
#include "audit/text_util.h"
#include "audit/validators.h"

namespace qtap {
namespace {

using audit::kDetectorNames;

enum Detector : uint8_t {
  kCreditCard,
  kIban,
  kEmail,
  kJwt,
  kPrivateKey,
  kAwsAccessKey,
  kGithubToken,
  kGitlabToken,
  kSlackToken,
  kHighEntropy,
  kDetectorCount,
};
static_assert(kDetectorCount == kDetectorNames.size());
static_assert(kDetectorNames[kHighEntropy] == "high_entropy");
static_assert(kDetectorNames[kSlackToken] == "slack_token");

// How a Hyperscan match is checked before it counts.
enum class Check : uint8_t {
  kNone,           // the pattern says it all (private key armour, Slack webhook URL)
  kEmail,          // local part and domain (validators.h)
  kEmailEncoded,   // the same with "%40" for '@'
  kJwt,            // header decodes to JSON with "alg"
  kToken,          // not glued to a word on either side
  kTokenStart,     // not glued to a word before it (the pattern ends it)
};

struct PatternDef {
  Detector detector;
  Check check;
  const char* expression;
};

// Every pattern starts with a literal, which keeps the database at 10+ GB/s
// and makes start-of-match tracking (HS_FLAG_SOM_LEFTMOST, on for all of them)
// cheap. Matches never contain '\n', so buffers joined with '\n' cannot
// produce a match across two of them.
constexpr PatternDef kPatterns[] = {
    // E-mail from the '@': the local part, an unbounded class before a
    // literal, would make start-of-match tracking 100 times slower.
    {kEmail, Check::kEmail, R"(@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"},
    {kEmail, Check::kEmailEncoded, R"(%40[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"},
    // {"... is eyJ in base64url.
    {kJwt, Check::kJwt, R"(eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)"},
    {kPrivateKey, Check::kNone, R"(-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)"},
    {kAwsAccessKey, Check::kToken, R"((?:AKIA|ASIA)[A-Z0-9]{16})"},
    {kGithubToken, Check::kToken, R"(gh[pousr]_[A-Za-z0-9]{36,251})"},
    {kGithubToken, Check::kToken, R"(github_pat_[A-Za-z0-9]{20,}_[A-Za-z0-9]{40,})"},
    {kGitlabToken, Check::kTokenStart, R"(glpat-[A-Za-z0-9_-]{20,})"},
    {kSlackToken, Check::kTokenStart, R"(xox[abprs]-[A-Za-z0-9-]{10,})"},
    {kSlackToken, Check::kNone,
     R"(hooks\.slack\.com/services/[A-Za-z0-9_]+/[A-Za-z0-9_]+/[A-Za-z0-9_]+)"},
};
constexpr size_t kPatternCount = std::size(kPatterns);

// Header values that are random by design but not secrets: hashes, trace
// and request ids, multipart boundaries, CSP nonces. Not searched for
// high_entropy (the other detectors still look at them).
constexpr std::string_view kNoEntropyHeaders[] = {
    "content-type",   "etag",          "if-match",        "if-none-match",
    "traceparent",    "tracestate",    "x-request-id",    "x-correlation-id",
    "x-amzn-trace-id", "x-amz-content-sha256", "x-amz-id-2", "x-amz-request-id",
    "x-amz-cf-id",    "x-cloud-trace-context", "x-b3-traceid", "x-b3-spanid",
    "x-b3-parentspanid", "b3",      "uber-trace-id",   "x-datadog-trace-id",
    "x-datadog-parent-id", "content-md5", "digest",    "content-digest",
    "repr-digest",    "x-goog-hash",   "sec-websocket-key", "sec-websocket-accept",
    "content-security-policy", "content-security-policy-report-only",
};

// A flood of matches (a body made of addresses) is counted up to this many
// candidates per exchange; beyond, counts are lower bounds.
constexpr size_t kMaxCandidates = 1 << 16;

enum class Where : uint8_t {
  kUrl,
  kRequestHeader,
  kRequestBody,
  kGrpcRequest,
  kResponseHeader,
  kResponseBody,
  kGrpcResponse,
  kTrailer,
};

struct Buffer {
  std::string_view text;
  Where where;
  std::string_view header_name;  // header locations only
  bool entropy = false;          // searched for high_entropy
  uint64_t offset = 0;           // of text in the vectored stream
};

struct OpenMatch {
  uint64_t from = 0;
  uint64_t to = 0;
  bool active = false;
};

struct Candidate {
  uint32_t pattern;
  uint64_t from;
  uint64_t to;
};

// Where a detector matched, so high_entropy does not count the same token
// again (a GitHub token in Authorization is one finding, not two).
struct Region {
  uint32_t buffer;
  size_t start;
  size_t end;
};

std::optional<Detector> detector_by_name(std::string_view name) {
  for (size_t i = 0; i < kDetectorNames.size(); ++i) {
    if (kDetectorNames[i] == name) return static_cast<Detector>(i);
  }
  return std::nullopt;
}

Result<uint32_t> detector_mask(const std::vector<std::string>& names) {
  constexpr uint32_t kAll = (1u << kDetectorCount) - 1;
  if (names.empty()) return kAll;
  uint32_t mask = 0;
  for (const std::string& name : names) {
    const std::optional<Detector> d = detector_by_name(name);
    if (!d) {
      return make_error(fmt::format("unknown audit detector '{}' (known: {})", name,
                                    fmt::join(kDetectorNames, ", ")));
    }
    mask |= 1u << *d;
  }
  return mask;
}

bool no_entropy_header(std::string_view name) {
  return std::any_of(std::begin(kNoEntropyHeaders), std::end(kNoEntropyHeaders),
                     [&](std::string_view h) { return iequals_ascii(h, name); });
}

std::string location_of(const Buffer& b) {
  switch (b.where) {
    case Where::kUrl:
      return "request.url";
    case Where::kRequestHeader:
      return fmt::format("request.header:{}", b.header_name);
    case Where::kRequestBody:
      return "request.body";
    case Where::kGrpcRequest:
      return "grpc.request";
    case Where::kResponseHeader:
      return fmt::format("response.header:{}", b.header_name);
    case Where::kResponseBody:
      return "response.body";
    case Where::kGrpcResponse:
      return "grpc.response";
    case Where::kTrailer:
      return fmt::format("response.trailer:{}", b.header_name);
  }
  return "unknown";
}

bool any_decoded(const std::vector<GrpcMessage>& messages) {
  return std::any_of(messages.begin(), messages.end(),
                     [](const GrpcMessage& m) { return !m.decoded_json.empty(); });
}

}  // namespace

struct Auditor::Impl {
  bool enabled = false;
  uint32_t detectors = 0;  // bit per Detector
  std::optional<audit::HyperscanDb> db;

  // Per-scan state, kept between scans so a scan allocates nothing for it
  // once these have grown to the usual size.
  std::vector<Buffer> buffers;
  std::vector<const char*> hs_data;
  std::vector<unsigned> hs_lengths;
  std::array<OpenMatch, kPatternCount> open{};
  std::vector<Candidate> candidates;
  std::vector<uint32_t> counts;  // buffers.size() x kDetectorCount
  std::vector<Region> regions;

  bool on(Detector d) const { return (detectors >> d) & 1; }

  void add(std::string_view text, Where where, std::string_view header_name = {},
           bool entropy = false) {
    if (text.empty()) return;
    buffers.push_back({text, where, header_name, entropy, 0});
  }
  void add_headers(const std::vector<Header>& headers, Where where) {
    for (const Header& h : headers) {
      add(h.value, where, h.name, on(kHighEntropy) && !no_entropy_header(h.name));
    }
  }
  void add_body(const Body& body, Where where) {
    add(audit::utf8_text(body.data, body.truncated), where);
  }
  void add_messages(const std::vector<GrpcMessage>& messages, Where where) {
    for (const GrpcMessage& m : messages) add(m.decoded_json, where);
  }

  void collect(const HttpExchange& ex) {
    buffers.clear();
    if (ex.request) {
      const HttpRequest& req = *ex.request;
      add(req.target, Where::kUrl, {}, on(kHighEntropy));
      add_headers(req.headers, Where::kRequestHeader);
      const bool decoded = ex.grpc && any_decoded(ex.grpc->requests);
      if (!decoded) add_body(req.body, Where::kRequestBody);
      if (ex.grpc) add_messages(ex.grpc->requests, Where::kGrpcRequest);
    }
    if (ex.response) {
      const HttpResponse& resp = *ex.response;
      add_headers(resp.headers, Where::kResponseHeader);
      const bool decoded = ex.grpc && any_decoded(ex.grpc->responses);
      if (!decoded) add_body(resp.body, Where::kResponseBody);
      if (ex.grpc) add_messages(ex.grpc->responses, Where::kGrpcResponse);
    }
    add_headers(ex.trailers, Where::kTrailer);
  }

  void count(uint32_t buffer, Detector d, size_t start, size_t end, uint32_t n = 1) {
    counts[buffer * kDetectorCount + d] += n;
    if (buffers[buffer].entropy) regions.push_back({buffer, start, end});
  }

  static void on_match(unsigned id, uint64_t from, uint64_t to, void* ctx) {
    auto* self = static_cast<Impl*>(ctx);
    OpenMatch& o = self->open[id];
    // Matches arrive by end offset; with leftmost starts, the ends of one
    // token (every end of an e-mail's TLD, of a JWT's signature) overlap the
    // first: merge them into one candidate spanning the longest match.
    if (o.active && from < o.to) {
      o.from = std::min(o.from, from);
      o.to = std::max(o.to, to);
      return;
    }
    if (o.active) self->push(id, o);
    o = {from, to, true};
  }

  void push(unsigned id, const OpenMatch& o) {
    if (candidates.size() < kMaxCandidates) candidates.push_back({id, o.from, o.to});
  }

  void run_hyperscan() {
    hs_data.clear();
    hs_lengths.clear();
    uint64_t offset = 0;
    static constexpr char kSeparator = '\n';
    for (Buffer& b : buffers) {
      if (!hs_data.empty()) {
        hs_data.push_back(&kSeparator);
        hs_lengths.push_back(1);
        offset += 1;
      }
      b.offset = offset;
      hs_data.push_back(b.text.data());
      hs_lengths.push_back(static_cast<unsigned>(b.text.size()));
      offset += b.text.size();
    }
    candidates.clear();
    for (OpenMatch& o : open) o.active = false;
    db->scan(hs_data, hs_lengths, &Impl::on_match, this);
    for (size_t id = 0; id < open.size(); ++id) {
      if (open[id].active) push(static_cast<unsigned>(id), open[id]);
    }
    for (const Candidate& c : candidates) {
      // The buffer holding the match: the last one starting at or before it.
      const auto it = std::upper_bound(buffers.begin(), buffers.end(), c.from,
                                       [](uint64_t off, const Buffer& b) { return off < b.offset; });
      const auto index = static_cast<uint32_t>(it - buffers.begin() - 1);
      const std::string_view text = buffers[index].text;
      const size_t start = c.from - buffers[index].offset;
      const size_t end = std::min<size_t>(c.to - buffers[index].offset, text.size());
      const PatternDef& p = kPatterns[c.pattern];
      bool valid = false;
      switch (p.check) {
        case Check::kNone:
          valid = true;
          break;
        case Check::kEmail:
          valid = audit::email_valid(text, start, end, false);
          break;
        case Check::kEmailEncoded:
          valid = audit::email_valid(text, start, end, true);
          break;
        case Check::kJwt:
          valid = audit::jwt_valid(text, start, end);
          break;
        case Check::kToken:
          valid = audit::starts_token(text, start) && audit::ends_token(text, end);
          break;
        case Check::kTokenStart:
          valid = audit::starts_token(text, start);
          break;
      }
      if (valid) count(index, p.detector, start, end);
    }
  }

  struct SpanContext {
    Impl* self;
    uint32_t buffer;
  };

  void run_digit_scans() {
    for (uint32_t i = 0; i < buffers.size(); ++i) {
      SpanContext ctx{this, i};
      if (on(kCreditCard)) {
        audit::find_digit_runs(
            buffers[i].text,
            [](void* p, size_t start, size_t end) {
              auto* c = static_cast<SpanContext*>(p);
              const size_t n = audit::count_cards(c->self->buffers[c->buffer].text, start, end);
              if (n > 0) c->self->count(c->buffer, kCreditCard, start, end, static_cast<uint32_t>(n));
            },
            &ctx);
      }
      if (on(kIban)) {
        audit::find_iban_starts(
            buffers[i].text,
            [](void* p, size_t start, size_t) {
              auto* c = static_cast<SpanContext*>(p);
              const size_t end = audit::match_iban(c->self->buffers[c->buffer].text, start);
              if (end != 0) c->self->count(c->buffer, kIban, start, end);
            },
            &ctx);
      }
    }
  }

  bool overlaps_match(uint32_t buffer, size_t start, size_t end) const {
    return std::any_of(regions.begin(), regions.end(), [&](const Region& r) {
      return r.buffer == buffer && r.start < end && start < r.end;
    });
  }

  void entropy_in(uint32_t buffer, std::string_view text, size_t base) {
    audit::for_each_high_entropy_token(text, [&](size_t off, size_t len) {
      if (!overlaps_match(buffer, base + off, base + off + len)) {
        counts[buffer * kDetectorCount + kHighEntropy] += 1;
      }
    });
  }

  void run_entropy() {
    for (uint32_t i = 0; i < buffers.size(); ++i) {
      const Buffer& b = buffers[i];
      if (!b.entropy) continue;
      if (b.where != Where::kUrl) {
        entropy_in(i, b.text, 0);
        continue;
      }
      // In a URL, only the values of query parameters: paths are not tokens.
      const size_t query = b.text.find('?');
      if (query == std::string_view::npos) continue;
      const size_t fragment = b.text.find('#', query);
      const size_t query_end = fragment == std::string_view::npos ? b.text.size() : fragment;
      size_t pos = query + 1;
      while (pos < query_end) {
        size_t amp = b.text.find('&', pos);
        if (amp == std::string_view::npos || amp > query_end) amp = query_end;
        const std::string_view param = b.text.substr(pos, amp - pos);
        const size_t eq = param.find('=');
        const size_t value_at = eq == std::string_view::npos ? 0 : eq + 1;
        entropy_in(i, param.substr(value_at), pos + value_at);
        pos = amp + 1;
      }
    }
  }

  std::vector<Finding> report() const {
    std::vector<Finding> findings;
    if (std::all_of(counts.begin(), counts.end(), [](uint32_t n) { return n == 0; })) {
      return findings;
    }
    auto same_location = [](const Buffer& a, const Buffer& b) {
      return a.where == b.where && a.header_name == b.header_name;
    };
    for (size_t i = 0; i < buffers.size(); ++i) {
      // Repeated headers and gRPC messages share a location: one finding,
      // reported where the location first appears.
      const bool seen = std::any_of(buffers.begin(), buffers.begin() + static_cast<ptrdiff_t>(i),
                                    [&](const Buffer& b) { return same_location(b, buffers[i]); });
      if (seen) continue;
      for (size_t d = 0; d < kDetectorCount; ++d) {
        uint32_t n = 0;
        for (size_t k = i; k < buffers.size(); ++k) {
          if (same_location(buffers[k], buffers[i])) n += counts[k * kDetectorCount + d];
        }
        if (n == 0) continue;
        findings.push_back({std::string(kDetectorNames[d]), location_of(buffers[i]), n, false});
      }
    }
    return findings;
  }
};

Auditor::Auditor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Auditor::Auditor(Auditor&&) noexcept = default;
Auditor& Auditor::operator=(Auditor&&) noexcept = default;
Auditor::~Auditor() = default;

Result<Auditor> Auditor::make(const AuditSettings& settings) {
  auto impl = std::make_unique<Impl>();
  impl->enabled = settings.enabled;
  Result<uint32_t> detectors = detector_mask(settings.detectors);
  if (!detectors) return detectors.error();
  impl->detectors = *detectors;
  if (!impl->enabled) return Auditor(std::move(impl));

  std::vector<audit::HsPattern> patterns;
  for (size_t i = 0; i < kPatternCount; ++i) {
    if (!impl->on(kPatterns[i].detector)) continue;
    patterns.push_back({kPatterns[i].expression, HS_FLAG_SOM_LEFTMOST, static_cast<unsigned>(i)});
  }
  if (!patterns.empty()) {
    Result<audit::HyperscanDb> db =
        audit::HyperscanDb::compile(patterns, audit::HyperscanDb::Mode::kVectored);
    if (!db) return make_error("audit: " + db.error().message);
    impl->db.emplace(std::move(db).value());
  }
  return Auditor(std::move(impl));
}

std::vector<Finding> Auditor::scan(const HttpExchange& ex) const {
  Impl& s = *impl_;
  if (!s.enabled || s.detectors == 0) return {};
  s.collect(ex);
  if (s.buffers.empty()) return {};
  s.counts.assign(s.buffers.size() * kDetectorCount, 0);
  s.regions.clear();
  if (s.db) s.run_hyperscan();
  s.run_digit_scans();
  if (s.on(kHighEntropy)) s.run_entropy();
  return s.report();
}

}  // namespace qtap
