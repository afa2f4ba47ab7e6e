#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "xenballoon/util/spawn.h"

namespace xenballoon::testing {
namespace {

// A test killed by ctest's timeout or a crash takes its xenstored-lite and agents with it
// (spawn's PR_SET_PDEATHSIG): start children from the test's own thread.
pid_t start_child(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env, int stdout_fd, int stderr_fd) {
  SpawnOptions options;
  options.argv = argv;
  options.env = environment_with(env);
  options.stdout_fd = stdout_fd;
  options.stderr_fd = stderr_fd;
  Result<pid_t> pid = spawn(options);
  if (!pid) throw std::runtime_error(pid.error().message);
  return *pid;
}

int open_output(const std::string& path) {
  if (path.empty()) return -1;
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& env,
                           const std::string& stdout_path, const std::string& stderr_path) {
  int out_fd = open_output(stdout_path);
  int err_fd = open_output(stderr_path);
  try {
    pid_ = start_child(argv, env, out_fd, err_fd);
  } catch (...) {
    if (out_fd >= 0) ::close(out_fd);
    if (err_fd >= 0) ::close(err_fd);
    throw;
  }
  if (out_fd >= 0) ::close(out_fd);
  if (err_fd >= 0) ::close(err_fd);
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && stop(SIGTERM) < 0) stop(SIGKILL);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_), status_(other.status_) {
  other.pid_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && stop(SIGTERM) < 0) stop(SIGKILL);
    pid_ = other.pid_;
    status_ = other.status_;
    other.pid_ = -1;
  }
  return *this;
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = status;
    pid_ = -1;
    return false;
  }
  return true;
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0) {
    if (!running()) break;
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return status_;
}

int ChildProcess::stop(int sig, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return status_;
  ::kill(pid_, sig);
  return wait(timeout);
}

CommandResult run_command(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env,
                          std::chrono::milliseconds timeout) {
  TempDir dir;
  std::string out_path = dir.path() + "/out", err_path = dir.path() + "/err";
  ChildProcess child(argv, env, out_path, err_path);
  CommandResult result;
  int status = child.wait(timeout);
  if (status < 0) {
    child.stop(SIGKILL);
    result.exit_code = -1;
  } else {
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  auto slurp = [](const std::string& path) {
    std::string data;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return data;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) data.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return data;
  };
  result.out = slurp(out_path);
  result.err = slurp(err_path);
  return result;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/xenballoon-test.XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

bool wait_for_socket(const std::string& path, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
      bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      ::close(fd);
      if (ok) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

std::string xenstored_lite_binary() {
  return XENSTORED_LITE_BIN;
}

Xenstored::Xenstored(std::vector<std::string> extra_args) : extra_args_(std::move(extra_args)) {
  rundir_ = dir_.path() + "/run";
  log_path_ = dir_.path() + "/xenstored.log";
  start();
}

Xenstored::~Xenstored() {
  if (process_.pid() > 0 && process_.stop(SIGTERM) < 0) process_.stop(SIGKILL);
}

void Xenstored::start() {
  std::vector<std::string> argv{xenstored_lite_binary(), "--rundir", rundir_};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  process_ = ChildProcess(argv, {}, log_path_, log_path_);
  if (!wait_for_socket(socket(), std::chrono::milliseconds(5000))) {
    throw std::runtime_error("xenstored-lite did not start; see " + log_path_);
  }
}

void Xenstored::restart(std::optional<std::vector<std::string>> extra_args) {
  process_.stop(SIGTERM);
  if (extra_args) extra_args_ = std::move(*extra_args);
  start();
}

std::map<std::string, std::string> Xenstored::env_for(unsigned domid) const {
  return {{"XENSTORED_PATH", domid == 0 ? socket() : domain_socket(domid)}};
}

}  // namespace xenballoon::testing
