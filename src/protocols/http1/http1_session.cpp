// Stitching: pairs the requests of one connection with its responses, FIFO
// (RFC 9112 9.3: responses come in request order, pipelined or not).
#include "protocols/http1/http1_session.h"

#include <fmt/format.h>

#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "protocols/content_decoding.h"
#include "protocols/http1/http1_parser.h"

namespace qtap::http1 {

namespace {

constexpr uint64_t kNoEntry = std::numeric_limits<uint64_t>::max();

// One request and what is known of its response, in request order. A lost
// request (gap, invalid bytes) keeps a place without a request so that the
// responses after it still pair with the right requests.
struct Entry {
  HttpExchange x;  // built in place, moved out whole when complete
  bool request_done = false;
  bool response_done = false;  // complete, or known never to come
  // A place kept for bytes that did not parse as a request. They may have
  // been a request the server answers (capture started mid-body, a malformed
  // request answered 400) or not one at all (a PROXY protocol line): a
  // response skips such places when a real request is waiting behind them.
  bool unparsed = false;

  bool complete() const { return (!x.request || request_done) && response_done; }
};

size_t fields_bytes(const std::vector<Header>& hs) {
  size_t n = hs.capacity() * sizeof(Header);
  for (const Header& h : hs) n += h.name.capacity() + h.value.capacity();
  return n;
}

size_t message_bytes(const std::vector<Header>& hs, const Body& b) {
  return fields_bytes(hs) + b.data.capacity();
}

}  // namespace

struct Http1Session::Impl final : MessageListener {
  explicit Impl(const Config& c)
      : cfg(c), requests(Side::kRequests, cfg, *this), responses(Side::kResponses, cfg, *this) {}

  Config cfg;  // before the parsers, which keep a reference
  MessageParser requests;
  MessageParser responses;

  // Oldest first. A vector rather than a deque: it is short (max_pending),
  // usually holds one entry, and keeps its storage from one exchange to the
  // next where a deque allocates a node per entry this large.
  std::vector<Entry> pending;
  uint64_t front_id = 0;               // id of pending.front(); ids grow by one per entry
  uint64_t next_unanswered = 0;        // first entry without a response (all later ones too)
  uint64_t request_entry = kNoEntry;   // receiving the request being parsed
  uint64_t response_entry = kNoEntry;  // receiving the response being parsed
  enum class ResponseKind : uint8_t { kFinal, kInterim, kUpgrade };
  ResponseKind response_kind = ResponseKind::kFinal;  // of the response being parsed

  std::vector<HttpExchange> done;
  bool upgraded = false;
  bool closed = false;

  Entry* entry(uint64_t id) {
    if (id < front_id || id - front_id >= pending.size()) return nullptr;
    return &pending[id - front_id];
  }

  // A new entry at the back, built in place; its id is front_id + size - 1.
  Entry& new_entry() {
    if (pending.size() >= std::max<size_t>(cfg.max_pending, 1)) {
      // Bounded memory: the oldest waits no longer.
      Entry& old = pending.front();
      if (!old.response_done) old.x.notes.emplace_back("no response: too many requests pending");
      emit(old);
      pending.erase(pending.begin());
      ++front_id;
      next_unanswered = std::max(next_unanswered, front_id);
    }
    return pending.emplace_back();
  }
  uint64_t back_id() const { return front_id + pending.size() - 1; }

  void emit(Entry& e) {
    if (!e.x.request && !e.x.response) return;  // a lost request that never got an answer
    e.x.version = e.x.request ? e.x.request->version : e.x.response->version;
    done.push_back(std::move(e.x));
  }

  void emit_ready() {
    size_t n = 0;
    while (n < pending.size() && pending[n].complete()) emit(pending[n++]);
    pending.erase(pending.begin(), pending.begin() + static_cast<ptrdiff_t>(n));
    front_id += n;
  }

