// Test support: the metric families docs/metrics.md documents, read from its tables, for the
// tests that check every exposed or used family is documented. Thread-safe (pure functions; each
// call reads the document afresh).
#pragma once

#include <regex>
#include <string>
#include <vector>

namespace xenballoon::testing {

// One whole-name pattern per table row that starts with a family name (| `xenballoon_...` |);
// a placeholder such as <field> stands for any name part. Empty when the document is missing.
std::vector<std::regex> documented_families();

// True when `family` matches one of `documented`.
bool is_documented(const std::vector<std::regex>& documented, const std::string& family);

}  // namespace xenballoon::testing
