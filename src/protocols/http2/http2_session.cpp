// Stitching: frames of both directions -> one exchange per stream.
#include "protocols/http2/http2_session.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <string>
#include <utility>

#include "protocols/content_decoding.h"
#include "protocols/http2/grpc_reader.h"
#include "protocols/http2/hpack_decoder.h"
#include "protocols/http2/http2_frame.h"

namespace qtap::http2 {

namespace {

constexpr std::string_view kVersion = "HTTP/2";
// Dynamic table sizes accepted from SETTINGS and size updates. A larger table on the encoder's
// side only makes some blocks undecodable here, never wrongly decoded (see HpackDecoder::reset).
constexpr size_t kMaxHpackTable = size_t{64} * 1024;
constexpr size_t kMaxPendingSettings = 16;
constexpr size_t kMaxSpareStreams = 16;
// Per-field overhead when bounding decoded header blocks, as RFC 7541 4.1 counts table entries:
// also bounds the number of fields (each costs a Header and two strings).
constexpr size_t kFieldOverhead = 32;

int idx(Side s) { return s == Side::kRequests ? 0 : 1; }
Side other(Side s) { return s == Side::kRequests ? Side::kResponses : Side::kRequests; }
std::string_view peer_name(Side s) { return s == Side::kRequests ? "client" : "server"; }

uint32_t be32(std::string_view p, size_t at) {
  return (uint32_t{static_cast<uint8_t>(p[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(p[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(p[at + 2])} << 8) |
         uint32_t{static_cast<uint8_t>(p[at + 3])};
}

std::string_view interim_name(int status) {
  switch (status) {
    case 100:
      return "100 Continue";
    case 102:
      return "102 Processing";
    case 103:
      return "103 Early Hints";
    default:
      return {};
  }
}

// A :status value: three digits.
std::optional<int> parse_status(std::string_view v) {
  if (v.size() != 3) return std::nullopt;
  int s = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    s = s * 10 + (c - '0');
  }
  return s;
}

std::optional<int> parse_grpc_status(std::string_view v) {
  int s = 0;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), s);
  if (r.ec != std::errc() || r.ptr != v.data() + v.size() || v.empty() || s < 0) {
    return std::nullopt;
  }
  return s;
}

// A remark on an exchange, once: losses and interim responses can repeat without bound.
void add_note(HttpExchange& x, std::string note) {
  if (std::find(x.notes.begin(), x.notes.end(), note) == x.notes.end()) {
    x.notes.push_back(std::move(note));
  }
}

size_t fields_bytes(const std::vector<Header>& hs) {
  size_t n = hs.capacity() * sizeof(Header);
  for (const Header& h : hs) n += h.name.capacity() + h.value.capacity();
  return n;
}

// One header block (HEADERS or PUSH_PROMISE and its CONTINUATIONs) being decoded.
struct Block final : HpackDecoder::FieldSink {
  bool active = false;
  bool push = false;       // PUSH_PROMISE: the fields are the promised request
  uint32_t stream_id = 0;  // the stream the fields belong to (the promised one for a push)
  uint32_t parent_id = 0;  // push: the stream it was promised on
  bool end_stream = false;
  bool failed = false;  // HPACK could not decode it
  bool missed = false;  // some of its bytes were not captured
  bool cut = false;     // decoded fields beyond max_header_block were dropped
  size_t kept = 0;      // bytes of the fields kept, counted as HPACK does (+32 each)
  size_t max_kept = 0;
  uint64_t start_ns = 0;
  std::vector<Header> fields;

  void begin(uint32_t id, bool is_push, uint32_t parent, bool end, size_t limit, uint64_t ts) {
    active = true;
    push = is_push;
    stream_id = id;
    parent_id = parent;
    end_stream = end;
    failed = missed = cut = false;
    kept = 0;
    max_kept = limit;
    start_ns = ts;
    fields.clear();
  }
  bool decodable() const { return !failed && !missed; }

  void on_field(std::string_view name, std::string_view value) override {
    // Still decoded past the limit (the dynamic table must see every field), just not kept:
    // what is kept is the block's first fields.
    const size_t cost = name.size() + value.size() + kFieldOverhead;
    if (cut || kept + cost > max_kept) {
      cut = true;
      return;
    }
    kept += cost;
    fields.push_back(Header{std::string(name), std::string(value)});
  }
};

// HPACK state of the blocks one side sends.
struct HpackSide {
  HpackDecoder decoder;
  enum class Loss : uint8_t { kNone, kMidStream, kGap } loss = Loss::kNone;
  bool needs_reset = false;  // the last block failed or was cut: start over at the next one

  std::string_view loss_reason() const {
    switch (loss) {
      case Loss::kMidStream:
        return "HPACK state missed (capture started mid-connection)";
      case Loss::kGap:
        return "HPACK state lost with bytes not captured";
      case Loss::kNone:
        break;
    }
    return "invalid HPACK data";
  }
};

struct Stream {
  uint32_t id = 0;
  HttpExchange x;
  std::array<bool, 2> ended = {false, false};     // END_STREAM seen, or known never to come
  std::array<bool, 2> hole = {false, false};      // body bytes missed: data stops there
  std::array<bool, 2> headers = {false, false};   // request headers / final response headers
  std::array<bool, 2> trailers = {false, false};  // a trailer block came (only one is kept)
  bool response_end_in_headers = false;           // a trailers-only response (gRPC)
  bool grpc_decode = false;
  std::array<GrpcMessageReader, 2> grpc;

  void reset(uint32_t stream_id) {
    id = stream_id;
    x = HttpExchange{};
    ended = {false, false};
    hole = {false, false};
    headers = {false, false};
    trailers = {false, false};
    response_end_in_headers = false;
    grpc_decode = false;
    grpc[0].reset();
    grpc[1].reset();
  }
};

}  // namespace

struct Http2Session::Impl final : FrameListener {
  Impl(const Config& c, bool mid)
      : cfg(c),
        mid_stream(mid),
        parsers{
            FrameParser(Side::kRequests,
                        mid ? FrameParser::Start::kUnknown : FrameParser::Start::kPreface, *this),
            FrameParser(Side::kResponses,
                        mid ? FrameParser::Start::kUnknown : FrameParser::Start::kFrame, *this)} {
    if (mid) {
      for (HpackSide& h : hpack) {
        h.loss = HpackSide::Loss::kMidStream;
        h.decoder.reset(kMaxHpackTable);  // size updates we did not see may have raised it
      }
      for (FrameParser& p : parsers) p.allow_any_frame_size();
    }
  }