  // Everything still pending goes out as it is.
  void flush(std::string_view unanswered_note) {
    for (Entry& e : pending) {
      if (!e.response_done && e.x.request) e.x.notes.emplace_back(unanswered_note);
      emit(e);
    }
    front_id += pending.size();
    pending.clear();
    next_unanswered = front_id;
    request_entry = response_entry = kNoEntry;
  }

  // Transfer coding is gone already; undo the content coding when asked.
  void finish_body(Body& dst, Body& src, const std::vector<Header>& headers,
                   std::vector<std::string>& notes) {
    dst = std::move(src);
    dst.content_encoding = field_value(headers, "content-encoding");
    if (!dst.content_encoding || !cfg.decode_content || dst.data.empty()) return;
    std::optional<DecodedContent> decoded =
        decode_content(*dst.content_encoding, dst.data, cfg.max_body);
    if (!decoded) {
      notes.push_back(fmt::format("body not decoded (content-encoding {})", *dst.content_encoding));
      return;
    }
    bool whole = decoded->complete && !dst.truncated;
    dst.data = std::move(decoded->data);
    dst.captured = dst.data.size();
    dst.content_decoded = true;
    dst.size = whole ? dst.captured : dst.wire_size;
    dst.truncated = !whole;
  }

  Framing on_head(Side side, MessageHead& head) override {
    if (side == Side::kRequests) {
      Framing f = body_framing(side, head, {});
      if (f.kind == BodyKind::kInvalid) return f;
      HttpRequest& r = new_entry().x.request.emplace();
      r.method = std::move(head.method);
      r.target = std::move(head.target);
      r.version = std::move(head.version);
      r.headers = std::move(head.headers);
      r.start_ns = head.start_ns;
      r.end_ns = head.end_ns;
      request_entry = back_id();
      return f;
    }

    Entry* target = answer_target();
    std::string_view method = target && target->x.request ? target->x.request->method : "";
    Framing f = body_framing(side, head, method);
    if (f.kind == BodyKind::kInvalid) return f;
    if (head.status < 200 && head.status != 101) {
      // Interim (100 Continue, 103 Early Hints): the final response follows.
      if (target) {
        target->x.notes.push_back(head.reason.empty()
                                      ? fmt::format("{}", head.status)
                                      : fmt::format("{} {}", head.status, head.reason));
      }
      response_kind = ResponseKind::kInterim;
      return f;
    }
    if (!target) {
      target = &new_entry();
      target->x.notes.emplace_back("response without request");
      next_unanswered = back_id();
    }
    HttpResponse& r = target->x.response.emplace();
    r.status = head.status;
    r.reason = std::move(head.reason);
    r.version = std::move(head.version);
    r.headers = std::move(head.headers);
    r.start_ns = head.start_ns;
    r.end_ns = head.end_ns;
    response_entry = next_unanswered++;
    response_kind = f.kind == BodyKind::kUpgrade ? ResponseKind::kUpgrade : ResponseKind::kFinal;
    return f;
  }

  void on_message(Side side, Body& body, std::vector<Header>& trailers, uint64_t end_ns,
                  std::string_view note) override {
    if (side == Side::kRequests) {
      Entry* e = entry(request_entry);
      request_entry = kNoEntry;
      if (!e || !e->x.request) return;  // pushed out by max_pending meanwhile
      complete_message(*e->x.request, *e, body, trailers, end_ns, note);
      e->request_done = true;
      emit_ready();
      return;
    }
    ResponseKind kind = std::exchange(response_kind, ResponseKind::kFinal);
    if (kind == ResponseKind::kInterim) return;
    Entry* e = entry(response_entry);
    response_entry = kNoEntry;
    if (!e || !e->x.response) return;
    complete_message(*e->x.response, *e, body, trailers, end_ns, note);
    e->response_done = true;
    if (kind == ResponseKind::kUpgrade) {
      // Whatever follows is another protocol. A request still arriving ends
      // here; later requests can no longer be answered in HTTP/1.
      upgraded = true;
      responses.stop();
      requests.close(end_ns);
      flush("no response: the connection was upgraded");
      return;
    }
    emit_ready();
  }

