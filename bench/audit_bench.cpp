// Cost of the sensitive-data audit (Auditor::scan) and of redaction
// (Redactor::apply) per exchange, on synthetic but realistic HTTP/1
// exchanges: ~9 request headers (Authorization, Cookie), a URL with a query
// string, ~8 response headers, JSON-ish text bodies of 1 KiB and 64 KiB full
// of numbers, words, ids, UUIDs, timestamps and short base64 values that are
// not secrets, plus variants holding one card number, e-mail address or JWT.
//
//   audit_bench [--iterations N] [--only SUBSTRING]
//
// Each row: a warm-up, then N calls (N/20 for 64 KiB rows) timed with
// steady_clock in 25 repetitions; the best and the median repetition are
// printed, in ns per call. Results go
// to a volatile sink so nothing is optimized away. Budget (docs/audit.md):
// <= 0.7 us per exchange with 1 KiB bodies, >= 1 GB/s on 64 KiB bodies.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "audit/auditor.h"
#include "audit/redactor.h"
#include "protocols/http_model.h"

namespace {

using qtap::Auditor;
using qtap::Body;
using qtap::Header;
using qtap::HttpExchange;
using qtap::HttpRequest;
using qtap::HttpResponse;
using qtap::Redactor;
using Clock = std::chrono::steady_clock;

volatile uint64_t g_sink = 0;

// Well-known test values, none a live credential.
const std::string kJwt =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const std::string kCard = "4111 1111 1111 1111";
const std::string kEmail = "alice.smith@example.com";

Body text_body(std::string data) {
  Body b;
  b.size = b.wire_size = b.captured = data.size();
  b.data = std::move(data);
  return b;
}

// JSON-ish records of an order API until `size` bytes (exactly), with
// `secret` (if any) in the middle as the value of a "note" field.
std::string json_body(size_t size, uint32_t seed, const std::string& secret) {
  static const char* const kWords[] = {
      "widget", "gadget", "blue",    "large",  "express", "standard", "pending", "shipped",
      "Berlin", "Paris",  "London",  "return", "gift",    "discount", "premium", "bundle",
      "small",  "red",    "organic", "coffee", "tea",     "monthly",  "annual",  "trial"};
  std::mt19937 rng(seed);
  auto word = [&] { return std::string(kWords[rng() % std::size(kWords)]); };
  auto hex = [&](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back("0123456789abcdef"[rng() % 16]);
    return s;
  };
  auto uuid = [&] { return hex(8) + "-" + hex(4) + "-4" + hex(3) + "-a" + hex(3) + "-" + hex(12); };
  auto b64 = [&](size_t n) {  // short base64 values: thumbnails, nonces (< 32 chars)
    static const char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back(kAlphabet[rng() % 64]);
    return s + "==";
  };
  std::string out = "{\"data\":[";
  const size_t secret_at = size / 2;
  bool secret_done = secret.empty();
  for (int i = 0;; ++i) {
    std::string r = i == 0 ? "{" : ",{";
    r += "\"id\":" + std::to_string(100000 + rng() % 900000);
    r += ",\"uuid\":\"" + uuid() + "\"";
    r += ",\"name\":\"" + word() + " " + word() + " " + std::to_string(rng() % 100) + "\"";
    r += ",\"sku\":\"WX-" + std::to_string(1000 + rng() % 9000) + "-AB\"";
    r += ",\"price\":" + std::to_string(rng() % 500) + "." + std::to_string(10 + rng() % 90);
    r += ",\"qty\":" + std::to_string(1 + rng() % 9);
    r += ",\"created_at\":\"2024-0" + std::to_string(1 + rng() % 9) + "-1" +
         std::to_string(rng() % 10) + "T10:2" + std::to_string(rng() % 10) + ":45Z\"";
    r += ",\"ts\":" + std::to_string(1700000000000ull + rng() % 100000000ull);
    r += ",\"owner\":{\"id\":\"" + hex(24) + "\",\"handle\":\"user_" +
         std::to_string(rng() % 10000) + "\",\"city\":\"" + word() + "\"}";
    r += ",\"tags\":[\"" + word() + "\",\"" + word() + "\"]";
    r += ",\"thumb\":\"" + b64(12 + rng() % 16) + "\"";
    r += ",\"href\":\"/api/v2/items/" + std::to_string(rng() % 100000) + "?ref=list\"";
    if (!secret_done && out.size() + r.size() >= secret_at) {
      r += ",\"note\":\"contact " + secret + " for details\"";
      secret_done = true;
    }
    r += "}";
    if (out.size() + r.size() + 2 > size) break;
    out += r;
  }
  out += "]}";
  out.append(size - out.size(), ' ');
  return out;
}

struct Variant {
  const char* name;
  std::string request_secret;   // in the request body
  std::string response_secret;  // in the response body
  bool jwt_auth = false;        // Authorization: Bearer <JWT> instead of an opaque short token
};

HttpExchange make_exchange(size_t request_body, size_t response_body, const Variant& v,
                           uint32_t seed) {
  HttpExchange ex;
  ex.version = "HTTP/1.1";
  HttpRequest req;
  req.method = "POST";
  req.target =
      "/api/v2/orders/8f14e45f-ceea-467f-a0e7-3b2c1d4e5f60/items?page=2&limit=50"
      "&sort=-created_at&fields=id,name,price&lang=en-US&utm_source=newsletter";
  req.version = "HTTP/1.1";
  req.headers = {
      {"Host", "api.shop.example.com"},
      {"User-Agent",
       "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/120.0.0.0 Safari/537.36"},
      {"Accept", "application/json, text/plain, */*"},
      {"Accept-Encoding", "gzip, deflate, br"},
      {"Accept-Language", "en-US,en;q=0.9,de;q=0.8"},
      {"Authorization", v.jwt_auth ? "Bearer " + kJwt : "Basic YXBwOnNlY3JldA=="},
      {"Cookie", "lang=en-US; theme=dark; _ga=GA1.2.1234567890.1700000000; cart=3"},
      {"Content-Type", "application/json"},
      {"Content-Length", std::to_string(request_body)},
      {"X-Request-Id", "5f0c6a2e-8b1d-4c3e-9f7a-2d6b1e0c4a93"},
  };
  req.body = text_body(request_body ? json_body(request_body, seed, v.request_secret) : "");
  ex.request = std::move(req);
  HttpResponse resp;
  resp.status = 200;
  resp.reason = "OK";
  resp.version = "HTTP/1.1";
  resp.headers = {
      {"Date", "Mon, 15 Jan 2024 10:23:45 GMT"},
      {"Content-Type", "application/json; charset=utf-8"},
      {"Content-Length", std::to_string(response_body)},
      {"Connection", "keep-alive"},
      {"Cache-Control", "private, max-age=0, no-cache"},
      {"ETag", "W/\"400-5d41402abc4b2a76b9719d911017c592\""},
      {"Vary", "Accept-Encoding, Origin"},
      {"Strict-Transport-Security", "max-age=31536000; includeSubDomains"},
      {"Server", "nginx/1.25.3"},
  };
  resp.body = text_body(response_body ? json_body(response_body, seed + 1, v.response_secret) : "");
  ex.response = std::move(resp);
  return ex;
}

// Binary (gzip-looking) bytes of `size`, as a body that failed to decode.
HttpExchange binary_exchange(size_t size) {
  HttpExchange ex = make_exchange(0, 0, {"", "", "", false}, 1);
  std::mt19937 rng(3);
  std::string data = "\x1f\x8b\x08\x00";
  while (data.size() < size) data.push_back(static_cast<char>(rng()));
  ex.response->body = text_body(std::move(data));
  return ex;
}

struct Timing {
  double best_ns = 0;
  double median_ns = 0;
  double cpu_ns = 0;  // median of the thread's CPU time: what preemption does not inflate
};

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Runs `batch(n)` (which performs n operations) `reps` times after a
// warm-up; ns per operation. Short repetitions and the best of them filter
// out preemption on a busy machine; the median says how steady that is.
Timing time_it(const std::function<void(size_t)>& batch, size_t per_batch, int reps) {
  batch(per_batch);  // warm-up: caches, scratch, branch predictors
  std::vector<double> ns;
  std::vector<double> cpu;
  for (int r = 0; r < reps; ++r) {
    const double c0 = thread_cpu_ns();
    const auto t0 = Clock::now();
    batch(per_batch);
    const auto t1 = Clock::now();
    const double c1 = thread_cpu_ns();
    ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() /
                 static_cast<double>(per_batch));
    cpu.push_back((c1 - c0) / static_cast<double>(per_batch));
  }
  return {*std::min_element(ns.begin(), ns.end()), median(ns), median(cpu)};
}