  Config cfg;
  bool mid_stream;
  std::array<FrameParser, 2> parsers;
  std::array<HpackSide, 2> hpack;
  std::array<Block, 2> blocks;
  // The content frame in progress on each side (DATA, HEADERS, PUSH_PROMISE, CONTINUATION).
  std::array<FrameHeader, 2> current;
  // SETTINGS_HEADER_TABLE_SIZE of each side's SETTINGS frames awaiting the peer's ACK (-1: the
  // frame had none), oldest first.
  std::array<std::vector<int64_t>, 2> pending_table_size;

  // Open streams: ids in a flat array for a quick scan, streams beside them.
  std::vector<uint32_t> ids;
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<std::unique_ptr<Stream>> spare;
  Stream* last_found = nullptr;
  // Per initiator (index: id & 1): the highest and lowest stream ids opened. An unknown id
  // between them belongs to a stream already finished; outside, to one whose start was missed.
  std::array<uint32_t, 2> max_id = {0, 0};
  std::array<uint32_t, 2> min_id = {0, 0};

  std::vector<HttpExchange> done;
  bool closed = false;

  GrpcLimits grpc_limits(const Stream& st) const {
    return GrpcLimits{cfg.max_grpc_messages_kept, cfg.max_grpc_message_decode, st.grpc_decode};
  }

  // ---- streams ----

