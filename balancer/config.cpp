#include "config.h"

#include <cctype>
#include <cmath>
#include <map>
#include <sstream>
#include <utility>

#include "xenballoon/config/reload.h"
#include "xenballoon/config/strict_yaml.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::balancer {
namespace {

using strict_yaml::Field;
using strict_yaml::KeyTable;

constexpr std::uint64_t kKibPerMib = 1024;

// Reads one document into a config, collecting every problem instead of stopping at the first.
class ConfigReader {
 public:
  ConfigReader(BalancerConfig& config, strict_yaml::Reader& reader)
      : config_(config), reader_(reader) {}

  void read_document(const strict_yaml::Node& root) {
    reader_.read_top_level(root, top_level_keys());
  }

 private:
  KeyTable host_keys() {
    return {
        {"reserve_mib", reader_.into(config_.host.reserve_mib)},
        {"dom0_mib", reader_.into(config_.host.dom0_mib)},
    };
  }

  KeyTable policy_keys() {
    PolicyConfig& p = config_.policy;
    return {
        {"guest_reserve_mib", reader_.into(p.guest_reserve_mib)},
        {"pressure_boost", reader_.into(p.pressure_boost)},
        {"psi_full_share", reader_.into(p.psi_full_share)},
        {"swapin_pages_per_second", reader_.into(p.swapin_pages_per_second)},
        {"majfault_per_second", reader_.into(p.majfault_per_second)},
        {"refault_pages_per_second", reader_.into(p.refault_pages_per_second)},
        {"max_rate_mib_per_second", reader_.into(p.max_rate_mib_per_second)},
        {"max_step_fraction", reader_.into(p.max_step_fraction)},
        {"min_step_mib", reader_.into(p.min_step_mib)},
    };
  }

  KeyTable defaults_keys() {
    GuestDefaults& d = config_.defaults;
    return {
        {"min_mib", reader_.into(d.min_mib)},
        {"max_mib", reader_.into(d.max_mib)},
        {"weight", reader_.into(d.weight)},
    };
  }

  void read_guests(const Field& f) {
    if (f.value.is_null()) return;  // `guests:` with nothing under it: no rules
    if (!f.value.is_list()) {
      reader_.fail_expected(f, "a list of guest rules (write [] for none)");
      return;
    }
    for (const Field& item : strict_yaml::list_items(f)) {
      reader_.remember(item.path, item.value.line());
      if (!item.value.is_mapping()) {
        reader_.error(item.own_line(), item.path,
                      "expected a mapping with `match:`, got " + reader_.describe(item.value));
        continue;
      }
      GuestRule rule;
      rule.line = item.value.line();
      auto optional_u64 = [this](std::optional<std::uint64_t>& out) {
        return [this, &out](const Field& g) {
          std::uint64_t value = 0;
          if (reader_.read_u64(g, value)) out = value;
        };
      };
      reader_.read_mapping(
          item.value, item.path,
          {{"match", [&](const Field& g) { reader_.read_string(g, rule.match); }, true},
           {"min_mib", optional_u64(rule.min_mib)},
           {"max_mib", optional_u64(rule.max_mib)},
           {"weight",
            [&](const Field& g) {
              double value = 0;
              if (reader_.read_double(g, value)) rule.weight = value;
            }},
           {"pinned", reader_.into(rule.pinned)},
           {"excluded", reader_.into(rule.excluded)}},
          item.value.line());
      config_.guests.push_back(std::move(rule));
    }
  }

  KeyTable web_keys() { return {{"listen_address", reader_.into(config_.web.listen_address)}}; }

  void read_log_level(const Field& f) {
    constexpr std::string_view kExpected = "one of debug, info, warning, error";
    const std::optional<std::string> word = reader_.read_word(f, kExpected);
    if (!word) return;
    if (const std::optional<log::Level> level = log::parse_level(*word)) {
      config_.log_level = *level;
    } else {
      reader_.fail_expected(f, kExpected);
    }
  }

  KeyTable top_level_keys() {
    BalancerConfig& c = config_;
    return {
        {"interval_seconds", reader_.into(c.interval_seconds)},
        {"dry_run", reader_.into(c.dry_run)},
        {"host", reader_.mapping(host_keys())},
        {"policy", reader_.mapping(policy_keys())},
        {"stuck_after_seconds", reader_.into(c.stuck_after_seconds)},
        {"retry_after_seconds", reader_.into(c.retry_after_seconds)},
        {"defaults", reader_.mapping(defaults_keys())},
        {"guests", [this](const Field& f) { read_guests(f); }},
        {"web", reader_.mapping(web_keys())},
        {"pidfile", reader_.into(c.pidfile)},
        {"log_level", [this](const Field& f) { read_log_level(f); }},
    };
  }

