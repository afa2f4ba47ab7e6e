#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "temp_dir.h"
#include "xenballoon/daemon/flags.h"
#include "xenballoon/daemon/loop.h"
#include "xenballoon/daemon/signals.h"
#include "xenballoon/daemon/web.h"
#include "xenballoon/util/log.h"
#include "xenballoon/util/spawn.h"
#include "xenballoon/version.h"

using namespace xenballoon;
using namespace std::chrono_literals;
using xenballoon::testing::TempDir;
using Clock = daemon::Loop::Clock;

namespace {

daemon::SignalSet open_signals(std::initializer_list<int> more = {SIGHUP, SIGUSR1}) {
  auto signals = daemon::SignalSet::open(more);
  REQUIRE(signals);
  REQUIRE(signals->read_pending().empty());  // nothing left over from an earlier test
  return std::move(*signals);
}

// A test that goes wrong ends instead of hanging.
void stop_after_a_while(daemon::Loop& loop, bool* timed_out) {
  loop.schedule(Clock::now() + 5s, [&loop, timed_out] {
    *timed_out = true;
    loop.stop();
  });
}

// Everything written to a FILE* opened with tmpfile().
std::string contents(std::FILE* file) {
  std::fflush(file);
  std::rewind(file);
  std::string text;
  char buffer[512];
  for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, file)) > 0;) {
    text.append(buffer, got);
  }
  return text;
}

// One parse of `arguments` (after the program name) with its output captured.
struct Parsed {
  std::optional<int> exit_code;
  std::string out;
  std::string err;
};

Parsed parse(daemon::Flags& flags, std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), "prog");
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  REQUIRE(out);
  REQUIRE(err);
  Parsed parsed;
  parsed.exit_code = flags.parse(static_cast<int>(argv.size() - 1), argv.data(), out, err);
  parsed.out = contents(out);
  parsed.err = contents(err);
  std::fclose(out);
  std::fclose(err);
  return parsed;
}

constexpr const char* kUsage = "Usage: prog [options]\n";

}  // namespace

TEST_CASE("raise(SIGHUP) calls the reload callback and SIGTERM then ends the loop") {
  daemon::SignalSet signals = open_signals();
  daemon::Loop loop(signals);
  bool timed_out = false;
  stop_after_a_while(loop, &timed_out);
  int reloads = 0;
  loop.on_reload([&] {
    ++reloads;
    ::raise(SIGTERM);
  });
  loop.schedule(Clock::now(), [] { ::raise(SIGHUP); });
  REQUIRE(loop.run());
  CHECK_FALSE(timed_out);
  CHECK(reloads == 1);
  CHECK(loop.stop_signal() == SIGTERM);
  CHECK(loop.stopping());
}

TEST_CASE("a stop signal that arrives with a SIGHUP wins and nothing is reloaded") {
  daemon::SignalSet signals = open_signals();
  daemon::Loop loop(signals);
  bool timed_out = false;
  stop_after_a_while(loop, &timed_out);
  int reloads = 0;
  loop.on_reload([&] { ++reloads; });
  loop.schedule(Clock::now(), [] {
    ::raise(SIGHUP);
    ::raise(SIGINT);
  });
  REQUIRE(loop.run());
  CHECK_FALSE(timed_out);
  CHECK(reloads == 0);
  CHECK(loop.stop_signal() == SIGINT);
}

TEST_CASE("SIGHUP ends the loop when the program makes it a stop signal") {
  daemon::SignalSet signals = open_signals();
  daemon::Loop loop(signals);
  loop.set_stop_signals({SIGINT, SIGTERM, SIGHUP});
  bool timed_out = false;
  stop_after_a_while(loop, &timed_out);
  int reloads = 0;
  loop.on_reload([&] { ++reloads; });
  loop.schedule(Clock::now(), [] { ::raise(SIGHUP); });
  REQUIRE(loop.run());
  CHECK_FALSE(timed_out);
  CHECK(reloads == 0);
  CHECK(loop.stop_signal() == SIGHUP);
}

TEST_CASE("the signals callback sees every signal read, before the loop acts on them") {
  daemon::SignalSet signals = open_signals();
  CHECK(signals.contains(SIGTERM));
  CHECK(signals.contains(SIGINT));
  CHECK(signals.contains(SIGUSR1));
  CHECK_FALSE(signals.contains(SIGCHLD));
  daemon::Loop loop(signals);
  bool timed_out = false;
  stop_after_a_while(loop, &timed_out);
  std::vector<int> seen;
  loop.on_signals([&](const std::vector<int>& received) {
    seen.insert(seen.end(), received.begin(), received.end());
    if (seen.size() == 1) ::raise(SIGTERM);  // after SIGUSR1, which stops nothing
  });
  loop.schedule(Clock::now(), [] { ::raise(SIGUSR1); });
  REQUIRE(loop.run());
  CHECK_FALSE(timed_out);
  CHECK(seen == std::vector<int>{SIGUSR1, SIGTERM});
}

