// The command line of a xenballoon program: the flags they share (--log.level, --log.format,
// --web.listen-address and --web.config.file for those that serve HTTP, --version, --help) and each
// program's own, parsed once with getopt_long, so the GNU rules hold everywhere: operands may come
// between options, "--name=value", unambiguous abbreviations ("--web.listen"), and getopt's own
// messages for an unknown option or a missing value (followed by the usage, exit 2). Not
// thread-safe (getopt keeps global state): parse from main().
//
//   daemon::Flags flags("xenballoon-exporter", kUsage);
//   flags.listen_address(":9751").log_level(log::Level::kInfo).log_format();
//   flags.option("once", 0, &once);
//   flags.option("delay", 'd', [&](std::string_view text) -> Result<void> { ... });
//   if (auto exit_code = flags.parse(argc, argv)) return *exit_code;
//   daemon::init_logging("xenballoon-exporter", flags.common());
#pragma once

#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xenballoon/result.h"
#include "xenballoon/util/log.h"

namespace xenballoon::daemon {

// The shared flags' values after parse(). A plain value.
struct CommonFlags {
  log::Level log_level = log::Level::kInfo;
  log::Format log_format = log::Format::kText;
  std::string listen_address;   // empty unless listen_address() was enabled
  std::string web_config_file;  // empty: plain HTTP, no authentication
  // Whether the command line gave them (a program whose configuration file sets them too lets
  // the command line win only then).
  bool log_level_given = false;
  bool log_format_given = false;
  bool listen_address_given = false;
};

class Flags {
 public:
  // An Error's message is printed as "<program>: <message>" and parse() returns 2.
  using Handler = std::function<Result<void>(std::string_view value)>;
  using SwitchHandler = std::function<Result<void>()>;

  // `program` starts every message and --version's line; `usage` is --help's text (to stdout,
  // exit 0), also printed to stderr after getopt's message for an unknown option.
  Flags(std::string program, std::string usage);

  // --log.level LEVEL (debug, info, warning or error). A bad value: "<program>: --log.level:
  // expected debug, info, warning or error, got "<value>"" (without the `, got` part when
  // !echo_value), exit 2.
  Flags& log_level(log::Level default_level, bool echo_value = true);
  // --log.format FORMAT (text or logfmt, default text).
  Flags& log_format();
  // --web.listen-address ADDRESS, for programs that serve HTTP.
  Flags& listen_address(std::string default_address);
  // --web.config.file FILE: TLS and basic authentication in the Prometheus exporter-toolkit
  // format (http/web_config.h), for programs that serve HTTP.
  Flags& web_config_file();
  // The short letters of --version and --help ('V' and 'h' unless changed; 0: none).
  Flags& short_letters(char version, char help);

  // The program's own flags: `long_name` without the dashes, `short_name` 0 for none.
  Flags& option(std::string long_name, char short_name, Handler handler);  // takes a value
  Flags& option(std::string long_name, char short_name, std::string* value);
  Flags& flag(std::string long_name, char short_name, SwitchHandler handler);  // takes none
  Flags& flag(std::string long_name, char short_name, bool* set);
  // Takes the operands (the arguments that are not options, in order) instead of refusing them.
  Flags& operands(std::vector<std::string>* out);

  // Parses argv (argv[0] names getopt's messages). nullopt: go on and run; a number: exit with
  // it now, everything said already: 0 after --help or --version, 2 after a bad flag, a missing
  // value, or an operand ("<program>: unexpected argument "x" (see --help)").
  std::optional<int> parse(int argc, char** argv, std::FILE* out = stdout, std::FILE* err = stderr);

  const CommonFlags& common() const { return common_; }

 private:
  struct Spec {
    std::string long_name;
    char short_name;
    bool takes_value;
    Handler handler;  // given "" when !takes_value
  };

  std::string program_;
  std::string usage_;
  CommonFlags common_;
  bool with_log_level_ = false;
  bool echo_log_level_ = true;
  bool with_log_format_ = false;
  bool with_listen_address_ = false;
  bool with_web_config_file_ = false;
  char version_short_ = 'V';
  char help_short_ = 'h';
  std::vector<Spec> specs_;
  std::vector<std::string>* operands_ = nullptr;
};

// "<program> <version>\n", what --version prints.
void print_version(std::string_view program, std::FILE* out = stdout);

// log::init with the parsed level, then the parsed format.
void init_logging(std::string_view program, const CommonFlags& flags);

}  // namespace xenballoon::daemon