  BalancerConfig& config_;
  strict_yaml::Reader& reader_;
};

class Checker {
 public:
  explicit Checker(const BalancerConfig& config) : config_(config) {}

  void fail(const std::string& key_path, std::string message, int line = -1) {
    errors_.push_back(ConfigError{config_.origin.source_name,
                                  line >= 0 ? line : config_.origin.line_of(key_path), key_path,
                                  std::move(message)});
  }

  void in_range(const std::string& key_path, std::uint64_t value, std::uint64_t low,
                std::uint64_t high) {
    if (value < low || value > high) {
      fail(key_path, "must be between " + std::to_string(low) + " and " + std::to_string(high) +
                         ", got " + std::to_string(value));
    }
  }

  // low < value <= high, or low <= value <= high when `low_included`.
  void ratio(const std::string& key_path, double value, double low, double high, bool low_included,
             std::string_view unit = "") {
    const bool ok = (low_included ? value >= low : value > low) && value <= high;
    if (!ok) {
      std::ostringstream text;
      text << "must be " << (low_included ? "at least " : "above ") << low << " and at most "
           << high << unit << ", got " << value;
      fail(key_path, text.str());
    }
  }

  std::vector<ConfigError> take() { return std::move(errors_); }

 private:
  const BalancerConfig& config_;
  std::vector<ConfigError> errors_;
};

// "[host]:port", "host:port" or ":port"; only the port can be checked without resolving.
bool has_valid_port(std::string_view address) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view host = address.substr(0, colon);
  if (host.find(':') != std::string_view::npos &&
      !(host.size() >= 2 && host.front() == '[' && host.back() == ']')) {
    return false;
  }
  const auto port = parse_u64(address.substr(colon + 1));
  return port && *port >= 1 && *port <= 65535;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool looks_like_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

}  // namespace

Result<BalancerConfig> parse_balancer_config(std::string_view yaml, std::string source_name) {
  return config::parse_strict<BalancerConfig>(
      yaml, std::move(source_name),
      [](auto& config, strict_yaml::Reader& reader, const strict_yaml::Node& root) {
        ConfigReader(config, reader).read_document(root);
      });
}

Result<BalancerConfig> load_balancer_config(const std::string& path) {
  return config::load_file(path, &parse_balancer_config);
}

std::vector<ConfigError> validate(const BalancerConfig& config) {
  Checker check(config);
  check.in_range("interval_seconds", config.interval_seconds, 1, kMaxIntervalSeconds);
  check.in_range("host.reserve_mib", config.host.reserve_mib, 0, kMaxSizeMib);
  check.in_range("host.dom0_mib", config.host.dom0_mib, 0, kMaxSizeMib);

  const PolicyConfig& p = config.policy;
  check.in_range("policy.guest_reserve_mib", p.guest_reserve_mib, 0, kMaxSizeMib);
  check.ratio("policy.pressure_boost", p.pressure_boost, 0, 10, true);
  check.ratio("policy.psi_full_share", p.psi_full_share, 0, 1, false);
  check.ratio("policy.swapin_pages_per_second", p.swapin_pages_per_second, 0, 1e9, false);
  check.ratio("policy.majfault_per_second", p.majfault_per_second, 0, 1e9, false);
  check.ratio("policy.refault_pages_per_second", p.refault_pages_per_second, 0, 1e9, false);
  check.in_range("policy.max_rate_mib_per_second", p.max_rate_mib_per_second, 1, kMaxSizeMib);
  check.ratio("policy.max_step_fraction", p.max_step_fraction, 0, 1, false);
  check.in_range("policy.min_step_mib", p.min_step_mib, 0, kMaxSizeMib);

  check.in_range("stuck_after_seconds", config.stuck_after_seconds, 1, kMaxProgressSeconds);
  check.in_range("retry_after_seconds", config.retry_after_seconds, 1, kMaxProgressSeconds);

  const GuestDefaults& d = config.defaults;
  check.in_range("defaults.min_mib", d.min_mib, 0, kMaxSizeMib);
  check.in_range("defaults.max_mib", d.max_mib, 0, kMaxSizeMib);
  if (d.max_mib != 0 && d.min_mib > d.max_mib) {
    check.fail("defaults.max_mib", "must be 0 (none) or at least defaults.min_mib (" +
                                       std::to_string(d.min_mib) + "), got " +
                                       std::to_string(d.max_mib));
  }
  check.ratio("defaults.weight", d.weight, 0, kMaxWeight, true);

  std::map<std::string, std::size_t> seen;  // lower-case match -> index
  for (std::size_t i = 0; i < config.guests.size(); ++i) {
    const GuestRule& rule = config.guests[i];
    const std::string path = "guests[" + std::to_string(i) + "]";
    const std::string match_path = path + ".match";
    if (trim(rule.match).empty()) {
      check.fail(match_path, "must name a domain or a uuid, got an empty string");
    } else if (rule.match.size() > 256) {
      check.fail(match_path, "must be at most 256 bytes, got " + std::to_string(rule.match.size()));
    } else {
      const std::string key = looks_like_uuid(rule.match) ? lowercase(rule.match) : rule.match;
      auto [it, inserted] = seen.emplace(key, i);
      if (!inserted) {
        check.fail(match_path, "\"" + rule.match + "\" is matched by guests[" +
                                   std::to_string(it->second) + "] already");
      }
    }
    if (rule.min_mib) check.in_range(path + ".min_mib", *rule.min_mib, 0, kMaxSizeMib);
    if (rule.max_mib) check.in_range(path + ".max_mib", *rule.max_mib, 0, kMaxSizeMib);
    const std::uint64_t min_mib = rule.min_mib.value_or(d.min_mib);
    const std::uint64_t max_mib = rule.max_mib.value_or(d.max_mib);
    if (max_mib != 0 && min_mib > max_mib) {
      const std::string key = rule.max_mib ? path + ".max_mib" : path + ".min_mib";
      check.fail(key, "min_mib (" + std::to_string(min_mib) + ") is above max_mib (" +
                          std::to_string(max_mib) + ")");
    }
    if (rule.weight) check.ratio(path + ".weight", *rule.weight, 0, kMaxWeight, true);
    if (rule.pinned && rule.excluded) {
      check.fail(path + ".excluded",
                 "a guest is either pinned (managed, never changed) or excluded (not managed), "
                 "not both");
    }
  }

  if (!has_valid_port(config.web.listen_address)) {
    check.fail("web.listen_address", "must be [host]:port with a port from 1 to 65535, got \"" +
                                         config.web.listen_address + "\"");
  }
  if (!config.pidfile.empty() && config.pidfile.front() != '/') {
    check.fail("pidfile",
               "must be an absolute path (or \"\" for none), got \"" + config.pidfile + "\"");
  }
  return check.take();
}

