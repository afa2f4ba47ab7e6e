// Fuzz target exposition: the reader xenballoon-monitor applies to a scrape of the exporter
// (dom0::parse_exposition), fed the scrape text. Checked: the guests come out ordered by domid
// with valid-UTF-8 names that to_valid_utf8 leaves as they are. Not thread-safe: libFuzzer calls
// it from one thread.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "xenballoon/dom0/exposition_reader.h"
#include "xenballoon/dom0/label_text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace xenballoon::dom0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ExpositionContent content = parse_exposition(text);
  for (std::size_t i = 0; i < content.guests.size(); ++i) {
    const GuestView& guest = content.guests[i];
    if (i > 0 && content.guests[i - 1].domid >= guest.domid) __builtin_trap();
    if (to_valid_utf8(guest.name) != guest.name) __builtin_trap();
  }
  return 0;
}
