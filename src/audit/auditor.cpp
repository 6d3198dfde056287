#include "audit/auditor.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "audit/candidate_scan.h"
#include "audit/hyperscan_db.h"
#include "audit/shapes.h"
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

// How a match is checked before it counts.
enum class Check : uint8_t {
  kNone,           // the pattern says it all (private key armour, Slack webhook URL)
  kEmail,          // local part and domain (validators.h)
  kEmailEncoded,   // the same with "%40" for '@'
  kJwt,            // header decodes to JSON with "alg"
  kToken,          // not glued to a word on either side
  kTokenStart,     // not glued to a word before it (the pattern ends it)
};

// One pattern of shapes.h (the regexes are listed there).
struct PatternDef {
  Detector detector;
  Check check;
  audit::Shape shape;
};

constexpr PatternDef kPatterns[] = {
    // E-mail from the '@': the local part is looked at by the check.
    {kEmail, Check::kEmail, audit::Shape::kEmail},
    {kEmail, Check::kEmailEncoded, audit::Shape::kEmailEncoded},
    {kJwt, Check::kJwt, audit::Shape::kJwt},
    {kPrivateKey, Check::kNone, audit::Shape::kPrivateKey},
    {kAwsAccessKey, Check::kToken, audit::Shape::kAwsAccessKey},
    {kGithubToken, Check::kToken, audit::Shape::kGithubToken},
    {kGithubToken, Check::kToken, audit::Shape::kGithubPat},
    {kGitlabToken, Check::kTokenStart, audit::Shape::kGitlabToken},
    {kSlackToken, Check::kTokenStart, audit::Shape::kSlackToken},
    {kSlackToken, Check::kNone, audit::Shape::kSlackWebhook},
};
constexpr size_t kPatternCount = std::size(kPatterns);

// The literals Hyperscan looks for, each the start of a pattern's match.
// None holds a '\n'.
struct LiteralDef {
  uint8_t pattern;  // index in kPatterns
  std::string_view text;
  const char* expression;  // `text` in Hyperscan syntax
};

constexpr LiteralDef kLiterals[] = {
    {0, "@", "@"},
    {1, "%40", "%40"},
    {2, "eyJ", "eyJ"},  // {"... in base64url
    {3, "-----BEGIN", "-----BEGIN"},
    {4, "AKIA", "AKIA"},
    {4, "ASIA", "ASIA"},
    {5, "ghp_", "ghp_"},
    {5, "gho_", "gho_"},
    {5, "ghu_", "ghu_"},
    {5, "ghs_", "ghs_"},
    {5, "ghr_", "ghr_"},
    {6, "github_pat_", "github_pat_"},
    {7, "glpat-", "glpat-"},
    {8, "xoxa-", "xoxa-"},
    {8, "xoxb-", "xoxb-"},
    {8, "xoxp-", "xoxp-"},
    {8, "xoxr-", "xoxr-"},
    {8, "xoxs-", "xoxs-"},
    {9, "hooks.slack.com/services/", R"(hooks\.slack\.com/services/)"},
};

// run_hyperscan() takes a pattern's hits, which come by end offset, to come
// by start too: its literals must all have one length.
static_assert([] {
  for (const LiteralDef& a : kLiterals) {
    for (const LiteralDef& b : kLiterals) {
      if (a.pattern == b.pattern && a.text.size() != b.text.size()) return false;
      if (a.text.find('\n') != std::string_view::npos) return false;
    }
  }
  return true;
}());

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

// A flood of literals (a body made of '@') is looked at up to this many
// per exchange; beyond, counts are lower bounds.
constexpr size_t kMaxCandidates = 1 << 16;

// Texts up to this size (the URL, header values, most bodies) are copied one
// after the other, '\n' between them, into one buffer that is scanned as a
// whole: one Hyperscan call and one digit scan for a typical exchange instead
// of one per header (a call costs about as much as scanning 1 KiB). Larger
// texts are scanned where they are.
constexpr size_t kInlineMax = 4096;

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

// Where the inline texts are copied: appending is a capacity check and a
// memcpy (std::string::append does more, and this runs for every header).
class SharedText {
 public:
  void clear() { size_ = 0; }
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_.data(), size_}; }
  // `text`, then '\n'.
  void append_line(std::string_view text) {
    const size_t need = size_ + text.size() + 1;
    // Grows (and zero-fills) only past the largest exchange so far.
    if (need > data_.size()) data_.resize(std::max({need, 2 * data_.size(), size_t{4096}}));
    std::memcpy(data_.data() + size_, text.data(), text.size());
    data_[size_ + text.size()] = '\n';
    size_ = need;
  }

 private:
  std::vector<char> data_;  // its size is the capacity
  size_t size_ = 0;
};

