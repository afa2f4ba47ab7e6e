// How many random input sequences a property test runs: $XENBALLOON_PROPERTY_SEQUENCES, else
// XENBALLOON_PROPERTY_SEQUENCES_DEFAULT (100,000; the sanitizer tree defines 10,000, where every
// tick costs about ten times as much). Thread-safe (reads the environment only).
#pragma once

#include <cstdlib>

#ifndef XENBALLOON_PROPERTY_SEQUENCES_DEFAULT
#define XENBALLOON_PROPERTY_SEQUENCES_DEFAULT 100000
#endif

namespace xenballoon::testing {

inline int property_sequences() {
  const char* text = std::getenv("XENBALLOON_PROPERTY_SEQUENCES");
  const int count = text != nullptr ? std::atoi(text) : 0;
  return count > 0 ? count : XENBALLOON_PROPERTY_SEQUENCES_DEFAULT;
}

}  // namespace xenballoon::testing