size_t body_bytes(const HttpExchange& ex) {
  return (ex.request ? ex.request->body.data.size() : 0) +
         (ex.response ? ex.response->body.data.size() : 0);
}

std::string g_filter;  // --only: rows whose name contains it

bool selected(const char* name) {
  return std::string_view(name).find(g_filter) != std::string_view::npos;
}

void row(const char* what, const char* name, const Timing& t, size_t bytes, size_t findings) {
  std::printf("%-8s %-34s %10.0f %10.0f %10.0f", what, name, t.best_ns, t.median_ns, t.cpu_ns);
  if (bytes >= 16 * 1024) {
    std::printf(" %9.0f", static_cast<double>(bytes) / t.best_ns * 1e3);  // bytes/ns = GB/s
  } else {
    std::printf(" %9s", "-");
  }
  std::printf(" %8zu\n", findings);
}

// Scans each exchange of `set` in turn: `iterations` scans in all, in `reps`
// repetitions.
void bench_scan(const Auditor& auditor, const char* name,
                const std::function<std::vector<HttpExchange>()>& make_set, size_t iterations,
                int reps) {
  if (!selected(name)) return;
  const std::vector<HttpExchange> set = make_set();
  size_t findings = 0;
  for (const HttpExchange& ex : set) findings += auditor.scan(ex).size();
  size_t next = 0;
  const Timing t = time_it(
      [&](size_t n) {
        uint64_t found = 0;
        for (size_t i = 0; i < n; ++i) {
          found += auditor.scan(set[next]).size();
          if (++next == set.size()) next = 0;
        }
        g_sink = g_sink + found;
      },
      std::max<size_t>(1, iterations / static_cast<size_t>(reps)), reps);
  size_t bytes = 0;
  for (const HttpExchange& ex : set) bytes += body_bytes(ex);
  row("scan", name, t, bytes / set.size(), findings);
}