  Stream* find(uint32_t id) {
    if (last_found != nullptr && last_found->id == id) return last_found;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] == id) return last_found = streams[i].get();
    }
    return nullptr;
  }

  bool unseen_id(uint32_t id) const {
    const int p = static_cast<int>(id & 1);
    return id > max_id[p] || id < min_id[p] || min_id[p] == 0;
  }

  Stream& open(uint32_t id) {
    if (ids.size() >= std::max<size_t>(cfg.max_streams, 1)) {
      // Bounded memory: the oldest stream waits no longer.
      const auto oldest = std::min_element(ids.begin(), ids.end());
      Stream* st = streams[static_cast<size_t>(oldest - ids.begin())].get();
      add_note(st->x, "stream not finished: too many open streams");
      emit(*st);
    }
    std::unique_ptr<Stream> st;
    if (spare.empty()) {
      st = std::make_unique<Stream>();
    } else {
      st = std::move(spare.back());
      spare.pop_back();
    }
    st->reset(id);
    const int p = static_cast<int>(id & 1);
    max_id[p] = std::max(max_id[p], id);
    min_id[p] = min_id[p] == 0 ? id : std::min(min_id[p], id);
    ids.push_back(id);
    streams.push_back(std::move(st));
    return *(last_found = streams.back().get());
  }

  // A stream first seen through a frame other than the HEADERS that open it.
  Stream* open_unseen(uint32_t id, Side side) {
    if (!unseen_id(id)) return nullptr;  // finished already: a late frame
    Stream& st = open(id);
    const bool before = mid_stream && hpack[idx(side)].loss == HpackSide::Loss::kMidStream;
    add_note(st.x, before ? "stream opened before the capture started"
                          : "stream opened while bytes were not captured");
    if (side == Side::kResponses) {
      // Whatever the client sent is behind us; the response alone decides the end.
      st.ended[0] = true;
    }
    return &st;
  }

  HttpRequest& request(Stream& st, uint64_t ts) {
    if (!st.x.request) {
      HttpRequest& r = st.x.request.emplace();
      r.version = kVersion;
      r.start_ns = r.end_ns = ts;
    }
    return *st.x.request;
  }

  HttpResponse& response(Stream& st, uint64_t ts) {
    if (!st.x.response) {
      HttpResponse& r = st.x.response.emplace();
      r.version = kVersion;
      r.start_ns = r.end_ns = ts;
    }
    return *st.x.response;
  }

  Body& body(Stream& st, Side side, uint64_t ts) {
    return side == Side::kRequests ? request(st, ts).body : response(st, ts).body;
  }

  void end_direction(Stream& st, Side side, uint64_t ts) {
    if (st.ended[idx(side)]) return;
    st.ended[idx(side)] = true;
    if (side == Side::kRequests) {
      if (st.x.request) st.x.request->end_ns = ts;
    } else if (st.x.response) {
      st.x.response->end_ns = ts;
    }
    if (st.ended[0] && st.ended[1]) emit(st);
  }

  void finish_body(Body& b, const std::vector<Header>& headers, std::vector<std::string>& notes) {
    b.captured = b.data.size();
    b.size = b.wire_size;
    b.truncated = b.truncated || b.captured < b.wire_size;
    b.content_encoding = field_value(headers, "content-encoding");
    if (!b.content_encoding || !cfg.decode_content || b.data.empty()) return;
    std::optional<DecodedContent> decoded =
        decode_content(*b.content_encoding, b.data, cfg.max_body);
    if (!decoded) {
      notes.push_back(fmt::format("body not decoded (content-encoding {})", *b.content_encoding));
      return;
    }
    const bool whole = decoded->complete && !b.truncated;
    b.data = std::move(decoded->data);
    b.captured = b.data.size();
    b.content_decoded = true;
    b.size = whole ? b.captured : b.wire_size;
    b.truncated = !whole;
  }

  void finish_grpc(Stream& st) {
    GrpcCall& g = *st.x.grpc;
    if (!st.grpc[0].finish(g.requests) || !st.grpc[1].finish(g.responses)) {
      add_note(st.x, "gRPC message cut short");
    }
    const Header* status = find_header(st.x.trailers, "grpc-status");
    const Header* message = find_header(st.x.trailers, "grpc-message");
    if (status == nullptr && st.response_end_in_headers && st.x.response) {
      status = find_header(st.x.response->headers, "grpc-status");
      message = find_header(st.x.response->headers, "grpc-message");
    }
    if (status != nullptr) {
      g.status_code = parse_grpc_status(status->value);
      if (!g.status_code) add_note(st.x, fmt::format("invalid grpc-status \"{}\"", status->value));
    }
    if (message != nullptr) g.status_message = percent_decode(message->value);
  }

  void emit(Stream& st) {
    HttpExchange& x = st.x;
    x.version = kVersion;
    x.stream_id = st.id;
    if (x.request) finish_body(x.request->body, x.request->headers, x.notes);
    if (x.response) finish_body(x.response->body, x.response->headers, x.notes);
    if (x.grpc) finish_grpc(st);
    done.push_back(std::move(x));
    remove(st);
  }

  void remove(Stream& st) {
    if (last_found == &st) last_found = nullptr;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (streams[i].get() != &st) continue;
      std::unique_ptr<Stream> gone = std::move(streams[i]);
      if (i + 1 != ids.size()) {
        ids[i] = ids.back();
        streams[i] = std::move(streams.back());
      }
      ids.pop_back();
      streams.pop_back();
      if (spare.size() < kMaxSpareStreams) {
        gone->x = HttpExchange{};
        spare.push_back(std::move(gone));
      }
      return;
    }
  }

  // Emits the open streams `pick` selects, lowest id first.
  template <typename Pick>
  void emit_open(Pick&& pick) {
    std::vector<uint32_t> chosen;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (pick(*streams[i])) chosen.push_back(ids[i]);
    }
    std::sort(chosen.begin(), chosen.end());
    for (uint32_t id : chosen) {
      if (Stream* st = find(id)) emit(*st);
    }
  }

  // ---- header blocks ----

  void begin_block(Side side, uint32_t stream_id, bool push, uint32_t parent, bool end_stream,
                   uint64_t ts) {
    Block& b = blocks[idx(side)];
    HpackSide& hp = hpack[idx(side)];
    if (b.active) {
      // The previous block never got END_HEADERS: its end was not captured.
      b.missed = true;
      hp.loss = HpackSide::Loss::kGap;
      finish_block(side, ts);
    }
    if (hp.needs_reset || hp.decoder.in_block()) {
      hp.decoder.reset(hp.decoder.table_limit());
      hp.needs_reset = false;
    }
    b.begin(stream_id, push, parent, end_stream, cfg.max_header_block, ts);
  }

  void block_bytes(Side side, std::string_view bytes) {
    Block& b = blocks[idx(side)];
    if (!b.active || !b.decodable()) return;
    if (!hpack[idx(side)].decoder.feed(bytes, false, b)) fail_block(side);
  }

  void fail_block(Side side) {
    blocks[idx(side)].failed = true;
    hpack[idx(side)].needs_reset = true;
  }

  void block_missed(Side side) {
    Block& b = blocks[idx(side)];
    if (!b.active) return;
    b.missed = true;
    hpack[idx(side)].needs_reset = true;
    hpack[idx(side)].loss = HpackSide::Loss::kGap;
  }

  void finish_block(Side side, uint64_t ts) {
    Block& b = blocks[idx(side)];
    HpackSide& hp = hpack[idx(side)];
    if (b.decodable() && !hp.decoder.feed({}, true, b)) fail_block(side);
    b.active = false;
    if (b.missed) hp.needs_reset = true;
    apply_block(side, b, hp, ts);
  }

  // The note for a block that could not be decoded, or cut.
  void block_notes(Stream& st, Side side, const Block& b, const HpackSide& hp) {
    const std::string_view what = b.push || side == Side::kRequests ? "request" : "response";
    if (!b.decodable()) {
      add_note(st.x, fmt::format("{} headers not decodable: {}", what,
                                 b.missed && !b.failed ? "bytes of the block not captured"
                                                       : hp.loss_reason()));
    } else if (b.cut) {
      add_note(st.x, fmt::format("{} headers cut after {} fields", what, b.fields.size()));
    }
  }

  void apply_block(Side side, Block& b, const HpackSide& hp, uint64_t ts) {
    if (b.push) {
      Stream* st = find(b.stream_id);
      if (st == nullptr) st = &open(b.stream_id);
      add_note(st->x, fmt::format("server push (promised on stream {})", b.parent_id));
      HttpRequest& r = request(*st, b.start_ns);
      block_notes(*st, side, b, hp);
      if (b.decodable()) fill_request(*st, r, b.fields);
      st->headers[0] = true;
      end_direction(*st, Side::kRequests, ts);
      return;
    }
    Stream* st = find(b.stream_id);
    if (st == nullptr) {
      if (side == Side::kRequests && unseen_id(b.stream_id)) {
        st = &open(b.stream_id);
      } else {
        st = open_unseen(b.stream_id, side);
      }
      if (st == nullptr) return;
    }
    if (st->ended[idx(side)]) return;  // a frame after END_STREAM: not ours to report
    block_notes(*st, side, b, hp);
    if (side == Side::kRequests) {
      HttpRequest& r = request(*st, b.start_ns);
      if (!st->headers[0]) {
        st->headers[0] = true;
        if (b.decodable()) fill_request(*st, r, b.fields);
      } else if (b.decodable() && !std::exchange(st->trailers[0], true)) {
        // Request trailers (rare) join the headers, as HTTP/1 chunked trailers do.
        for (Header& h : b.fields) r.headers.push_back(std::move(h));
      }
    } else {
      apply_response_block(*st, b);
    }
    if (b.end_stream) end_direction(*st, side, ts);
  }

  void apply_response_block(Stream& st, Block& b) {
    if (st.headers[1]) {
      if (b.decodable() && !std::exchange(st.trailers[1], true)) {
        st.x.trailers = std::move(b.fields);
        b.fields = {};
      }
      return;
    }
    std::optional<int> status;
    if (b.decodable()) {
      const Header* s = find_header(b.fields, ":status");
      if (s != nullptr) {
        status = parse_status(s->value);
        if (!status) add_note(st.x, fmt::format("invalid :status \"{}\"", s->value));
      }
      if (status && *status < 200 && !b.end_stream) {
        const std::string_view name = interim_name(*status);
        add_note(st.x, name.empty() ? fmt::format("{}", *status) : std::string(name));
        return;  // the final response follows
      }
    }
    HttpResponse& r = response(st, b.start_ns);
    r.start_ns = b.start_ns;
    st.headers[1] = true;
    st.response_end_in_headers = b.end_stream;
    if (!b.decodable()) return;
    r.status = status.value_or(0);
    r.headers.reserve(b.fields.size());
    for (Header& h : b.fields) {
      if (h.name == ":status") continue;
      r.headers.push_back(std::move(h));
    }
    if (!st.x.grpc) detect_grpc(st, r.headers);
  }

  // Pseudo-header fields fold into the request line; :scheme and :authority stay first in
  // the headers, where the output finds them to build the URL.
  void fill_request(Stream& st, HttpRequest& r, std::vector<Header>& fields) {
    r.headers.reserve(fields.size());
    const std::string* authority = nullptr;
    for (std::string_view name : {std::string_view(":scheme"), std::string_view(":authority")}) {
      for (Header& h : fields) {
        if (h.name == name) {
          if (name == ":authority") authority = &h.value;
          r.headers.push_back(h);
          break;
        }
      }
    }
    bool have_path = false;
    for (Header& h : fields) {
      if (h.name == ":method") {
        r.method = std::move(h.value);
      } else if (h.name == ":path") {
        r.target = std::move(h.value);
        have_path = true;
      } else if (h.name != ":scheme" && h.name != ":authority") {
        r.headers.push_back(std::move(h));
      }
    }
    // CONNECT has no :path (RFC 9113 8.5): its target is the authority, as in HTTP/1.
    if (!have_path && r.method == "CONNECT" && authority != nullptr) r.target = *authority;
    detect_grpc(st, r.headers);
  }

  void detect_grpc(Stream& st, const std::vector<Header>& headers) {
    const Header* ct = find_header(headers, "content-type");
    if (ct == nullptr) return;
    const GrpcContent kind = grpc_content_type(ct->value);
    if (kind == GrpcContent::kNone) return;
    GrpcCall& g = st.x.grpc.emplace();
    st.grpc_decode = kind == GrpcContent::kProto;
    if (st.x.request) split_grpc_path(st.x.request->target, g.service, g.method);
  }

  // ---- DATA ----

  Stream* data_stream(Side side, uint32_t id) {
    Stream* st = find(id);
    return st != nullptr ? st : open_unseen(id, side);
  }

  void data_begin(Side side, const FrameHeader& h, uint64_t ts) {
    Stream* st = data_stream(side, h.stream_id);
    if (st == nullptr || st->ended[idx(side)]) return;
    if (!st->headers[idx(side)]) {
      st->headers[idx(side)] = true;
      add_note(st->x, side == Side::kRequests ? "request headers not captured"
                                              : "response headers not captured");
    }
    // The message exists from its first byte. Room for the whole frame at once: appending
    // piece by piece would grow the string several times per frame.
    Body& b = body(*st, side, ts);
    if (!st->hole[idx(side)] && b.data.size() < cfg.max_body) {
      b.data.reserve(
          static_cast<size_t>(std::min<uint64_t>(cfg.max_body, b.data.size() + h.length)));
    }
  }

  void data_bytes(Side side, std::string_view bytes, uint64_t ts) {
    Stream* st = find(current[idx(side)].stream_id);
    if (st == nullptr || st->ended[idx(side)]) return;
    Body& b = body(*st, side, ts);
    b.wire_size += bytes.size();
    if (!st->hole[idx(side)] && b.data.size() < cfg.max_body) {
      const size_t room = static_cast<size_t>(cfg.max_body - b.data.size());
      b.data.append(bytes.substr(0, std::min(room, bytes.size())));
    }
    if (st->x.grpc) {
      GrpcCall& g = *st->x.grpc;
      const bool req = side == Side::kRequests;
      st->grpc[idx(side)].feed(bytes, grpc_limits(*st),
                               req ? g.request_messages : g.response_messages,
                               req ? g.requests : g.responses);
    }
  }

  void data_gap(Side side, uint64_t len, uint64_t ts) {
    Stream* st = find(current[idx(side)].stream_id);
    if (st == nullptr || st->ended[idx(side)]) return;
    Body& b = body(*st, side, ts);
    b.wire_size += len;
    b.truncated = true;
    st->hole[idx(side)] = true;
    if (st->x.grpc) {
      GrpcCall& g = *st->x.grpc;
      if (!st->grpc[idx(side)].gap(len, side == Side::kRequests ? g.requests : g.responses)) {
        add_note(st->x, "gRPC messages after bytes not captured are not counted");
      }
    }
  }

  void data_end(Side side, const FrameHeader& h, uint64_t ts) {
    Stream* st = find(h.stream_id);
    if (st == nullptr || st->ended[idx(side)]) return;
    if (side == Side::kRequests) {
      if (st->x.request) st->x.request->end_ns = ts;
    } else if (st->x.response) {
      st->x.response->end_ns = ts;
    }
    if (h.has(flag::kEndStream)) end_direction(*st, side, ts);
  }

  // ---- FrameListener ----

  void on_frame_begin(Side side, const FrameHeader& h, uint32_t promised_id, uint64_t ts) override {
    current[idx(side)] = h;
    switch (h.frame_type()) {
      case FrameType::kData:
        data_begin(side, h, ts);
        break;
      case FrameType::kHeaders:
        begin_block(side, h.stream_id, false, 0, h.has(flag::kEndStream), ts);
        break;
      case FrameType::kPushPromise:
        begin_block(side, promised_id, true, h.stream_id, false, ts);
        break;
      case FrameType::kContinuation: {
        Block& b = blocks[idx(side)];
        // A CONTINUATION must follow its block's frames on the same stream; one that does
        // not (after a resync) has nothing to continue.
        const uint32_t expected = b.push ? b.parent_id : b.stream_id;
        if (b.active && expected != h.stream_id) {
          block_missed(side);
          finish_block(side, ts);
        }
        break;
      }
      default:
        break;
    }
  }

  bool continues_block(Side side) const {
    const Block& b = blocks[idx(side)];
    const FrameHeader& h = current[idx(side)];
    return b.active && (b.push ? b.parent_id : b.stream_id) == h.stream_id;
  }

  void on_content(Side side, std::string_view bytes, uint64_t ts) override {
    switch (current[idx(side)].frame_type()) {
      case FrameType::kData:
        data_bytes(side, bytes, ts);
        break;
      case FrameType::kHeaders:
      case FrameType::kPushPromise:
      case FrameType::kContinuation:
        if (continues_block(side)) block_bytes(side, bytes);
        break;
      default:
        break;
    }
  }

  void on_content_gap(Side side, uint64_t len, uint64_t ts) override {
    switch (current[idx(side)].frame_type()) {
      case FrameType::kData:
        data_gap(side, len, ts);
        break;
      case FrameType::kHeaders:
      case FrameType::kPushPromise:
      case FrameType::kContinuation:
        if (continues_block(side)) block_missed(side);
        break;
      default:
        break;
    }
  }

  void on_frame_end(Side side, uint64_t ts) override {
    const FrameHeader& h = current[idx(side)];
    switch (h.frame_type()) {
      case FrameType::kData:
        data_end(side, h, ts);
        break;
      case FrameType::kHeaders:
      case FrameType::kPushPromise:
      case FrameType::kContinuation:
        if (continues_block(side) && h.has(flag::kEndHeaders)) finish_block(side, ts);
        break;
      default:
        break;
    }
  }

  void on_control(Side side, const FrameHeader& h, std::string_view payload,
                  uint64_t /*ts_ns*/) override {
    switch (h.frame_type()) {
      case FrameType::kSettings:
        on_settings(side, h, payload);
        break;
      case FrameType::kRstStream:
        if (payload.size() >= 4) on_rst_stream(side, h.stream_id, be32(payload, 0));
        break;
      case FrameType::kGoaway:
        if (payload.size() >= 8) {
          on_goaway(side, be32(payload, 0) & 0x7fffffffu, be32(payload, 4));
        }
        break;
      default:
        break;  // PRIORITY, PING, WINDOW_UPDATE, extensions: nothing to report
    }
  }

  void on_settings(Side side, const FrameHeader& h, std::string_view payload) {
    if (h.has(flag::kAck)) {
      // `side` acknowledges the peer's oldest unacknowledged SETTINGS: from here on its
      // encoder honours that SETTINGS_HEADER_TABLE_SIZE.
      std::vector<int64_t>& q = pending_table_size[idx(other(side))];
      if (q.empty()) return;
      const int64_t v = q.front();
      q.erase(q.begin());
      if (v >= 0) {
        hpack[idx(side)].decoder.set_table_limit(
            std::min<size_t>(static_cast<size_t>(v), kMaxHpackTable));
      }
      return;
    }
    int64_t table_size = -1;
    for (size_t at = 0; at + 6 <= payload.size(); at += 6) {
      const uint16_t id = static_cast<uint16_t>((static_cast<uint8_t>(payload[at]) << 8) |
                                                static_cast<uint8_t>(payload[at + 1]));
      const uint32_t value = be32(payload, at + 2);
      if (id == setting::kHeaderTableSize) {
        table_size = value;
      } else if (id == setting::kMaxFrameSize && value <= kMaxFrameSizeLimit) {
        // Only ever raised: frames sized for an older, larger limit may still be in flight.
        FrameParser& peer = parsers[idx(other(side))];
        if (value > peer.max_frame_size()) peer.set_max_frame_size(value);
      }
    }
    std::vector<int64_t>& q = pending_table_size[idx(side)];
    if (q.size() >= kMaxPendingSettings) q.erase(q.begin());
    q.push_back(table_size);
    // A larger limit only allows more; it can be applied before the ACK, which helps when the
    // peer's encoder grows its table before the ACK reaches us in capture order.
    HpackDecoder& peer = hpack[idx(other(side))].decoder;
    if (table_size >= 0) {
      const size_t v = std::min<size_t>(static_cast<size_t>(table_size), kMaxHpackTable);
      if (v > peer.table_limit()) peer.set_table_limit(v);
    }
  }

  void on_rst_stream(Side side, uint32_t id, uint32_t code) {
    Stream* st = find(id);
    if (st == nullptr) return;
    if (st->ended[1]) {
      // The response is complete: the reset only stops the rest of an upload (RFC 9113 8.1,
      // or a gRPC client still streaming when the server ended the call). Not an error.
      add_note(st->x, fmt::format("stream reset by the {} ({}) after the response", peer_name(side),
                                  error_code_name(code)));
    } else {
      st->x.error = error_code_name(code);
      add_note(st->x, fmt::format("stream reset by the {}", peer_name(side)));
    }
    emit(*st);
  }

  void on_goaway(Side side, uint32_t last_id, uint32_t code) {
    // The last stream id counts streams the receiver of the GOAWAY initiated.
    const uint32_t parity = side == Side::kResponses ? 1 : 0;
    const std::string name = error_code_name(code);
    const std::string not_processed = fmt::format(
        "not processed: GOAWAY from the {} with last stream {}", peer_name(side), last_id);
    const std::string ended =
        fmt::format("connection ended by GOAWAY from the {}", peer_name(side));
    emit_open([&](Stream& st) {
      const bool refused = (st.id & 1) == parity && st.id > last_id;
      if (!refused && code == 0) return false;
      st.x.error = name;
      add_note(st.x, refused ? not_processed : ended);
      return true;
    });
  }

  void on_lost(Side side, std::string_view reason, uint64_t ts) override {
    const int s = idx(side);
    hpack[s].loss = HpackSide::Loss::kGap;
    hpack[s].needs_reset = true;
    if (blocks[s].active) {
      blocks[s].missed = true;
      finish_block(side, ts);
    }
    const std::string note = fmt::format("{} frames lost: {}", peer_name(side), reason);
    for (auto& st : streams) {
      if (!st->ended[s]) add_note(st->x, note);
    }
  }

  void close(uint64_t ts) {
    for (Side side : {Side::kRequests, Side::kResponses}) {
      if (blocks[idx(side)].active) {
        blocks[idx(side)].missed = true;
        finish_block(side, ts);
      }
    }
    emit_open([](Stream& st) {
      add_note(st.x, "connection closed before the stream ended");
      return true;
    });
    closed = true;
  }

  size_t buffered_bytes() const {
    size_t n = parsers[0].buffered_bytes() + parsers[1].buffered_bytes();
    for (const Block& b : blocks) n += fields_bytes(b.fields);
    auto exchange_bytes = [&n](const HttpExchange& x) {
      if (x.request)
        n += fields_bytes(x.request->headers) + x.request->body.data.capacity() +
             x.request->target.capacity();
      if (x.response) n += fields_bytes(x.response->headers) + x.response->body.data.capacity();
      n += fields_bytes(x.trailers);
      for (const std::string& s : x.notes) n += s.capacity();
      if (x.grpc) {
        for (const GrpcMessage& m : x.grpc->requests) n += sizeof(m) + m.decoded_json.capacity();
        for (const GrpcMessage& m : x.grpc->responses) n += sizeof(m) + m.decoded_json.capacity();
      }
    };
    for (const auto& st : streams) {
      n += sizeof(Stream);
      exchange_bytes(st->x);
      n += st->grpc[0].buffered_bytes() + st->grpc[1].buffered_bytes();
    }
    for (const HttpExchange& x : done) exchange_bytes(x);
    return n;
  }
};

Http2Session::Http2Session(const Config& cfg, bool mid_stream)
    : impl_(std::make_unique<Impl>(cfg, mid_stream)) {}
Http2Session::~Http2Session() = default;

void Http2Session::on_data(http1::Side side, std::string_view bytes, uint64_t ts_ns) {
  if (impl_->closed) return;
  impl_->parsers[idx(side)].feed(bytes, ts_ns);
}

void Http2Session::on_gap(http1::Side side, uint64_t len, uint64_t ts_ns) {
  if (impl_->closed) return;
  impl_->parsers[idx(side)].gap(len, ts_ns);
}

void Http2Session::on_close(uint64_t ts_ns) {
  if (impl_->closed) return;
  impl_->close(ts_ns);
}

std::vector<HttpExchange> Http2Session::take_exchanges() { return std::exchange(impl_->done, {}); }

size_t Http2Session::buffered_bytes() const { return impl_->buffered_bytes(); }

}  // namespace qtap::http2