TEST_CASE("deadlines fire in the order of their times and equal times in the order scheduled") {
  daemon::SignalSet signals = open_signals();
  daemon::Loop loop(signals);
  bool timed_out = false;
  stop_after_a_while(loop, &timed_out);
  std::vector<std::string> fired;
  const auto start = Clock::now();
  loop.schedule(start + 60ms, [&] {
    fired.push_back("60 ms");
    loop.stop();
  });
  loop.schedule(start + 20ms, [&] { fired.push_back("20 ms, first"); });
  loop.schedule(start + 40ms, [&] { fired.push_back("40 ms"); });
  loop.schedule(start + 20ms, [&] { fired.push_back("20 ms, second"); });
  const auto cancelled = loop.schedule(start + 30ms, [&] { fired.push_back("cancelled"); });
  CHECK(loop.cancel(cancelled));
  CHECK_FALSE(loop.cancel(cancelled));
  REQUIRE(loop.run());
  CHECK_FALSE(timed_out);
  CHECK(fired == std::vector<std::string>{"20 ms, first", "20 ms, second", "40 ms", "60 ms"});
  CHECK(Clock::now() - start >= 60ms);
  CHECK(loop.stop_signal() == 0);
}

TEST_CASE("a repeating timer fires at its period until it is cancelled") {
  daemon::SignalSet signals = open_signals();
  daemon::Loop loop(signals);
  bool timed_out = false;
  stop_after_a_while(loop, &timed_out);
  int ticks = 0;
  daemon::Loop::Id every = 0;
  const auto start = Clock::now();
  every = loop.schedule_every(start, 10ms, [&] {
    if (++ticks == 3) {
      loop.cancel(every);
      loop.schedule(Clock::now() + 30ms, [&] { loop.stop(); });
    }
  });
  REQUIRE(loop.run());
  CHECK_FALSE(timed_out);
  CHECK(ticks == 3);
  CHECK(Clock::now() - start >= 20ms);
}

TEST_CASE("an fd callback fires when a pipe becomes readable and not after its removal") {
  daemon::SignalSet signals = open_signals();
  daemon::Loop loop(signals);
  bool timed_out = false;
  stop_after_a_while(loop, &timed_out);
  int pipe_fds[2];
  REQUIRE(::pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) == 0);
  std::string read_back;
  int calls = 0;
  daemon::Loop::Id watch = 0;
  watch = loop.add_fd(pipe_fds[0], [&](short revents) {
    ++calls;
    CHECK((revents & POLLIN) != 0);
    char buffer[16];
    const ssize_t got = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (got > 0) read_back.append(buffer, static_cast<std::size_t>(got));
    loop.remove_fd(watch);
    // Readable again, but no longer watched: only the timer ends the loop.
    REQUIRE(::write(pipe_fds[1], "y", 1) == 1);
    loop.schedule(Clock::now() + 30ms, [&] { loop.stop(); });
  });
  // Skipped while negative, like a connection that is not open yet.
  int skipped_calls = 0;
  loop.add_fd(-1, [&](short) { ++skipped_calls; });
  loop.schedule(Clock::now() + 10ms, [&] { REQUIRE(::write(pipe_fds[1], "x", 1) == 1); });
  REQUIRE(loop.run());
  CHECK_FALSE(timed_out);
  CHECK(calls == 1);
  CHECK(skipped_calls == 0);
  CHECK(read_back == "x");
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST_CASE("before_poll runs before every wait and wake_at bounds that wait") {
  daemon::SignalSet signals = open_signals();
  daemon::Loop loop(signals);
  bool timed_out = false;
  stop_after_a_while(loop, &timed_out);
  int passes = 0;
  loop.before_poll([&] {
    if (++passes == 5) loop.stop();
    loop.wake_at(Clock::now() + 1ms);  // no fd and no timer due: only this wakes the loop
  });
  const auto start = Clock::now();
  REQUIRE(loop.run());
  CHECK_FALSE(timed_out);
  CHECK(passes == 5);
  CHECK(Clock::now() - start < 2s);
}

