#include "unit/http1/http1_harness.h"

#include <fmt/format.h>

#include <random>
#include <stdexcept>

namespace qtap::http1::test {

namespace {

using qtap::test::apply;
using qtap::test::dump_body;
using qtap::test::dump_headers;
using qtap::test::escape;
using qtap::test::Piece;
using qtap::test::split;

// Where the last response head in `bytes` ends (the size if there is none).
// The stressor only lets the next request overtake a response's bytes after
// its head, so that responses still meet the requests in the same order.
size_t after_last_head(std::string_view bytes) {
  size_t start = bytes.rfind("HTTP/1.");
  if (start == std::string_view::npos) return bytes.size();
  size_t crlf = bytes.find("\r\n\r\n", start);
  size_t lf = bytes.find("\n\n", start);
  if (crlf == std::string_view::npos && lf == std::string_view::npos) return bytes.size();
  return std::min(crlf == std::string_view::npos ? bytes.size() : crlf + 4,
                  lf == std::string_view::npos ? bytes.size() : lf + 2);
}

}  // namespace

std::vector<HttpExchange> run_whole(const Fixture& f) {
  Http1Session s(f.cfg);
  std::vector<HttpExchange> out;
  for (const Step& st : f.steps) {
    apply(s, Piece{st.kind, st.side, st.bytes, st.gap, st.ts});
    for (HttpExchange& x : s.take_exchanges()) out.push_back(std::move(x));
  }
  return out;
}

std::vector<HttpExchange> run_split(const Fixture& f, uint32_t seed) {
  std::mt19937 rng(seed);
  const bool bytewise = seed % 4 == 0;
  std::vector<Piece> plan;
  // Pieces of a response body that the next request may overtake.
  std::vector<Piece> held;
  for (const Step& st : f.steps) {
    std::vector<Piece> pieces = split(st, rng, bytewise);
    bool is_request = st.kind != Step::Kind::kClose && st.side == Side::kRequests;
    if (is_request && !held.empty()) {
      // A random merge keeping each side's order.
      size_t i = 0, j = 0;
      while (i < held.size() || j < pieces.size()) {
        bool take_held = j == pieces.size() || (i < held.size() && rng() % 2 == 0);
        plan.push_back(take_held ? held[i++] : pieces[j++]);
      }
      held.clear();
      continue;
    }
    plan.insert(plan.end(), held.begin(), held.end());
    held.clear();
    if (f.interleave && st.kind == Step::Kind::kData && st.side == Side::kResponses) {
      size_t head_end = after_last_head(st.bytes);
      size_t offset = 0;
      for (Piece& p : pieces) {
        (offset >= head_end ? held : plan).push_back(p);
        offset += p.bytes.size();
      }
    } else {
      plan.insert(plan.end(), pieces.begin(), pieces.end());
    }
  }
  plan.insert(plan.end(), held.begin(), held.end());

  Http1Session s(f.cfg);
  std::vector<HttpExchange> out;
  for (const Piece& p : plan) {
    apply(s, p);
    for (HttpExchange& x : s.take_exchanges()) out.push_back(std::move(x));
  }
  return out;
}

std::string dump(const std::vector<HttpExchange>& xs) {
  std::string out;
  for (const HttpExchange& x : xs) {
    out += fmt::format("exchange {}\n", x.version);
    for (const std::string& n : x.notes) out += fmt::format("  note: {}\n", n);
    if (x.request) {
      const HttpRequest& r = *x.request;
      out += fmt::format("  request: {} {} {} start={} end={}\n", escape(r.method),
                         escape(r.target), r.version, r.start_ns, r.end_ns);
      out += dump_headers(r.headers);
      out += fmt::format("    body: {}\n", dump_body(r.body));
    }
    if (x.response) {
      const HttpResponse& r = *x.response;
      out += fmt::format("  response: {} {} {} start={} end={}\n", r.status, escape(r.reason),
                         r.version, r.start_ns, r.end_ns);
      out += dump_headers(r.headers);
      out += fmt::format("    body: {}\n", dump_body(r.body));
    }
  }
  return out;
}

const Fixture& fixture(std::string_view name) {
  for (const Fixture& f : fixtures()) {
    if (f.name == name) return f;
  }
  throw std::invalid_argument(fmt::format("no fixture {}", name));
}

}  // namespace qtap::http1::test
