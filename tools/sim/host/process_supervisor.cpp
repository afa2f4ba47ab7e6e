#include "process_supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <thread>

#include "xenballoon/util/spawn.h"

namespace xenballoon::sim::host {
namespace {

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
  const int log_fd = ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return Error{"cannot open " + spec.log_path + ": " + std::strerror(errno), errno};
  }
  SpawnOptions options;
  options.argv = spec.argv;
  options.env = environment_with(spec.extra_env);
  options.stdout_fd = log_fd;
  options.stderr_fd = log_fd;
  options.new_process_group = true;
  options.parent_death_signal = SIGTERM;  // agents restore their balloon target on SIGTERM
  Result<pid_t> started = spawn(options);
  ::close(log_fd);
  if (!started) return Error{spec.name + ": " + started.error().message, started.error().errnum};
  const pid_t pid = *started;
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