TEST_CASE("known flags set their values and the common ones keep their defaults") {
  bool once = false;
  std::string exporter;
  std::string delay;
  daemon::Flags flags("prog", kUsage);
  flags.listen_address(":9751").log_level(log::Level::kError).log_format();
  flags.flag("once", 0, &once);
  flags.option("exporter", 0, &exporter);
  flags.option("delay", 'd', &delay);
  auto parsed = parse(flags, {"--once", "-d", "5", "--exporter=host:1"});
  CHECK_FALSE(parsed.exit_code);
  CHECK(parsed.out.empty());
  CHECK(parsed.err.empty());
  CHECK(once);
  CHECK(delay == "5");
  CHECK(exporter == "host:1");
  CHECK(flags.common().listen_address == ":9751");
  CHECK(flags.common().log_level == log::Level::kError);
  CHECK(flags.common().log_format == log::Format::kText);

  daemon::Flags common("prog", kUsage);
  common.listen_address(":9751").log_level(log::Level::kInfo).log_format();
  parsed = parse(common, {"--log.level", "debug", "--log.format=logfmt", "--web.listen-address",
                          "127.0.0.1:1234"});
  CHECK_FALSE(parsed.exit_code);
  CHECK(common.common().log_level == log::Level::kDebug);
  CHECK(common.common().log_format == log::Format::kLogfmt);
  CHECK(common.common().listen_address == "127.0.0.1:1234");
}

TEST_CASE("an unknown flag prints the usage to stderr and exits 2") {
  daemon::Flags flags("prog", kUsage);
  flags.log_level(log::Level::kInfo);
  auto parsed = parse(flags, {"--no-such-flag"});
  CHECK(parsed.exit_code == 2);
  CHECK(parsed.out.empty());
  CHECK(parsed.err == kUsage);
  // A flag the program did not ask for is unknown too.
  parsed = parse(flags, {"--web.listen-address", ":1"});
  CHECK(parsed.exit_code == 2);
  CHECK(parsed.err == kUsage);
  // So is a missing value.
  parsed = parse(flags, {"--log.level"});
  CHECK(parsed.exit_code == 2);
  CHECK(parsed.err == kUsage);
}

TEST_CASE("the version flags print the program and version and the help flags print the usage") {
  daemon::Flags flags("prog", kUsage);
  for (const char* spelling : {"--version", "-V"}) {
    auto parsed = parse(flags, {spelling});
    CHECK(parsed.exit_code == 0);
    CHECK(parsed.out == std::string("prog ") + kVersion + "\n");
    CHECK(parsed.err.empty());
  }
  for (const char* spelling : {"--help", "-h"}) {
    auto parsed = parse(flags, {spelling});
    CHECK(parsed.exit_code == 0);
    CHECK(parsed.out == kUsage);
  }
  // A program whose -V means something else.
  bool verbose = false;
  daemon::Flags other("prog", kUsage);
  other.short_letters(0, 'H').flag("verbose", 'V', &verbose);
  auto parsed = parse(other, {"-V", "-H"});
  CHECK(parsed.exit_code == 0);
  CHECK(verbose);
  CHECK(parsed.out == kUsage);
}

TEST_CASE("a bad --log.level names the program, the flag and the value") {
  daemon::Flags flags("prog", kUsage);
  flags.log_level(log::Level::kInfo);
  auto parsed = parse(flags, {"--log.level", "loud"});
  CHECK(parsed.exit_code == 2);
  CHECK(parsed.err == "prog: --log.level: expected debug, info, warning or error, got \"loud\"\n");

  daemon::Flags quiet("prog", kUsage);
  quiet.log_level(log::Level::kError, /*echo_value=*/false);
  parsed = parse(quiet, {"--log.level=loud"});
  CHECK(parsed.exit_code == 2);
  CHECK(parsed.err == "prog: --log.level: expected debug, info, warning or error\n");

  daemon::Flags format("prog", kUsage);
  format.log_format();
  parsed = parse(format, {"--log.format", "json"});
  CHECK(parsed.exit_code == 2);
  CHECK(parsed.err == "prog: --log.format: expected text or logfmt, got \"json\"\n");
}

TEST_CASE("an operand is an unexpected argument and a handler's error follows the program name") {
  daemon::Flags flags("prog", kUsage);
  flags.option("delay", 'd', [](std::string_view text) -> Result<void> {
    if (text != "1") return Error{"-d: expected seconds from 0.1 to 86400"};
    return {};
  });
  auto parsed = parse(flags, {"-d", "1", "extra"});
  CHECK(parsed.exit_code == 2);
  CHECK(parsed.err == "prog: unexpected argument \"extra\" (see --help)\n");
  parsed = parse(flags, {"-d", "0"});
  CHECK(parsed.exit_code == 2);
  CHECK(parsed.err == "prog: -d: expected seconds from 0.1 to 86400\n");
}

TEST_CASE("a program that takes operands gets them in order, between and after the options") {
  daemon::Flags flags("prog", kUsage);
  std::string rundir;
  std::vector<std::string> operands;
  flags.option("rundir", 0, &rundir).operands(&operands);
  auto parsed = parse(flags, {"web", "--rundir", "/run/x", "512"});
  CHECK_FALSE(parsed.exit_code);
  CHECK(rundir == "/run/x");
  CHECK(operands == std::vector<std::string>{"web", "512"});
}

