#include "run_dir.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace xenballoon::sim::host {
namespace fs = std::filesystem;

std::string default_run_dir() {
  const char* runtime_dir = std::getenv("XDG_RUNTIME_DIR");
  const std::string base = runtime_dir && *runtime_dir ? runtime_dir : "/tmp";
  return base + "/xenballoon-sim";
}

RunDir::RunDir(const std::string& root) {
  std::error_code error;
  fs::path absolute = fs::absolute(root, error);
  root_ = (error ? fs::path(root) : absolute).lexically_normal().string();
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Result<void> RunDir::prepare_fresh() const {
  std::error_code error;
  fs::create_directories(root_, error);
  if (error) return Error{"cannot create run directory " + root_ + ": " + error.message()};
  for (const std::string& entry :
       {state_file(), control_dir(), xenstore_dir(), guests_dir(), agents_dir(), logs_dir(),
        prometheus_dir(), alertmanager_dir(), balancer_dir(), host_memory_file()}) {
    fs::remove_all(entry, error);
    if (error) {
      return Error{"cannot remove " + entry + " (left by an earlier run): " + error.message()};
    }
  }
  for (const std::string& dir :
       {control_dir(), xenstore_dir(), guests_dir(), agents_dir(), logs_dir()}) {
    fs::create_directories(dir, error);
    if (error) return Error{"cannot create " + dir + ": " + error.message()};
  }
  return {};
}

}  // namespace xenballoon::sim::host
