#include "xenballoon/util/spawn.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace xenballoon {
namespace {

std::vector<char*> c_pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

// argv[0] as given when it names a path, else the first executable match on $PATH (looked up
// before fork: execvp may allocate); a name not found is left for execve to fail on.
std::string resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  return find_in_path(name).value_or(name);
}

// Runs in the forked child: only async-signal-safe calls until execve.
[[noreturn]] void exec_child(const SpawnOptions& options, pid_t parent, const char* program,
                             char** argv, char** envp, int report_fd) {
  if (options.new_process_group) ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);  // a parent may block signals for a signalfd
  ::signal(SIGPIPE, SIG_DFL);
  int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
  if (options.stdout_fd >= 0) ::dup2(options.stdout_fd, STDOUT_FILENO);
  if (options.stderr_fd >= 0) ::dup2(options.stderr_fd, STDERR_FILENO);
  ::execve(program, argv, envp);
  const int error = errno;
  [[maybe_unused]] ssize_t written = ::write(report_fd, &error, sizeof error);
  ::_exit(127);
}

}  // namespace

std::optional<std::string> find_in_path(std::string_view name) {
  if (name.empty() || name.find('/') != std::string_view::npos) return std::nullopt;
  const char* path = std::getenv("PATH");
  const std::string dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (std::size_t begin = 0; begin <= dirs.size();) {
    std::size_t end = dirs.find(':', begin);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = (end > begin ? dirs.substr(begin, end - begin) : ".") + "/";
    candidate += name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    begin = end + 1;
  }
  return std::nullopt;
}

std::vector<std::string> environment_with(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> result;
  for (char** entry = environ; *entry; ++entry) {
    const std::string text(*entry);
    const auto equals = text.find('=');
    if (equals != std::string::npos && overrides.count(text.substr(0, equals))) continue;
    result.push_back(text);
  }
  for (const auto& [key, value] : overrides) result.push_back(key + "=" + value);
  return result;
}

Result<pid_t> spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return Error{"nothing to run", EINVAL};
  std::vector<std::string> argv = options.argv;
  std::vector<std::string> env = options.env;
  const std::string program = resolve_program(argv[0]);
  std::vector<char*> argv_pointers = c_pointers(argv);
  std::vector<char*> env_pointers = c_pointers(env);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    const int error = errno;
    return Error{"cannot start " + argv[0] + ": pipe: " + std::strerror(error), error};
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    exec_child(options, parent, program.c_str(), argv_pointers.data(), env_pointers.data(),
               report[1]);
  }
  const int fork_error = errno;
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    return Error{"cannot start " + argv[0] + ": fork: " + std::strerror(fork_error), fork_error};
  }
  // The pipe closes on a successful exec (O_CLOEXEC) and carries errno when exec failed.
  int exec_error = 0;
  ssize_t got;
  do {
    got = ::read(report[0], &exec_error, sizeof exec_error);
  } while (got < 0 && errno == EINTR);
  ::close(report[0]);
  if (got == static_cast<ssize_t>(sizeof exec_error)) {
    ::waitpid(pid, nullptr, 0);
    return Error{"cannot start " + argv[0] + ": " + std::strerror(exec_error), exec_error};
  }
  return pid;
}

}  // namespace xenballoon