// Redacts fresh copies of `ex`: the copies are made outside the timed part.
void bench_redact(const Redactor& redactor, const char* name,
                  const std::function<HttpExchange()>& make, size_t iterations, int reps) {
  if (!selected(name)) return;
  const HttpExchange ex = make();
  iterations = std::max<size_t>(1, iterations / static_cast<size_t>(reps));
  const size_t batch = std::min<size_t>(iterations, body_bytes(ex) > 16 * 1024 ? 2 : 8);
  std::vector<HttpExchange> copies;
  std::vector<double> ns;
  std::vector<double> cpu;
  for (int r = 0; r < reps + 1; ++r) {
    double total = 0;
    double cpu_total = 0;
    size_t done = 0;
    while (done < iterations) {
      copies.assign(batch, ex);
      const double c0 = thread_cpu_ns();
      const auto t0 = Clock::now();
      for (HttpExchange& c : copies) redactor.apply(c);
      const auto t1 = Clock::now();
      cpu_total += thread_cpu_ns() - c0;
      total += std::chrono::duration<double, std::nano>(t1 - t0).count();
      uint64_t n = 0;
      for (const HttpExchange& c : copies) n += c.request->headers[5].value.size();
      g_sink = g_sink + n;
      done += batch;
    }
    if (r >= 1) {  // one warm-up round
      ns.push_back(total / static_cast<double>(done));
      cpu.push_back(cpu_total / static_cast<double>(done));
    }
  }
  row("redact", name, {*std::min_element(ns.begin(), ns.end()), median(ns), median(cpu)},
      body_bytes(ex), 0);
}

}  // namespace

