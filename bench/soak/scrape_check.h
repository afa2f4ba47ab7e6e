// What the soak checks of one scrape of an exporter: that the text is a well-formed Prometheus
// exposition and that the guest count it shows is plausible. Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace xenballoon::bench {

// "" when every line of `text` is empty, a comment, or a sample `name[{labels}] value
// [timestamp]` (a metric name, well-quoted label values, a number); else the first bad line's
// number and why. An empty text is a problem too.
std::string exposition_problem(std::string_view text);

// The value of the first sample named exactly `series` (without labels), or -1.
double sample_value(std::string_view text, std::string_view series);

// The sum of every sample of family `name` (any labels), or 0 when there is none.
double family_sum(std::string_view text, std::string_view name);

}  // namespace xenballoon::bench
