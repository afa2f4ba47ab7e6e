#include "xenballoon/daemon/flags.h"

#include <getopt.h>

#include <map>
#include <utility>

#include "xenballoon/version.h"

namespace xenballoon::daemon {

Flags::Flags(std::string program, std::string usage)
    : program_(std::move(program)), usage_(std::move(usage)) {}

Flags& Flags::log_level(log::Level default_level, bool echo_value) {
  with_log_level_ = true;
  echo_log_level_ = echo_value;
  common_.log_level = default_level;
  return *this;
}

Flags& Flags::log_format() {
  with_log_format_ = true;
  return *this;
}

Flags& Flags::listen_address(std::string default_address) {
  with_listen_address_ = true;
  common_.listen_address = std::move(default_address);
  return *this;
}

Flags& Flags::web_config_file() {
  with_web_config_file_ = true;
  return *this;
}

Flags& Flags::short_letters(char version, char help) {
  version_short_ = version;
  help_short_ = help;
  return *this;
}

Flags& Flags::option(std::string long_name, char short_name, Handler handler) {
  specs_.push_back({std::move(long_name), short_name, true, std::move(handler)});
  return *this;
}

Flags& Flags::option(std::string long_name, char short_name, std::string* value) {
  return option(std::move(long_name), short_name, [value](std::string_view text) -> Result<void> {
    *value = std::string(text);
    return {};
  });
}

Flags& Flags::flag(std::string long_name, char short_name, SwitchHandler handler) {
  specs_.push_back({std::move(long_name), short_name, false,
                    [handler = std::move(handler)](std::string_view) { return handler(); }});
  return *this;
}

Flags& Flags::flag(std::string long_name, char short_name, bool* set) {
  return flag(std::move(long_name), short_name, [set]() -> Result<void> {
    *set = true;
    return {};
  });
}

Flags& Flags::operands(std::vector<std::string>* out) {
  operands_ = out;
  return *this;
}

std::optional<int> Flags::parse(int argc, char** argv, std::FILE* out, std::FILE* err) {
  std::vector<Spec> specs = specs_;
  if (with_listen_address_) {
    specs.push_back({"web.listen-address", 0, true, [this](std::string_view text) -> Result<void> {
                       common_.listen_address = std::string(text);
                       common_.listen_address_given = true;
                       return {};
                     }});
  }
  if (with_web_config_file_) {
    specs.push_back({"web.config.file", 0, true, [this](std::string_view text) -> Result<void> {
                       common_.web_config_file = std::string(text);
                       return {};
                     }});
  }
  if (with_log_level_) {
    specs.push_back({"log.level", 0, true, [this](std::string_view text) -> Result<void> {
                       auto level = log::parse_level(text);
                       if (!level) {
                         std::string message =
                             "--log.level: expected debug, info, warning or error";
                         if (echo_log_level_) message += ", got \"" + std::string(text) + "\"";
                         return Error{message};
                       }
                       common_.log_level = *level;
                       common_.log_level_given = true;
                       return {};
                     }});
  }
  if (with_log_format_) {
    specs.push_back({"log.format", 0, true, [this](std::string_view text) -> Result<void> {
                       auto format = log::parse_format(text);
                       if (!format) {
                         return Error{"--log.format: expected text or logfmt, got \"" +
                                      std::string(text) + "\""};
                       }
                       common_.log_format = *format;
                       common_.log_format_given = true;
                       return {};
                     }});
  }

  // getopt_long's value for each option: its short letter, else 1000 + its index in `specs`.
  constexpr int kFirstLongOnly = 1000;
  constexpr int kVersion = 999;
  constexpr int kHelp = 998;
  std::vector<::option> longs;
  std::string shorts;
  std::map<int, std::size_t> spec_of;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const Spec& spec = specs[i];
    const int value =
        spec.short_name ? static_cast<unsigned char>(spec.short_name) : kFirstLongOnly + int(i);
    longs.push_back({spec.long_name.c_str(), spec.takes_value ? required_argument : no_argument,
                     nullptr, value});
    if (spec.short_name) shorts += std::string(1, spec.short_name) + (spec.takes_value ? ":" : "");
    spec_of[value] = i;
  }
  const int version_value = version_short_ ? static_cast<unsigned char>(version_short_) : kVersion;
  const int help_value = help_short_ ? static_cast<unsigned char>(help_short_) : kHelp;
  longs.push_back({"version", no_argument, nullptr, version_value});
  longs.push_back({"help", no_argument, nullptr, help_value});
  longs.push_back({nullptr, 0, nullptr, 0});
  if (version_short_) shorts += version_short_;
  if (help_short_) shorts += help_short_;

  optind = 0;  // 0, not 1: glibc then starts afresh, whatever an earlier parse left behind
  int opt;
  while ((opt = getopt_long(argc, argv, shorts.c_str(), longs.data(), nullptr)) != -1) {
    if (opt == version_value) {
      print_version(program_, out);
      return 0;
    }
    if (opt == help_value) {
      std::fputs(usage_.c_str(), out);
      return 0;
    }
    auto found = spec_of.find(opt);
    if (found == spec_of.end()) {  // '?': getopt has said what was wrong
      std::fputs(usage_.c_str(), err);
      return 2;
    }
    const Spec& spec = specs[found->second];
    if (auto handled = spec.handler(spec.takes_value ? optarg : ""); !handled) {
      std::fprintf(err, "%s: %s\n", program_.c_str(), handled.error().message.c_str());
      return 2;
    }
  }
  if (operands_) {
    operands_->assign(argv + optind, argv + argc);
  } else if (optind < argc) {
    std::fprintf(err, "%s: unexpected argument \"%s\" (see --help)\n", program_.c_str(),
                 argv[optind]);
    return 2;
  }
  return std::nullopt;
}

void print_version(std::string_view program, std::FILE* out) {
  std::fprintf(out, "%.*s %s\n", static_cast<int>(program.size()), program.data(), kVersion);
}

void init_logging(std::string_view program, const CommonFlags& flags) {
  log::init(program, flags.log_level);
  log::set_format(flags.log_format);
}

}  // namespace xenballoon::daemon
