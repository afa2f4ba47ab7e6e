#include "process_supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <thread>

extern char** environ;

namespace xenballoon::sim::host {
namespace {

std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> result;
  for (char** entry = environ; *entry; ++entry) {
    const std::string text(*entry);
    const auto equals = text.find('=');
    if (equals != std::string::npos && extra.count(text.substr(0, equals))) continue;
    result.push_back(text);
  }
  for (const auto& [key, value] : extra) result.push_back(key + "=" + value);
  return result;
}

std::vector<char*> c_pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Runs in the forked child: only async-signal-safe calls until execve.
[[noreturn]] void exec_child(pid_t parent, int log_fd, int null_fd, int report_fd, char** argv,
                             char** envp) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(127);  // the simulator died before prctl took effect
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the simulator blocks signals for its signalfd
  ::signal(SIGPIPE, SIG_DFL);
  ::dup2(null_fd, STDIN_FILENO);
  ::dup2(log_fd, STDOUT_FILENO);
  ::dup2(log_fd, STDERR_FILENO);
  ::execve(argv[0], argv, envp);
  const int error = errno;
  [[maybe_unused]] ssize_t written = ::write(report_fd, &error, sizeof error);
  ::_exit(127);
}

bool wait_for_exit(pid_t pid, std::chrono::steady_clock::time_point deadline) {
  while (true) {
    int status = 0;
    const pid_t result = ::waitpid(pid, &status, WNOHANG);
    if (result == pid || (result < 0 && errno == ECHILD)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int signal_number = WTERMSIG(status);
    const char* name = sigabbrev_np(signal_number);
    return "was killed by signal " + std::to_string(signal_number) +
           (name ? std::string(" (SIG") + name + ")" : "");
  }
  return "ended (wait status " + std::to_string(status) + ")";
}

ProcessSupervisor::~ProcessSupervisor() {
  stop_all();
}

Result<pid_t> ProcessSupervisor::start(const ProcessSpec& spec) {
  if (spec.argv.empty()) return Error{spec.name + ": nothing to run"};
  // Everything the child needs is prepared before fork(): the simulator has threads
  // (libxenstore's reader), so the child may only make async-signal-safe calls.
  std::vector<std::string> argv = spec.argv;
  std::vector<std::string> envp = child_environment(spec.extra_env);
  std::vector<char*> argv_pointers = c_pointers(argv);
  std::vector<char*> envp_pointers = c_pointers(envp);

  const int log_fd = ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return Error{"cannot open " + spec.log_path + ": " + std::strerror(errno), errno};
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int report_pipe[2];
  if (null_fd < 0 || ::pipe2(report_pipe, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return Error{std::string("cannot prepare a child process: ") + std::strerror(error), error};
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    exec_child(parent, log_fd, null_fd, report_pipe[1], argv_pointers.data(), envp_pointers.data());
  }
  const int fork_error = errno;
  ::close(log_fd);
  ::close(null_fd);
  ::close(report_pipe[1]);
  if (pid < 0) {
    ::close(report_pipe[0]);
    return Error{"cannot start " + spec.name + ": fork: " + std::strerror(fork_error), fork_error};
  }
  // The pipe closes on a successful exec (O_CLOEXEC) and carries errno when exec failed.
  int exec_error = 0;
  ssize_t got;
  do {
    got = ::read(report_pipe[0], &exec_error, sizeof exec_error);
  } while (got < 0 && errno == EINTR);
  ::close(report_pipe[0]);
  if (got == sizeof exec_error) {
    ::waitpid(pid, nullptr, 0);
    return Error{
        "cannot run " + spec.argv[0] + " (" + spec.name + "): " + std::strerror(exec_error),
        exec_error};
  }
  children_.push_back(Child{spec, pid});
  return pid;
}

std::vector<ExitedProcess> ProcessSupervisor::reap() {
  std::vector<ExitedProcess> exited;
  for (Child& child : children_) {
    if (child.pid <= 0) continue;
    int status = 0;
    if (::waitpid(child.pid, &status, WNOHANG) == child.pid) {
      exited.push_back(ExitedProcess{child.spec.name, child.pid, describe_wait_status(status)});
      child.pid = -1;
    }
  }
  return exited;
}

bool ProcessSupervisor::is_running(const std::string& name) const {
  return std::any_of(children_.begin(), children_.end(),
                     [&](const Child& child) { return child.pid > 0 && child.spec.name == name; });
}

std::vector<std::pair<std::string, pid_t>> ProcessSupervisor::running() const {
  std::vector<std::pair<std::string, pid_t>> result;
  for (const Child& child : children_) {
    if (child.pid > 0) result.emplace_back(child.spec.name, child.pid);
  }
  return result;
}

std::vector<std::string> ProcessSupervisor::stop_all(std::chrono::milliseconds grace) {
  std::set<int> stages;
  for (const Child& child : children_) {
    if (child.pid > 0) stages.insert(child.spec.stop_stage);
  }
  std::vector<std::string> killed;
  for (int stage : stages) {
    for (std::string& name : stop_stage(stage, grace)) killed.push_back(std::move(name));
  }
  return killed;
}

std::vector<std::string> ProcessSupervisor::stop_stage(int stage, std::chrono::milliseconds grace) {
  std::vector<Child*> group;
  for (Child& child : children_) {
    if (child.pid > 0 && child.spec.stop_stage == stage) group.push_back(&child);
  }
  for (Child* child : group) ::kill(child->pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  std::vector<std::string> killed;
  for (Child* child : group) {
    if (!wait_for_exit(child->pid, deadline)) {
      ::kill(child->pid, SIGKILL);
      ::waitpid(child->pid, nullptr, 0);
      killed.push_back(child->spec.name);
    }
    child->pid = -1;
  }
  return killed;
}

}  // namespace xenballoon::sim::host
