// Fuzz target guest_values: what dom0 decodes of the values a guest publishes. The input is a list
// of key/value pairs, "key\0value\0key\0value..." (a value of one byte 0x7f: the key is gone), as
// a watch would deliver them from one domain's home. Each pair goes to the guest record merge
// (GuestRecord::apply: every layout, the 2008 keys and XenServer's), and its key and value also
// straight to the decoders below it: the watch path, the layout decoder (publish::decode_value),
// the 2008 meminfo and XenServer KiB decoders, and the label text functions (checked: their output
// is bounded, valid UTF-8 that to_valid_utf8 leaves as it is). Not thread-safe: libFuzzer calls it
// from one thread.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "xenballoon/dom0/guest_keys.h"
#include "xenballoon/dom0/guest_record.h"
#include "xenballoon/dom0/label_text.h"
#include "xenballoon/dom0/legacy_formats.h"
#include "xenballoon/publish/layout.h"

namespace {

using namespace xenballoon;

// A libFuzzer crash with the check's name in the report when an invariant fails.
void expect(bool ok) {
  if (!ok) __builtin_trap();
}

void label_text(std::string_view raw) {
  const std::string label = dom0::to_valid_utf8(raw);
  expect(label.size() <= dom0::kMaxLabelBytes);
  expect(dom0::to_valid_utf8(label) == label);
  std::string out;
  dom0::append_label_value(out, label);
  dom0::append_json_string(out, label);
  const std::string cell = dom0::printable_cell(label, 16);
  expect(dom0::count_chars(cell) <= 16);
  (void)dom0::uuid_from_vm_path(raw);
}

void decoders(std::string_view key, std::string_view value) {
  (void)dom0::classify_key(key);
  (void)dom0::classify_dir(key);
  (void)dom0::parse_domain_path(key);
  (void)dom0::parse_domid(key);
  // GuestRecord::apply decodes the agent's keys it knows; the decoder also sees the others.
  publish::GuestStats stats;
  std::string_view agent_key = key;
  if (agent_key.starts_with(publish::kDir) && agent_key.substr(publish::kDir.size(), 1) == "/") {
    agent_key.remove_prefix(publish::kDir.size() + 1);
  }
  (void)publish::decode_value(agent_key, value, &stats);
  std::string layout;
  if (!dom0::legacy_meminfo_to_layout(value, &layout)) {
    (void)publish::decode_value(publish::key::kMeminfo, layout, &stats);
  }
  std::optional<std::uint64_t> kib;
  if (!dom0::decode_kib_value(value, &kib)) expect(kib && *kib <= dom0::kMaxKib);
  label_text(value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  dom0::GuestRecord record(7);
  double now = 1700000000;
  while (!rest.empty()) {
    const std::size_t key_end = rest.find('\0');
    const std::string_view key = rest.substr(0, key_end);
    rest = key_end == std::string_view::npos ? std::string_view() : rest.substr(key_end + 1);
    const std::size_t value_end = rest.find('\0');
    const std::string_view value = rest.substr(0, value_end);
    rest = value_end == std::string_view::npos ? std::string_view() : rest.substr(value_end + 1);

    const bool gone = value == "\x7f";
    (void)record.apply(key, gone ? std::nullopt : std::optional<std::string>(value), now);
    now += 1;
    decoders(key, value);
  }
  const dom0::GuestView& view = record.view();
  expect(dom0::to_valid_utf8(view.name) == view.name);
  (void)record.label_text();
  (void)record.exported();
  return 0;
}
