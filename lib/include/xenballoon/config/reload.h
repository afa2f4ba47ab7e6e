// What every daemon does with its configuration: parse one strict YAML document into a plain
// struct (file:line: key errors, all of them), and on SIGHUP read the file again, apply the
// command line's overrides and validate, refusing an invalid file with its errors logged while
// the running configuration stays. Templates over the program's config struct, which has an
// `origin` (ConfigOrigin), `web.listen_address` and `pidfile`. Thread-safe (no state).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "xenballoon/config/config_error.h"
#include "xenballoon/config/strict_yaml.h"
#include "xenballoon/result.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/log.h"

namespace xenballoon::config {

// Parses `yaml` into a default-constructed Config with `read(config, reader, root)` (which fills
// the struct through key tables); at most one document; every error at once.
template <typename Config, typename Read>
Result<Config> parse_strict(std::string_view yaml, std::string source_name, Read&& read) {
  Config config;
  config.origin.source_name = std::move(source_name);
  strict_yaml::Reader reader(config.origin.source_name, strict_yaml::QuotedScalars::kNamed);
  const std::optional<strict_yaml::Node> root =
      reader.parse_document(yaml, strict_yaml::DocumentRule::kAtMostOne);
  if (root) read(config, reader, *root);
  if (reader.error_count() != 0) return Error{format_errors(reader.errors())};
  config.origin.lines = reader.lines();
  return config;
}

// Reads `path` and parses it with `parse(text, path)`; a file that cannot be read is the error.
template <typename Parse>
auto load_file(const std::string& path, Parse&& parse)
    -> decltype(parse(std::string_view{}, std::string{})) {
  auto text = read_file(path);
  if (!text) return text.error();
  return parse(*text, path);
}

// SIGHUP: the configuration to run with from now on, or nullopt when the running one stays (no
// file, or the new one is invalid: logged with every problem). `load(path)` reads the file,
// `apply_overrides(config)` puts the command line's values over it, `validate(config)` returns
// the problems. Settings read only at start (listen address, pidfile) are said to need a restart.
template <typename Config, typename Load, typename Override, typename Validate>
std::optional<Config> reload(const std::string& path, const Config& running, Load&& load,
                             Override&& apply_overrides, Validate&& validate) {
  if (path.empty()) {
    log::info("SIGHUP: no configuration file to reload (running on defaults)");
    return std::nullopt;
  }
  Result<Config> loaded = load(path);
  if (loaded) {
    apply_overrides(*loaded);
    auto problems = validate(*loaded);
    if (!problems.empty()) loaded = Error{format_errors(problems)};
  }
  if (!loaded) {
    log::error("SIGHUP: keeping the running configuration; the new one is invalid:\n" +
               loaded.error().message);
    return std::nullopt;
  }
  if (loaded->web.listen_address != running.web.listen_address) {
    log::warning("SIGHUP: web.listen_address changes only on restart");
  }
  if (loaded->pidfile != running.pidfile) log::warning("SIGHUP: pidfile changes only on restart");
  return std::move(*loaded);
}

}  // namespace xenballoon::config
