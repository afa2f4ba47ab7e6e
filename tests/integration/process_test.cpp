// The test harness's own promise: whatever happens to a test, it leaves no process behind.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "process.h"

using xenballoon::testing::ChildProcess;
using namespace std::chrono_literals;

namespace {

// Gone, or a zombie nobody has reaped yet: either way no longer running.
bool has_ended(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() &&
         (text[paren + 2] == 'Z' || text[paren + 2] == 'X');
}

}  // namespace

TEST_CASE("children die with a test process killed before it could stop them") {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  pid_t test_process = ::fork();
  REQUIRE(test_process >= 0);
  if (test_process == 0) {  // stands in for a test binary that ctest's timeout kills
    ::close(pipe_fds[0]);
    ChildProcess sleeper({"sleep", "60"}, {});
    pid_t pid = sleeper.pid();
    [[maybe_unused]] ssize_t n = ::write(pipe_fds[1], &pid, sizeof pid);
    ::pause();
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  pid_t sleeper = 0;
  REQUIRE(::read(pipe_fds[0], &sleeper, sizeof sleeper) == static_cast<ssize_t>(sizeof sleeper));
  ::close(pipe_fds[0]);
  REQUIRE_FALSE(has_ended(sleeper));

  ::kill(test_process, SIGKILL);
  ::waitpid(test_process, nullptr, 0);
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!has_ended(sleeper) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  bool ended = has_ended(sleeper);
  if (!ended) ::kill(sleeper, SIGKILL);  // clean up even when the check fails
  CHECK(ended);
}

TEST_CASE("a program that cannot be started is an error naming it, and leaves nothing") {
  CHECK_THROWS_WITH(ChildProcess({"/nonexistent/xenballoon-test-binary"}, {}),
                    Catch::Contains("cannot start /nonexistent/xenballoon-test-binary"));
  CHECK_THROWS_WITH(ChildProcess({"xenballoon-no-such-program-on-path"}, {}),
                    Catch::Contains("No such file"));
  int status = 0;
  CHECK(::waitpid(-1, &status, WNOHANG) <= 0);  // no unreaped child left behind
}

TEST_CASE("a child found on PATH runs with the environment it was given") {
  char dir_template[] = "/tmp/xenballoon-process-XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  std::string out = std::string(dir_template) + "/out";
  {
    ChildProcess shell({"sh", "-c", "echo \"$XENBALLOON_PROBE\""}, {{"XENBALLOON_PROBE", "seen"}},
                       out);
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (shell.running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    CHECK_FALSE(shell.running());
  }
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  CHECK(line == "seen");
  ::unlink(out.c_str());
  ::rmdir(dir_template);
}
