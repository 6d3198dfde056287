#include "config/settings.h"

#include <gtest/gtest.h>

#include "config/config.h"

namespace qtap::config {
namespace {

TEST(ResolveSettings, DefaultsWhenNothingIsSet) {
  Settings s = resolve_settings({}, {});
  EXPECT_EQ(s.log_level, "info");
  EXPECT_EQ(s.format, OutputFormat::kConsole);
  EXPECT_EQ(s.output, "-");
  EXPECT_FALSE(s.verbose);
  EXPECT_TRUE(s.pids.empty());
  EXPECT_EQ(s.ready_file, "");
  EXPECT_EQ(s.max_body, 1048576u);
  EXPECT_EQ(s.ringbuf_mb, 32u);
  EXPECT_EQ(s.record, "");
  EXPECT_TRUE(s.color);
}

TEST(ResolveSettings, FileOverridesDefaults) {
  auto file = parse_config(
      "log_level: warn\nformat: json\nverbose: true\nmax_body: 0\n"
      "pids: [3, 4]\ncolor: false\n",
      "f.yaml");
  ASSERT_TRUE(file) << file.error().message;
  Settings s = resolve_settings(file->settings, {});
  EXPECT_EQ(s.log_level, "warn");
  EXPECT_EQ(s.format, OutputFormat::kJson);
  EXPECT_TRUE(s.verbose);
  EXPECT_EQ(s.max_body, 0u);
  EXPECT_EQ(s.pids, (std::vector<uint32_t>{3, 4}));
  EXPECT_FALSE(s.color);
  EXPECT_EQ(s.output, "-");      // not in the file: default
  EXPECT_EQ(s.ringbuf_mb, 32u);  // not in the file: default
}

TEST(ResolveSettings, CommandLineOverridesTheFileFieldByField) {
  SettingOverrides file;
  file.log_level = "warn";
  file.format = OutputFormat::kJson;
  file.pids = std::vector<uint32_t>{1, 2};
  file.max_body = 100;
  file.color = false;
  file.output = "/var/log/qtap.jsonl";

  SettingOverrides cli;
  cli.log_level = "debug";
  cli.pids = std::vector<uint32_t>{7};  // replaces, does not merge
  cli.max_body = 0;                     // a falsy value still counts as given
  cli.verbose = false;                  // given, equal to the default

  Settings s = resolve_settings(file, cli);
  EXPECT_EQ(s.log_level, "debug");
  EXPECT_EQ(s.pids, (std::vector<uint32_t>{7}));
  EXPECT_EQ(s.max_body, 0u);
  EXPECT_FALSE(s.verbose);
  EXPECT_EQ(s.format, OutputFormat::kJson);    // file
  EXPECT_FALSE(s.color);                       // file
  EXPECT_EQ(s.output, "/var/log/qtap.jsonl");  // file
  EXPECT_EQ(s.ringbuf_mb, 32u);                // default
}

TEST(ResolveSettings, CommandLineAloneOverridesDefaults) {
  SettingOverrides cli;
  cli.color = false;
  cli.ringbuf_mb = 8;
  cli.record = "/tmp/r";
  cli.ready_file = "/run/ready";
  Settings s = resolve_settings({}, cli);
  EXPECT_FALSE(s.color);
  EXPECT_EQ(s.ringbuf_mb, 8u);
  EXPECT_EQ(s.record, "/tmp/r");
  EXPECT_EQ(s.ready_file, "/run/ready");
}

TEST(ResolveSettings, FormatNames) {
  EXPECT_STREQ(format_name(OutputFormat::kConsole), "console");
  EXPECT_STREQ(format_name(OutputFormat::kJson), "json");
}

}  // namespace
}  // namespace qtap::config
