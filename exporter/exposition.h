// The exporter's /metrics: every exported guest's series (labels domid, domain, uuid) and the
// exporter's own metrics, in the text exposition format 0.0.4. Exposition only, no I/O.
// Thread-safe (reads the cache under its read lock).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "xenballoon/dom0/guest_cache.h"
#include "xenballoon/dom0/host_memory.h"
#include "xenballoon/dom0/xenstore_feed.h"
#include "xenballoon/metrics/guest_families.h"

namespace xenballoon::dom0 {

// What a scrape shows besides the cache. Plain value; not synchronized.
struct ScrapeContext {
  const FeedStatus* feed = nullptr;  // null: the xenstore families are left out
  std::optional<HostMemory> host;    // absent: no host families
};

// Writes the series straight from the cache: each family once, guests in domid order, label
// text escaped once per guest when it changes. render_reference_text() is the same content
// through prometheus-cpp (docs/exporter.md compares the two).
std::string render_exposition(const GuestCache& cache, const ScrapeContext& context);

// The exported guests' series through metrics::render_text (prometheus-cpp): the reference the
// direct writer is compared with (families and values; not the exporter's own families).
std::string render_reference_text(const GuestCache& cache);

}  // namespace xenballoon::dom0