TEST_CASE("the landing page names the program and links to /metrics and /healthz") {
  CHECK(daemon::landing_page("xenballoon-exporter",
                             "Memory statistics of every Xen guest on this host.") ==
        R"(<!DOCTYPE html>
<html><head><title>xenballoon-exporter</title></head>
<body><h1>xenballoon-exporter</h1>
<p>Memory statistics of every Xen guest on this host.</p>
<ul><li><a href="/metrics">Metrics</a></li><li><a href="/healthz">Health</a></li></ul>
</body></html>
)");
  bool healthy = true;
  auto routes = daemon::standard_routes(
      "prog", "A program.", [] { return std::string("up 1\n"); },
      [&] {
        return healthy ? daemon::Health{} : daemon::Health{false, "not connected\n"};
      });
  REQUIRE(routes.size() == 3);
  auto landing = routes.at("/")();
  CHECK(landing.status == 200);
  CHECK(landing.content_type == "text/html; charset=utf-8");
  CHECK(landing.body.find("<p>A program.</p>") != std::string::npos);
  auto metrics = routes.at("/metrics")();
  CHECK(metrics.body == "up 1\n");
  CHECK(metrics.content_type == "text/plain; version=0.0.4; charset=utf-8");
  auto health = routes.at("/healthz")();
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");
  healthy = false;
  health = routes.at("/healthz")();
  CHECK(health.status == 503);
  CHECK(health.body == "not connected\n");
}

TEST_CASE("find_in_path returns the first executable file on PATH and skips the rest") {
  TempDir dir;
  dir.write("a/tool", "not executable");
  dir.write("b/tool/inside", "a directory called tool");
  dir.write("c/tool", "#!/bin/sh\n");
  dir.write("d/tool", "#!/bin/sh\n");
  for (const char* file : {"a/tool", "c/tool", "d/tool"}) {
    ::chmod(dir.file(file).c_str(), std::string(file) == "a/tool" ? 0644 : 0755);
  }
  ::chmod(dir.file("b/tool").c_str(), 0755);
  const char* saved = std::getenv("PATH");
  const std::string old_path = saved ? saved : "";
  ::setenv(
      "PATH",
      (dir.file("a") + ":" + dir.file("b") + ":" + dir.file("c") + ":" + dir.file("d")).c_str(), 1);
  const auto found = find_in_path("tool");
  const auto missing = find_in_path("no-such-tool");
  const auto with_slash = find_in_path("c/tool");
  if (saved) {
    ::setenv("PATH", old_path.c_str(), 1);
  } else {
    ::unsetenv("PATH");
  }
  CHECK(found == dir.file("c") + "/tool");
  CHECK_FALSE(missing);
  CHECK_FALSE(with_slash);
  CHECK(find_in_path("sh"));
}

TEST_CASE("logfmt lines carry ts, level, prog and a quoted msg as go-kit writes them") {
  TempDir dir;
  const char* journal = std::getenv("JOURNAL_STREAM");
  const std::string saved_journal = journal ? journal : "";
  ::unsetenv("JOURNAL_STREAM");
  std::fflush(stderr);
  const int saved_stderr = ::dup(STDERR_FILENO);
  const int capture = ::open(dir.file("log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(capture >= 0);
  ::dup2(capture, STDERR_FILENO);
  log::init("prog", log::Level::kInfo);
  log::set_format(log::Format::kLogfmt);
  log::warning("disk \"full\"\nretrying");
  log::debug("not shown");
  log::info("plain");
  log::set_format(log::Format::kText);
  log::info("text again");
  std::fflush(stderr);
  ::dup2(saved_stderr, STDERR_FILENO);
  ::close(saved_stderr);
  ::close(capture);
  if (journal) ::setenv("JOURNAL_STREAM", saved_journal.c_str(), 1);
  const std::string text = dir.read("log");
  std::vector<std::string> lines;
  for (std::size_t begin = 0, end; (end = text.find('\n', begin)) != std::string::npos;
       begin = end + 1) {
    lines.push_back(text.substr(begin, end - begin));
  }
  REQUIRE(lines.size() == 3);
  // ts=2024-05-01T12:00:00.123Z
  REQUIRE(lines[0].size() > 28);
  CHECK(lines[0].rfind("ts=", 0) == 0);
  CHECK(lines[0][26] == 'Z');
  CHECK(lines[0].substr(28) == R"(level=warn prog=prog msg="disk \"full\"\nretrying")");
  CHECK(lines[1].substr(28) == "level=info prog=prog msg=plain");
  // The text format: "2024-05-01T12:00:00.123Z prog[info]: text again"
  CHECK(lines[2].substr(24) == " prog[info]: text again");
}