  template <typename Message>
  void complete_message(Message& m, Entry& e, Body& body, std::vector<Header>& trailers,
                        uint64_t end_ns, std::string_view note) {
    finish_body(m.body, body, m.headers, e.x.notes);
    // Trailer fields are reported after the header fields (RFC 9110 6.5).
    for (Header& h : trailers) m.headers.push_back(std::move(h));
    m.end_ns = end_ns;
    if (!note.empty()) e.x.notes.emplace_back(note);
  }

  // The entry the next response answers: the oldest one waiting, after
  // skipping unparsed places that have a real request behind them.
  Entry* answer_target() {
    uint64_t id = next_unanswered;
    const uint64_t end = front_id + pending.size();
    while (id < end && pending[id - front_id].unparsed) ++id;
    if (id < end) {
      for (uint64_t skip = next_unanswered; skip < id; ++skip) {
        pending[skip - front_id].response_done = true;  // dropped when emitted
      }
      next_unanswered = id;
    }
    return entry(next_unanswered);
  }

  void on_lost(Side side, std::string_view reason, LossCause cause) override {
    if (side == Side::kRequests) {
      // Keep the lost request's place in line for its response.
      Entry& placeholder = new_entry();
      placeholder.unparsed = cause == LossCause::kInvalid;
      placeholder.x.notes.push_back(fmt::format("request not captured: {}", reason));
      return;
    }
    response_kind = ResponseKind::kFinal;
    response_entry = kNoEntry;
    // The lost response most likely answered the oldest waiting request.
    // With nothing waiting (capture started mid-response) there is nobody
    // to tell.
    if (Entry* e = answer_target()) {
      e->x.notes.push_back(fmt::format("response not captured: {}", reason));
      e->response_done = true;
      ++next_unanswered;
      emit_ready();
    }
  }

  size_t buffered_bytes() const {
    size_t n = requests.buffered_bytes() + responses.buffered_bytes();
    auto add_exchange_like = [&n](const std::optional<HttpRequest>& rq,
                                  const std::optional<HttpResponse>& rs,
                                  const std::vector<std::string>& notes) {
      if (rq) n += message_bytes(rq->headers, rq->body) + rq->target.capacity();
      if (rs) n += message_bytes(rs->headers, rs->body) + rs->reason.capacity();
      for (const std::string& s : notes) n += s.capacity();
    };
    for (const Entry& e : pending) add_exchange_like(e.x.request, e.x.response, e.x.notes);
    for (const HttpExchange& x : done) add_exchange_like(x.request, x.response, x.notes);
    return n;
  }
};

Http1Session::Http1Session(const Config& cfg) : impl_(std::make_unique<Impl>(cfg)) {}
Http1Session::~Http1Session() = default;

void Http1Session::on_data(Side side, std::string_view bytes, uint64_t ts_ns) {
  if (impl_->upgraded || impl_->closed) return;
  (side == Side::kRequests ? impl_->requests : impl_->responses).feed(bytes, ts_ns);
}

void Http1Session::on_gap(Side side, uint64_t len, uint64_t ts_ns) {
  if (impl_->upgraded || impl_->closed) return;
  (side == Side::kRequests ? impl_->requests : impl_->responses).gap(len, ts_ns);
}

void Http1Session::on_close(uint64_t ts_ns) {
  if (impl_->closed) return;
  impl_->closed = true;
  // Responses first: a close-delimited response completes its exchange.
  impl_->responses.close(ts_ns);
  impl_->requests.close(ts_ns);
  impl_->flush("no response before the connection closed");
}

std::vector<HttpExchange> Http1Session::take_exchanges() { return std::exchange(impl_->done, {}); }

bool Http1Session::upgraded() const { return impl_->upgraded; }

size_t Http1Session::buffered_bytes() const { return impl_->buffered_bytes(); }

}  // namespace qtap::http1