int main(int argc, char** argv) {
  size_t iterations = 20000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
      iterations = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      g_filter = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--iterations N] [--only SUBSTRING]\n", argv[0]);
      return 2;
    }
  }
  if (iterations == 0) iterations = 1;
  constexpr int kReps = 25;

  qtap::Result<Auditor> made = Auditor::make({});
  if (!made) {
    std::fprintf(stderr, "audit: %s\n", made.error().message.c_str());
    return 1;
  }
  const Auditor auditor = std::move(made).value();

  const Variant clean{"clean", "", "", false};
  const Variant card{"card in request body", kCard, "", false};
  const Variant email{"e-mail in response body", "", kEmail, false};
  const Variant jwt{"JWT in Authorization", "", "", true};

  constexpr size_t kSmall = 1024;
  constexpr size_t kLarge = 64 * 1024;
  // Several seeds per variant, so the bodies differ from one call to the next.
  auto set_of = [](size_t req, size_t resp, const Variant& v) {
    std::vector<HttpExchange> set;
    for (uint32_t s = 0; s < 8; ++s) set.push_back(make_exchange(req, resp, v, 10 + 2 * s));
    return set;
  };
  auto mixed = [&] {  // mostly clean, sometimes one secret
    std::vector<HttpExchange> set;
    for (uint32_t s = 0; s < 16; ++s) {
      const Variant& v = s == 3 ? card : s == 7 ? email : s == 11 ? jwt : clean;
      set.push_back(make_exchange(kSmall, kSmall, v, 100 + 2 * s));
    }
    return set;
  };
  const size_t large_iterations = std::max<size_t>(1, iterations / 20);

  std::printf("audit_bench: %zu iterations (64 KiB rows: %zu), best and median of %d\n", iterations,
              large_iterations, kReps);
  std::printf("%-8s %-34s %10s %10s %10s %9s %8s\n", "op", "exchange", "best ns", "median ns",
              "cpu ns", "MB/s", "findings");
  auto sets = [&](size_t req, size_t resp, const Variant& v) {
    return [=, &set_of] { return set_of(req, resp, v); };
  };
  bench_scan(auditor, "1 KiB each way, clean", sets(kSmall, kSmall, clean), iterations, kReps);
  bench_scan(auditor, "1 KiB each way, card", sets(kSmall, kSmall, card), iterations, kReps);
  bench_scan(auditor, "1 KiB each way, e-mail", sets(kSmall, kSmall, email), iterations, kReps);
  bench_scan(auditor, "1 KiB each way, JWT", sets(kSmall, kSmall, jwt), iterations, kReps);
  bench_scan(auditor, "1 KiB each way, mixed 13:3", mixed, iterations, kReps);
  bench_scan(auditor, "headers only, no bodies", sets(0, 0, clean), iterations, kReps);
  bench_scan(auditor, "64 KiB response, clean", sets(kSmall, kLarge, clean), large_iterations,
             kReps);
  bench_scan(auditor, "64 KiB response, e-mail", sets(kSmall, kLarge, email), large_iterations,
             kReps);
  bench_scan(auditor, "64 KiB each way, card+e-mail", sets(kLarge, kLarge, {"", kCard, kEmail}),
             large_iterations, kReps);
  bench_scan(
      auditor, "64 KiB binary response",
      [] { return std::vector<HttpExchange>{binary_exchange(kLarge)}; }, large_iterations, kReps);

  qtap::Result<Redactor> redactor = Redactor::make({});
  qtap::RedactionSettings with_pattern;
  with_pattern.body_patterns = {R"(\b4\d{3}(?:[ -]?\d{4}){3}\b)"};
  qtap::Result<Redactor> redactor_body = Redactor::make(with_pattern);
  if (!redactor || !redactor_body) {
    std::fprintf(stderr, "redactor: cannot build\n");
    return 1;
  }
  bench_redact(
      *redactor, "1 KiB each way, defaults", [&] { return make_exchange(kSmall, kSmall, jwt, 5); },
      iterations, kReps);
  bench_redact(
      *redactor_body, "1 KiB, +1 body regex, card",
      [&] { return make_exchange(kSmall, kSmall, card, 5); }, iterations, kReps);
  bench_redact(
      *redactor, "64 KiB response, defaults",
      [&] { return make_exchange(kSmall, kLarge, clean, 5); }, large_iterations, kReps);
  bench_redact(
      *redactor_body, "64 KiB response, +1 body regex",
      [&] { return make_exchange(kSmall, kLarge, clean, 5); }, large_iterations, kReps);
  std::printf("(MB/s: body bytes of one exchange, both ways, over the best time)\n");
  return g_sink == 42 ? 3 : 0;  // keeps g_sink observable
}
