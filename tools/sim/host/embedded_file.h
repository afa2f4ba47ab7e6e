// A text file compiled into the binary (see embed_text.cmake).
#pragma once

#include <string_view>

namespace xenballoon::sim::embedded {

// A plain constant value.
struct EmbeddedFile {
  std::string_view name;  // the source file's name, without its directory
  std::string_view text;
};

}  // namespace xenballoon::sim::embedded
