// dom0/target_setter.h, the libxl setter: on a host without a hypervisor (this one) the factory
// says why it cannot open, and xenballoon-balancer --target-setter libxl refuses to start.
#include <sys/stat.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "xenballoon/dom0/target_setter.h"

using namespace xenballoon;

namespace {

bool have_hypervisor() {
  struct stat st {};
  return ::stat("/dev/xen/privcmd", &st) == 0 || ::stat("/proc/xen/privcmd", &st) == 0;
}

}  // namespace

TEST_CASE("without a hypervisor the libxl setter does not open and says why") {
  if (have_hypervisor()) {
    WARN("a Xen hypervisor interface is present: nothing to check");
    return;
  }
  std::string why;
  auto setter = dom0::open_libxl_target_setter(&why);
  CHECK(setter == nullptr);
  INFO(why);
  CHECK_FALSE(why.empty());
  // either the library is missing or libxl_ctx_alloc found no hypervisor
  const bool named = why.find("libxenlight") != std::string::npos ||
                     why.find("libxl_ctx_alloc") != std::string::npos;
  CHECK(named);
  // a null why_not is allowed
  CHECK(dom0::open_libxl_target_setter(nullptr) == nullptr);
}

#ifdef XENBALLOON_BALANCER_BIN
TEST_CASE("without a hypervisor the balancer refuses the libxl setter with a clear message") {
  if (have_hypervisor()) {
    WARN("a Xen hypervisor interface is present: nothing to check");
    return;
  }
  // a real start (not --check-config) opens the setter and must exit before serving
  const std::string start = std::string(XENBALLOON_BALANCER_BIN) +
                            " --target-setter libxl --pidfile '' --web.listen-address "
                            "127.0.0.1:1 --host-memory-file /nonexistent 2>&1";
  FILE* pipe = ::popen(start.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
  const int status = ::pclose(pipe);
  INFO(output);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(output.find("--target-setter libxl") != std::string::npos);
  const bool why = output.find("libxl_ctx_alloc") != std::string::npos ||
                   output.find("libxenlight") != std::string::npos;
  CHECK(why);
}
#endif
