// xs_domain: introduce or release a domain through the real libxenstore, as the toolstack does.
// usage: xs_domain introduce|release|cycle DOMID   (cycle: introduce, then release)
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" {  // xenstore.h has no C++ guards
#include <xenstore.h>
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: xs_domain introduce|release|cycle DOMID\n");
    return 2;
  }
  std::string op = argv[1];
  unsigned domid = static_cast<unsigned>(std::strtoul(argv[2], nullptr, 10));
  xs_handle* h = xs_open(0);
  if (!h) {
    std::perror("xs_open");
    return 1;
  }
  bool ok = true;
  if (op == "introduce" || op == "cycle") ok = ok && xs_introduce_domain(h, domid, 1, 1);
  if (op == "release" || op == "cycle") ok = ok && xs_release_domain(h, domid);
  if (!ok) std::perror(op.c_str());
  xs_close(h);
  return ok ? 0 : 1;
}