dom0::balance::Settings policy_settings(const BalancerConfig& config) {
  dom0::balance::Settings s;
  const PolicyConfig& p = config.policy;
  s.host_reserve_kib = config.host.reserve_mib * kKibPerMib;
  s.guest_reserve_kib = p.guest_reserve_mib * kKibPerMib;
  s.default_min_kib = config.defaults.min_mib * kKibPerMib;
  s.pressure_boost = p.pressure_boost;
  s.psi_full_share = p.psi_full_share;
  s.swapin_pages_per_second = p.swapin_pages_per_second;
  s.majfault_per_second = p.majfault_per_second;
  s.refault_pages_per_second = p.refault_pages_per_second;
  s.max_rate_kib_per_second = p.max_rate_mib_per_second * kKibPerMib;
  s.max_step_fraction = p.max_step_fraction;
  s.min_step_kib = p.min_step_mib * kKibPerMib;
  return s;
}

dom0::balance::GuestProgress::Options progress_options(const BalancerConfig& config) {
  dom0::balance::GuestProgress::Options o;
  o.stuck_after_seconds = static_cast<double>(config.stuck_after_seconds);
  o.retry_after_seconds = static_cast<double>(config.retry_after_seconds);
  return o;
}

const GuestRule* find_rule(const BalancerConfig& config, std::string_view name,
                           std::string_view uuid) {
  const GuestRule* by_name = nullptr;
  const std::string lower_uuid = lowercase(uuid);
  for (const GuestRule& rule : config.guests) {
    if (!uuid.empty() && lowercase(rule.match) == lower_uuid) return &rule;
    if (!by_name && !name.empty() && rule.match == name) by_name = &rule;
  }
  return by_name;
}

dom0::balance::GuestSettings guest_settings(const BalancerConfig& config, std::string_view name,
                                            std::string_view uuid) {
  dom0::balance::GuestSettings s;
  const GuestDefaults& d = config.defaults;
  const GuestRule* rule = find_rule(config, name, uuid);
  s.min_kib = (rule && rule->min_mib ? *rule->min_mib : d.min_mib) * kKibPerMib;
  s.max_kib = (rule && rule->max_mib ? *rule->max_mib : d.max_mib) * kKibPerMib;
  s.weight = rule && rule->weight ? *rule->weight : d.weight;
  s.pinned = rule && rule->pinned;
  s.excluded = rule && rule->excluded;
  return s;
}

}  // namespace xenballoon::balancer
