// Test support: child processes started and stopped by PID, and a running xenstored-lite.
// Not thread-safe; one per test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xenballoon::testing {

// A child process; the destructor sends SIGTERM, waits, then SIGKILL if it lingers.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               const std::string& stdout_path = "", const std::string& stderr_path = "");
  ~ChildProcess();
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `sig` and waits up to `timeout` for the exit; returns the wait status or -1.
  int stop(int sig, std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));
  // Waits for exit up to `timeout`; returns the wait status or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a command to completion with extra environment variables (no shell).
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env = {},
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

// A fresh directory under $TMPDIR (or /tmp), removed with its contents by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// True once a Unix socket at `path` accepts a connection (polls up to `timeout`).
bool wait_for_socket(const std::string& path, std::chrono::milliseconds timeout);

// xenstored-lite in its own run directory; killed by PID when the object goes away.
class Xenstored {
 public:
  explicit Xenstored(std::vector<std::string> extra_args = {});
  ~Xenstored();

  const std::string& rundir() const { return rundir_; }
  std::string socket() const { return rundir_ + "/socket"; }
  std::string domain_socket(unsigned domid) const {
    return rundir_ + "/domain/" + std::to_string(domid) + "/socket";
  }
  const std::string& log_path() const { return log_path_; }
  ChildProcess& process() { return process_; }
  // Environment for a client acting as dom0 (domid 0) or as an introduced guest.
  std::map<std::string, std::string> env_for(unsigned domid) const;
  // Restarts the daemon on the same run directory (state is lost, as with a real restart);
  // `extra_args` replace the ones given at construction.
  void restart(std::optional<std::vector<std::string>> extra_args = std::nullopt);

 private:
  void start();
  TempDir dir_;
  std::string rundir_;
  std::string log_path_;
  std::vector<std::string> extra_args_;
  ChildProcess process_;
};

// Path of the xenstored-lite binary under test (set by CMake).
std::string xenstored_lite_binary();

}  // namespace xenballoon::testing
