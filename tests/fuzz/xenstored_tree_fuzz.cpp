// Fuzz target xenstored_tree: xenstored-lite's tree-dump loader (load_tree, the `xenstore-ls -fp`
// text of --tree and of real-host captures) and its perms parser. Checked: a tree that loads dumps
// to text that loads again into the same tree (dump, load, dump gives the same text).
// Not thread-safe: libFuzzer calls it from one thread.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "store.h"
#include "tree_text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace xenballoon::xenstored_lite;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Perm perm;
  (void)parse_perm(text, &perm);

  Store store;
  if (!load_tree(store, text, "fuzz")) return 0;
  const std::string dump = dump_tree(store);
  Store again;
  if (!load_tree(again, dump, "dump")) __builtin_trap();
  if (dump_tree(again) != dump) __builtin_trap();
  return 0;
}
