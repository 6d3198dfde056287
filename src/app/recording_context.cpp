#include "app/recording_context.h"

#include <cstring>

#include <nlohmann/json.hpp>

#include "qtap_abi.h"

namespace qtap::app {

namespace {

using nlohmann::json;

json container_json(const ContainerInfo& c) {
  json labels = json::array();
  for (const auto& [k, v] : c.labels) labels.push_back({k, v});
  return {{"runtime", c.runtime},     {"id", c.id},           {"pod_uid", c.pod_uid},
          {"name", c.name},           {"image", c.image},     {"labels", std::move(labels)},
          {"pod_name", c.pod_name},   {"pod_namespace", c.pod_namespace}};
}

ContainerInfo container_of(const json& j) {
  ContainerInfo c;
  c.runtime = j.at("runtime").get<std::string>();
  c.id = j.at("id").get<std::string>();
  c.pod_uid = j.at("pod_uid").get<std::string>();
  c.name = j.at("name").get<std::string>();
  c.image = j.at("image").get<std::string>();
  for (const json& kv : j.at("labels")) c.labels.emplace_back(kv.at(0).get<std::string>(), kv.at(1).get<std::string>());
  c.pod_name = j.at("pod_name").get<std::string>();
  c.pod_namespace = j.at("pod_namespace").get<std::string>();
  return c;
}

}  // namespace

std::string process_to_json(const ProcessInfo& p) {
  json j = {{"pid", p.pid},         {"comm", p.comm},     {"exe", p.exe},
            {"cmdline", p.cmdline}, {"uid", p.uid},       {"user", p.user},
            {"cgroup", p.cgroup},   {"netns", p.netns},   {"container", nullptr}};
  if (p.container) j["container"] = container_json(*p.container);
  // Bytes that are not UTF-8 (a command line can hold anything) are replaced
  // rather than refused: a snapshot must never stop a recording.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<ProcessInfo> process_from_json(std::string_view text) {
  try {
    const json j = json::parse(text);
    ProcessInfo p;
    p.pid = j.at("pid").get<uint32_t>();
    p.comm = j.at("comm").get<std::string>();
    p.exe = j.at("exe").get<std::string>();
    p.cmdline = j.at("cmdline").get<std::string>();
    p.uid = j.at("uid").get<uint32_t>();
    p.user = j.at("user").get<std::string>();
    p.cgroup = j.at("cgroup").get<std::string>();
    p.netns = j.at("netns").get<uint64_t>();
    if (!j.at("container").is_null()) p.container = container_of(j.at("container"));
    return p;
  } catch (const json::exception& e) {
    return make_error(std::string("recorded process context: ") + e.what());
  }
}

Result<void> ContextRecorder::start() { return w_.write_context(events::EntryKind::kHost, host_name()); }

Result<void> ContextRecorder::before(std::span<const uint8_t> sample) {
  qtap_event_header h;
  if (sample.size() < sizeof(h)) return {};
  std::memcpy(&h, sample.data(), sizeof(h));
  if (h.type == QTAP_EV_PROC_EXIT) {
    known_.erase(h.pid);
    return {};
  }
  if (h.type == QTAP_EV_PROC_EXEC) {
    known_.insert(h.pid);  // the event itself carries the new image
    return {};
  }
  if (known_.size() >= kMaxKnown) known_.clear();
  if (!known_.insert(h.pid).second) return {};
  const ProcessInfo& p = processes_.get(h.pid, ProcessHint{});
  if (p.exe.empty() && p.cmdline.empty()) return {};  // gone already: the events say as much
  return w_.write_context(events::EntryKind::kProcess, process_to_json(p));
}

Result<void> replay_recording(events::RecordingReader& reader, Pipeline& pipeline,
                              ProcessCache& processes) {
  std::vector<uint8_t> entry;
  events::EntryKind kind;
  while (true) {
    auto more = reader.next(entry, &kind);
    if (!more) return make_error(more.error().message);
    if (!*more) return {};
    const std::string_view bytes(reinterpret_cast<const char*>(entry.data()), entry.size());
    switch (kind) {
      case events::EntryKind::kSample:
        pipeline.on_sample(entry);
        break;
      case events::EntryKind::kHost:
        pipeline.set_hostname(std::string(bytes));
        break;
      case events::EntryKind::kProcess: {
        auto p = process_from_json(bytes);
        if (!p) return make_error(p.error().message);
        processes.seed(std::move(*p));
        break;
      }
      default:
        break;  // written by a newer qtap
    }
  }
}

}  // namespace qtap::app
