// gRPC calls, field by field, and the pieces they are made of.
#include <gtest/gtest.h>

#include "protocols/http2/grpc_reader.h"
#include "unit/http2/http2_harness.h"

namespace qtap::http2::test {
namespace {

using Notes = std::vector<std::string>;

void expect_message(const GrpcMessage& m, uint64_t size, std::string_view json,
                    bool compressed = false, bool truncated = false) {
  EXPECT_EQ(m.size, size);
  EXPECT_EQ(m.compressed, compressed);
  EXPECT_EQ(m.truncated, truncated);
  EXPECT_EQ(m.decoded_json, json);
}

TEST(Http2Grpc, Unary) {
  const auto xs = run_whole(fixture("grpc_unary"));
  ASSERT_EQ(xs.size(), 1u);
  const HttpExchange& x = xs[0];
  EXPECT_EQ(x.notes, Notes{});
  ASSERT_TRUE(x.grpc);
  const GrpcCall& g = *x.grpc;
  EXPECT_EQ(g.service, "helloworld.Greeter");
  EXPECT_EQ(g.method, "SayHello");
  EXPECT_EQ(g.status_code, 0);
  EXPECT_EQ(g.status_message, "");
  EXPECT_EQ(g.request_messages, 1u);
  EXPECT_EQ(g.response_messages, 1u);
  ASSERT_EQ(g.requests.size(), 1u);
  expect_message(g.requests[0], 7, R"({"1":"world"})");
  ASSERT_EQ(g.responses.size(), 1u);
  expect_message(g.responses[0], 13, R"({"1":"Hello world"})");
  // The HTTP view stays complete: bodies with their prefixes, trailers.
  EXPECT_EQ(x.request->body.size, 12u);
  EXPECT_EQ(x.request->body.data, grpc_message(pb_bytes(1, "world")));
  EXPECT_EQ(x.response->body.size, 18u);
  ASSERT_EQ(x.trailers.size(), 2u);
  EXPECT_EQ(x.trailers[0].name, "grpc-status");
  EXPECT_EQ(x.trailers[0].value, "0");
  // The URL is built from :scheme and :authority.
  EXPECT_EQ(x.request->headers[0].name, ":scheme");
  EXPECT_EQ(x.request->headers[0].value, "http");
  EXPECT_EQ(x.request->headers[1].name, ":authority");
  EXPECT_EQ(x.request->headers[1].value, "localhost:50051");
}

TEST(Http2Grpc, ServerStreamingMessagesAcrossAndWithinFrames) {
  const auto xs = run_whole(fixture("grpc_server_streaming"));
  ASSERT_EQ(xs.size(), 1u);
  const GrpcCall& g = *xs[0].grpc;
  EXPECT_EQ(g.service, "routeguide.RouteGuide");
  EXPECT_EQ(g.method, "ListFeatures");
  EXPECT_EQ(g.status_code, 0);
  EXPECT_EQ(g.request_messages, 1u);
  ASSERT_EQ(g.requests.size(), 1u);
  expect_message(g.requests[0], 6, R"({"1":400,"2":600})");
  EXPECT_EQ(g.response_messages, 3u);
  ASSERT_EQ(g.responses.size(), 3u);
  expect_message(g.responses[0], 9, R"({"1":"first","2":1})");
  expect_message(g.responses[1], 10, R"({"1":"second","2":2})");
  expect_message(g.responses[2], 11, R"({"1":"third","3":{"1":7}})");
  EXPECT_EQ(xs[0].notes, Notes{});
}

TEST(Http2Grpc, TrailersOnlyError) {
  const auto xs = run_whole(fixture("grpc_trailers_only"));
  ASSERT_EQ(xs.size(), 1u);
  const GrpcCall& g = *xs[0].grpc;
  EXPECT_EQ(g.service, "users.v1.Users");
  EXPECT_EQ(g.method, "Get");
  EXPECT_EQ(g.status_code, 5);  // NOT_FOUND
  EXPECT_EQ(g.status_message, "user 42 not found");
  EXPECT_EQ(g.request_messages, 1u);
  EXPECT_EQ(g.response_messages, 0u);
  EXPECT_TRUE(g.responses.empty());
  EXPECT_TRUE(xs[0].trailers.empty());
  EXPECT_EQ(xs[0].response->status, 200);
}

TEST(Http2Grpc, EveryMessageCountedTheFirstOnesKept) {
  const auto xs = run_whole(fixture("grpc_client_streaming"));
  ASSERT_EQ(xs.size(), 1u);
  const GrpcCall& g = *xs[0].grpc;
  EXPECT_EQ(g.request_messages, 5u);
  ASSERT_EQ(g.requests.size(), 2u);  // max_grpc_messages_kept
  expect_message(g.requests[0], 2, R"({"1":1})");
  expect_message(g.requests[1], 2, R"({"1":2})");
  EXPECT_EQ(g.response_messages, 1u);
  expect_message(g.responses[0], 2, R"({"1":15})");
}

TEST(Http2Grpc, CompressedMessagesAreNotDecoded) {
  const auto xs = run_whole(fixture("grpc_compressed"));
  ASSERT_EQ(xs.size(), 1u);
  const GrpcCall& g = *xs[0].grpc;
  EXPECT_EQ(g.status_code, 13);
  EXPECT_EQ(g.status_message, "boom: 100%");
  ASSERT_EQ(g.requests.size(), 1u);
  EXPECT_TRUE(g.requests[0].compressed);
  EXPECT_EQ(g.requests[0].decoded_json, "");
  ASSERT_EQ(g.responses.size(), 1u);
  expect_message(g.responses[0], 0, "{}");
}

TEST(GrpcReader, ContentTypes) {
  EXPECT_EQ(grpc_content_type("application/grpc"), GrpcContent::kProto);
  EXPECT_EQ(grpc_content_type("application/grpc+proto"), GrpcContent::kProto);
  EXPECT_EQ(grpc_content_type("Application/GRPC; charset=utf-8"), GrpcContent::kProto);
  EXPECT_EQ(grpc_content_type("application/grpc+json"), GrpcContent::kOther);
  EXPECT_EQ(grpc_content_type("application/grpc-web+proto"), GrpcContent::kNone);
  EXPECT_EQ(grpc_content_type("application/json"), GrpcContent::kNone);
  EXPECT_EQ(grpc_content_type(""), GrpcContent::kNone);
}

TEST(GrpcReader, Paths) {
  std::string s, m;
  EXPECT_TRUE(split_grpc_path("/pkg.v1.Svc/Do", s, m));
  EXPECT_EQ(s, "pkg.v1.Svc");
  EXPECT_EQ(m, "Do");
  EXPECT_FALSE(split_grpc_path("/only", s, m));
  EXPECT_FALSE(split_grpc_path("//Do", s, m));
  EXPECT_FALSE(split_grpc_path("/a/b/c", s, m));
  EXPECT_FALSE(split_grpc_path("/a/b?x=1", s, m));
  EXPECT_FALSE(split_grpc_path("a/b", s, m));
}

TEST(GrpcReader, PercentDecoding) {
  EXPECT_EQ(percent_decode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(percent_decode("%E2%82%AC"), "\xe2\x82\xac");
}

TEST(GrpcReader, ByteByByteAndGaps) {
  const std::string msgs = grpc_message(pb_varint(1, 1)) + grpc_message(pb_bytes(2, "hello")) +
                           grpc_message(pb_varint(3, 3));
  GrpcLimits limits;
  GrpcMessageReader r;
  std::vector<GrpcMessage> kept;
  uint64_t count = 0;
  for (char c : msgs) r.feed(std::string_view(&c, 1), limits, count, kept);
  EXPECT_TRUE(r.finish(kept));
  EXPECT_EQ(count, 3u);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[1].decoded_json, R"({"2":"hello"})");

  // A hole inside the second message: it is truncated, the third is still found.
  r.reset();
  kept.clear();
  count = 0;
  const size_t second = grpc_message(pb_varint(1, 1)).size();
  r.feed(msgs.substr(0, second + 6), limits, count, kept);
  EXPECT_TRUE(r.gap(2, kept));
  r.feed(msgs.substr(second + 8), limits, count, kept);
  EXPECT_TRUE(r.finish(kept));
  EXPECT_EQ(count, 3u);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_TRUE(kept[1].truncated);
  EXPECT_EQ(kept[1].decoded_json, "");
  EXPECT_EQ(kept[2].decoded_json, R"({"3":3})");

  // A hole over a prefix: nothing more is counted.
  r.reset();
  kept.clear();
  count = 0;
  r.feed(msgs.substr(0, second), limits, count, kept);
  EXPECT_FALSE(r.gap(3, kept));
  r.feed(msgs.substr(second + 3), limits, count, kept);
  EXPECT_EQ(count, 1u);

  // Cut short at the end.
  r.reset();
  kept.clear();
  count = 0;
  r.feed(msgs.substr(0, second + 7), limits, count, kept);
  EXPECT_FALSE(r.finish(kept));
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_TRUE(kept[1].truncated);
}

TEST(GrpcReader, LargeMessagesAreCountedNotDecoded) {
  GrpcLimits limits;
  limits.max_decode = 16;
  GrpcMessageReader r;
  std::vector<GrpcMessage> kept;
  uint64_t count = 0;
  r.feed(grpc_message(pb_bytes(1, std::string(40, 'a'))), limits, count, kept);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].size, 42u);
  EXPECT_EQ(kept[0].decoded_json, "");
  EXPECT_TRUE(r.finish(kept));
}

}  // namespace
}  // namespace qtap::http2::test
