// Reads guest views back from a scrape of xenballoon-exporter (the families of
// metrics/vocabulary.h with domid/domain/uuid labels), so that xenballoon-monitor can show a
// host through its exporter's cache instead of reading xenstore key by key. Lines of other
// families are skipped unparsed. Parsing only, no I/O. Thread-safe (pure function).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "xenballoon/dom0/guest_record.h"
#include "xenballoon/dom0/host_memory.h"

namespace xenballoon::dom0 {

// Plain value; not synchronized.
struct ExpositionContent {
  std::vector<GuestView> guests;  // ordered by domid
  std::optional<HostMemory> host;
};

// The exposition does not name the layout a guest's statistics came from: a guest with
// xenballoon_agent_info or a heartbeat is kAgent, one with other statistics kUnnamed.
ExpositionContent parse_exposition(std::string_view text);

}  // namespace xenballoon::dom0