// One text of the exchange, one location.
struct Buffer {
  std::string_view text;
  Where where;
  std::string_view header_name;  // header locations only
  bool entropy = false;          // searched for high_entropy
  bool inline_copy = false;      // copied into the shared buffer
  bool counted = false;          // some detector counted something here
  uint32_t chunk = 0;            // the chunk holding it
  size_t offset = 0;             // of text in that chunk
};

// What one scan call covers: the shared buffer, or one large text.
struct Chunk {
  std::string_view data;
  uint32_t first = 0;  // its buffers, by offset: order[first, first + count)
  uint32_t count = 0;
};

// A literal found by Hyperscan: kLiterals[literal], ending at `to` in its chunk.
struct LiteralHit {
  uint32_t literal;
  uint64_t to;
};

// The match being extended for one pattern, in buffer coordinates.
struct OpenMatch {
  uint32_t buffer = 0;
  size_t from = 0;
  size_t to = 0;
  bool active = false;
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

// A 1024-bit filter of kNoEntropyHeaders on (length, first and last letter):
// most names are ruled out by one bit test, the rest compared in full.
constexpr size_t name_bucket(std::string_view name) {
  const auto lower = [](char c) { return static_cast<size_t>(c >= 'A' && c <= 'Z' ? c + 32 : c); };
  return (name.size() * 961 + lower(name.front()) * 31 + lower(name.back())) % 1024;
}

struct NoEntropyFilter {
  std::array<uint64_t, 16> bits{};
  constexpr NoEntropyFilter() {
    for (std::string_view h : kNoEntropyHeaders) {
      const size_t b = name_bucket(h);
      bits[b / 64] |= uint64_t{1} << (b % 64);
    }
  }
  constexpr bool maybe(std::string_view name) const {
    const size_t b = name_bucket(name);
    return (bits[b / 64] >> (b % 64)) & 1;
  }
};
constexpr NoEntropyFilter kNoEntropyFilter{};

bool no_entropy_header(std::string_view name) {
  if (name.empty() || !kNoEntropyFilter.maybe(name)) return false;
  return std::any_of(
      std::begin(kNoEntropyHeaders), std::end(kNoEntropyHeaders),
      [&](std::string_view h) { return h.size() == name.size() && iequals_ascii(h, name); });
}

std::string prefixed(std::string_view prefix, std::string_view name) {
  std::string s;
  s.reserve(prefix.size() + name.size());
  s.append(prefix);
  s.append(name);
  return s;
}

std::string location_of(const Buffer& b) {
  switch (b.where) {
    case Where::kUrl:
      return "request.url";
    case Where::kRequestHeader:
      return prefixed("request.header:", b.header_name);
    case Where::kRequestBody:
      return "request.body";
    case Where::kGrpcRequest:
      return "grpc.request";
    case Where::kResponseHeader:
      return prefixed("response.header:", b.header_name);
    case Where::kResponseBody:
      return "response.body";
    case Where::kGrpcResponse:
      return "grpc.response";
    case Where::kTrailer:
      return prefixed("response.trailer:", b.header_name);
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
  SharedText shared;  // the inline texts, each followed by '\n'
  std::vector<Chunk> chunks;
  std::vector<uint32_t> order;  // buffer indexes, chunk by chunk
  std::vector<uint32_t> large;  // buffers not copied into `shared`
  std::array<OpenMatch, kPatternCount> open{};
  std::vector<LiteralHit> hits;
  size_t hits_total = 0;         // in this exchange, capped at kMaxCandidates
  std::vector<uint32_t> counts;  // buffers.size() x kDetectorCount
  uint32_t total = 0;            // sum of counts
  std::vector<Region> regions;

  bool on(Detector d) const { return (detectors >> d) & 1; }

  void add(std::string_view text, Where where, std::string_view header_name = {},
           bool entropy = false) {
    if (text.empty()) return;
    // Filled in place: a Buffer built on the stack and copied in costs a
    // store-forwarding stall per field (measured, a third of a header's cost).
    Buffer& b = buffers.emplace_back();
    b.text = text;
    b.where = where;
    b.header_name = header_name;
    b.entropy = entropy;
    b.inline_copy = text.size() <= kInlineMax;
    if (b.inline_copy) {
      // Matches never contain '\n': none spans two texts.
      b.chunk = 0;
      b.offset = shared.size();
      shared.append_line(text);
      order.push_back(static_cast<uint32_t>(buffers.size() - 1));
    } else {
      large.push_back(static_cast<uint32_t>(buffers.size() - 1));
    }
  }
  void add_headers(const std::vector<Header>& headers, Where where) {
    const bool entropy = on(kHighEntropy);
    for (const Header& h : headers) {
      add(h.value, where, h.name, entropy && !no_entropy_header(h.name));
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
    shared.clear();
    order.clear();
    large.clear();
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

  // The shared buffer first (its texts are in `order` already, by offset),
  // then each large text on its own.
  void layout() {
    chunks.clear();
    if (!shared.empty()) chunks.push_back({shared.view(), 0, static_cast<uint32_t>(order.size())});
    for (const uint32_t i : large) {
      buffers[i].chunk = static_cast<uint32_t>(chunks.size());
      buffers[i].offset = 0;
      chunks.push_back({buffers[i].text, static_cast<uint32_t>(order.size()), 1});
      order.push_back(i);
    }
  }

  // The buffer holding chunk offset `at`: the last one starting at or before it.
  uint32_t buffer_at(const Chunk& c, uint64_t at) const {
    const auto first = order.begin() + c.first;
    if (c.count == 1) return *first;
    const auto it = std::upper_bound(first, first + c.count, at, [this](uint64_t off, uint32_t b) {
      return off < buffers[b].offset;
    });
    return *(it - 1);
  }

  void count(uint32_t buffer, Detector d, size_t start, size_t end, uint32_t n = 1) {
    counts[buffer * kDetectorCount + d] += n;
    buffers[buffer].counted = true;
    total += n;
    if (buffers[buffer].entropy) regions.push_back({buffer, start, end});
  }

  static void on_literal(unsigned id, uint64_t, uint64_t to, void* ctx) {
    auto* self = static_cast<Impl*>(ctx);
    if (self->hits_total >= kMaxCandidates) return;
    ++self->hits_total;
    self->hits.push_back({id, to});
  }

  // Checks the match of pattern `p` and counts it.
  void check_match(size_t p, const OpenMatch& m) {
    const std::string_view text = buffers[m.buffer].text;
    bool valid = false;
    switch (kPatterns[p].check) {
      case Check::kNone:
        valid = true;
        break;
      case Check::kEmail:
        valid = audit::email_valid(text, m.from, m.to, false);
        break;
      case Check::kEmailEncoded:
        valid = audit::email_valid(text, m.from, m.to, true);
        break;
      case Check::kJwt:
        valid = audit::jwt_valid(text, m.from, m.to);
        break;
      case Check::kToken:
        valid = audit::starts_token(text, m.from) && audit::ends_token(text, m.to);
        break;
      case Check::kTokenStart:
        valid = audit::starts_token(text, m.from);
        break;
    }
    if (valid) count(m.buffer, kPatterns[p].detector, m.from, m.to);
  }

  void run_hyperscan(const Chunk& chunk) {
    hits.clear();
    db->scan(chunk.data, &Impl::on_literal, this);
    if (hits.empty()) return;
    for (OpenMatch& o : open) o.active = false;
    // Hits come by end offset, which for the literals of one pattern (all of
    // one length) is by start. Overlapping matches of a pattern (an address
    // inside another's domain) are one candidate spanning them all.
    for (const LiteralHit& hit : hits) {
      const LiteralDef& lit = kLiterals[hit.literal];
      const uint64_t at = hit.to - lit.text.size();
      const uint32_t b = buffer_at(chunk, at);
      const size_t start = at - buffers[b].offset;
      const size_t end = audit::shape_match_end(kPatterns[lit.pattern].shape, buffers[b].text,
                                                start, lit.text.size());
      if (end == 0) continue;
      OpenMatch& o = open[lit.pattern];
      if (o.active && o.buffer == b && start < o.to) {
        o.to = std::max(o.to, end);
        continue;
      }
      if (o.active) check_match(lit.pattern, o);
      o = {b, start, end, true};
    }
    for (size_t p = 0; p < kPatternCount; ++p) {
      if (open[p].active) check_match(p, open[p]);
    }
  }

  struct ChunkContext {
    Impl* self;
    const Chunk* chunk;
  };

  static void on_digit_run(void* p, size_t start, size_t end) {
    const auto* c = static_cast<const ChunkContext*>(p);
    Impl& self = *c->self;
    const uint32_t b = self.buffer_at(*c->chunk, start);
    const size_t offset = self.buffers[b].offset;
    const size_t n = audit::count_cards(self.buffers[b].text, start - offset, end - offset);
    if (n > 0) self.count(b, kCreditCard, start - offset, end - offset, static_cast<uint32_t>(n));
  }

  static void on_iban_start(void* p, size_t start, size_t) {
    const auto* c = static_cast<const ChunkContext*>(p);
    Impl& self = *c->self;
    const uint32_t b = self.buffer_at(*c->chunk, start);
    const size_t offset = self.buffers[b].offset;
    const size_t end = audit::match_iban(self.buffers[b].text, start - offset);
    if (end != 0) self.count(b, kIban, start - offset, end);
  }

  void run_digit_scan(const Chunk& chunk) {
    if (!on(kCreditCard) && !on(kIban)) return;
    ChunkContext ctx{this, &chunk};
    audit::find_digit_candidates(chunk.data, on(kCreditCard) ? &Impl::on_digit_run : nullptr,
                                 on(kIban) ? &Impl::on_iban_start : nullptr, &ctx);
  }

  bool overlaps_match(uint32_t buffer, size_t start, size_t end) const {
    return std::any_of(regions.begin(), regions.end(), [&](const Region& r) {
      return r.buffer == buffer && r.start < end && start < r.end;
    });
  }

  void entropy_in(uint32_t buffer, std::string_view text, size_t base) {
    audit::for_each_entropy_candidate(text, [&](size_t off, size_t len, size_t core) {
      // Another detector's token (a JWT's parts) is not measured at all.
      if (overlaps_match(buffer, base + off, base + off + len)) return;
      if (!audit::high_entropy_token(text.substr(off, core))) return;
      counts[buffer * kDetectorCount + kHighEntropy] += 1;
      buffers[buffer].counted = true;
      total += 1;
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

  // Folds the counts of repeated locations into their first buffer (the
  // counts are spent).
  std::vector<Finding> report() {
    std::vector<Finding> findings;
    if (total == 0) return findings;
    auto same_location = [](const Buffer& a, const Buffer& b) {
      return a.where == b.where && a.header_name == b.header_name;
    };
    auto row = [this](size_t i) { return counts.data() + i * kDetectorCount; };
    // Repeated headers and gRPC messages share a location: one finding,
    // reported where the location first appears. Only buffers with counts
    // look for an earlier one of theirs.
    for (size_t k = 1; k < buffers.size(); ++k) {
      if (!buffers[k].counted) continue;
      for (size_t i = 0; i < k; ++i) {
        if (!same_location(buffers[i], buffers[k])) continue;
        uint32_t* from = row(k);
        uint32_t* to = row(i);
        for (size_t d = 0; d < kDetectorCount; ++d) {
          to[d] += from[d];
          from[d] = 0;
        }
        buffers[i].counted = true;
        buffers[k].counted = false;
        break;
      }
    }
    for (size_t i = 0; i < buffers.size(); ++i) {
      if (!buffers[i].counted) continue;
      const uint32_t* r = row(i);
      for (size_t d = 0; d < kDetectorCount; ++d) {
        if (r[d] == 0) continue;
        findings.push_back({std::string(kDetectorNames[d]), location_of(buffers[i]), r[d], false});
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
  for (size_t i = 0; i < std::size(kLiterals); ++i) {
    if (!impl->on(kPatterns[kLiterals[i].pattern].detector)) continue;
    // Pure literals: no start-of-match tracking needed, the start is the end
    // minus the literal's length.
    patterns.push_back({kLiterals[i].expression, 0, static_cast<unsigned>(i)});
  }
  if (!patterns.empty()) {
    Result<audit::HyperscanDb> db =
        audit::HyperscanDb::compile(patterns, audit::HyperscanDb::Mode::kBlock);
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
  s.layout();
  s.counts.assign(s.buffers.size() * kDetectorCount, 0);
  s.total = 0;
  s.regions.clear();
  s.hits_total = 0;
  for (const Chunk& chunk : s.chunks) {
    if (s.db) s.run_hyperscan(chunk);
    s.run_digit_scan(chunk);
  }
  if (s.on(kHighEntropy)) s.run_entropy();
  return s.report();
}

}  // namespace qtap
