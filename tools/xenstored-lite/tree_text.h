// Tree dump/load as text, in the format of `xenstore-ls -fp`, so captures from a real host load
// as fixtures:  /local/domain/1/name = "guest"   (n0,r1)
// No state of its own: as thread-safe as the Store passed in.
#pragma once

#include <string>
#include <string_view>

#include "store.h"
#include "xenballoon/result.h"

namespace xenballoon::xenstored_lite {

// Every node but "/" in tree order. Values are escaped as xenstore-ls does (\\ and \ooo).
std::string dump_tree(const Store& store);

// Loads lines into the store (no permission checks). Blank lines and lines starting with '#'
// are skipped. Errors name the source and line.
Result<void> load_tree(Store& store, std::string_view text, const std::string& source_name);

// "n0,r1" <-> Perms. Letters: n none, r read, w write, b both.
std::string perms_to_text(const Perms& perms);
bool parse_perm(std::string_view text, Perm* out);

}  // namespace xenballoon::xenstored_lite
