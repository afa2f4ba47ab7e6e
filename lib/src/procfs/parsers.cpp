// Pure parsers for /proc/meminfo, /proc/vmstat, /proc/uptime and /proc/pressure/*.
#include <algorithm>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/detail/lines.h"
#include "xenballoon/procfs/meminfo.h"
#include "xenballoon/procfs/pressure.h"
#include "xenballoon/procfs/uptime.h"
#include "xenballoon/procfs/vmstat.h"
#include "xenballoon/util/parse.h"

namespace xenballoon {
namespace {

using detail::for_each_line;
using detail::line_error;
using detail::quoted;

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

// Returns the next blank-separated token of `rest` and drops it from `rest`; empty at the end.
std::string_view next_token(std::string_view& rest) {
  std::size_t begin = 0;
  while (begin < rest.size() && is_space(rest[begin])) ++begin;
  std::size_t end = begin;
  while (end < rest.size() && !is_space(rest[end])) ++end;
  std::string_view token = rest.substr(begin, end - begin);
  rest.remove_prefix(end);
  return token;
}

bool is_name_char(char c) {
  auto byte = static_cast<unsigned char>(c);
  return byte > 0x20 && byte < 0x7f && c != ':' && c != '=';
}

bool is_valid_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), is_name_char);
}

// The kernel writes its counters in exactly one shape per file. These read that shape in one pass
// over a trimmed line and return nullopt for anything else, which then goes the general way (and
// gets its precise error); a line they accept, the general way accepts with the same value.
struct NameValue {
  std::string_view name;
  std::uint64_t value = 0;
  bool has_kb_unit = false;
};

// Digits from `pos` to a non-digit; nullopt when there are none or they overflow 64 bits.
std::optional<std::uint64_t> scan_digits(std::string_view line, std::size_t& pos) {
  std::size_t start = pos;
  std::uint64_t value = 0;
  for (; pos < line.size() && line[pos] >= '0' && line[pos] <= '9'; ++pos) {
    auto digit = static_cast<std::uint64_t>(line[pos] - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (pos == start) return std::nullopt;
  return value;
}

// A name from the start of `line` up to `separator`; `pos` ends just past the separator.
std::optional<std::string_view> scan_name(std::string_view line, char separator, std::size_t& pos) {
  pos = 0;
  while (pos < line.size() && is_name_char(line[pos])) ++pos;
  if (pos == 0 || pos == line.size() || line[pos] != separator) return std::nullopt;
  return line.substr(0, pos++);
}

// /proc/vmstat: "name value".
std::optional<NameValue> scan_vmstat_line(std::string_view line) {
  std::size_t pos = 0;
  std::optional<std::string_view> name = scan_name(line, ' ', pos);
  if (!name) return std::nullopt;
  NameValue parsed{*name};
  std::optional<std::uint64_t> value = scan_digits(line, pos);
  if (!value || pos != line.size()) return std::nullopt;
  parsed.value = *value;
  return parsed;
}

// /proc/meminfo: "Name:" blanks "value", then nothing or " kB".
std::optional<NameValue> scan_meminfo_line(std::string_view line) {
  std::size_t pos = 0;
  std::optional<std::string_view> name = scan_name(line, ':', pos);
  if (!name) return std::nullopt;
  NameValue parsed{*name};
  while (pos < line.size() && line[pos] == ' ') ++pos;
  std::optional<std::uint64_t> value = scan_digits(line, pos);
  if (!value) return std::nullopt;
  if (pos != line.size()) {
    if (line.substr(pos) != " kB") return std::nullopt;
    if (*value > std::numeric_limits<std::uint64_t>::max() / 1024) return std::nullopt;
    parsed.has_kb_unit = true;
    *value *= 1024;
  }
  parsed.value = *value;
  return parsed;
}

// Why parse_u64 refused `text`: all digits means it did not fit.
std::string number_problem(std::string_view text) {
  bool all_digits = !text.empty();
  for (char c : text) all_digits = all_digits && c >= '0' && c <= '9';
  return all_digits ? "is out of range" : "is not a number";
}

Error value_error(std::string_view source, std::size_t line_number, std::string_view name,
                  std::string_view value) {
  return line_error(source, line_number,
                    "value " + quoted(value) + " of " + quoted(name) + " " + number_problem(value));
}

Error duplicate_error(std::string_view source, std::size_t line_number, std::string_view name,
                      std::size_t first_line) {
  return line_error(
      source, line_number,
      "duplicate " + quoted(name) + " (first on line " + std::to_string(first_line) + ")");
}

struct NameAt {
  std::string_view name;
  std::size_t line_number;
};

// A name given twice makes the file ambiguous. Sorting the few dozen names is cheaper than
// hashing them on every tick.
Result<void> check_unique(std::vector<NameAt>& names, std::string_view source) {
  std::sort(names.begin(), names.end(), [](const NameAt& a, const NameAt& b) {
    return a.name != b.name ? a.name < b.name : a.line_number < b.line_number;
  });
  for (std::size_t i = 1; i < names.size(); ++i) {
    if (names[i].name == names[i - 1].name) {
      return duplicate_error(source, names[i].line_number, names[i].name, names[i - 1].line_number);
    }
  }
  return {};
}

template <typename Entry>
const Entry* find_by_name(const std::vector<Entry>& entries, std::string_view name) {
  for (const Entry& entry : entries) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

Result<PressureLine> parse_pressure_line(std::string_view source, std::size_t line_number,
                                         std::string_view kind, std::string_view rest) {
  PressureLine parsed;
  struct Average {
    std::string_view key;
    double* target;
    bool seen = false;
  };
  Average averages[] = {
      {"avg10", &parsed.avg10}, {"avg60", &parsed.avg60}, {"avg300", &parsed.avg300}};
  bool total_seen = false;
  for (std::string_view token = next_token(rest); !token.empty(); token = next_token(rest)) {
    std::size_t equals = token.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      return line_error(source, line_number,
                        "token " + quoted(token) + " of " + quoted(kind) + " is not key=value");
    }
    std::string_view key = token.substr(0, equals);
    std::string_view value = token.substr(equals + 1);
    if (key == "total") {
      if (total_seen) return line_error(source, line_number, "repeated " + quoted(key));
      total_seen = true;
      std::optional<std::uint64_t> total = parse_u64(value);
      if (!total) return value_error(source, line_number, key, value);
      parsed.total_us = *total;
      continue;
    }
    for (Average& average : averages) {
      if (average.key != key) continue;
      if (average.seen) return line_error(source, line_number, "repeated " + quoted(key));
      average.seen = true;
      std::optional<double> number = parse_double(value);
      if (!number || *number < 0) {
        return line_error(
            source, line_number,
            "value " + quoted(value) + " of " + quoted(key) + " is not a non-negative number");
      }
      *average.target = *number;
    }
    // Other keys are ignored: newer kernels may add some.
  }
  for (const Average& average : averages) {
    if (!average.seen) {
      return line_error(source, line_number, quoted(kind) + " lacks " + quoted(average.key));
    }
  }
  if (!total_seen) return line_error(source, line_number, quoted(kind) + " lacks \"total\"");
  return parsed;
}

}  // namespace

std::optional<std::uint64_t> Meminfo::get(std::string_view name) const {
  const MeminfoField* field = find(name);
  if (field == nullptr) return std::nullopt;
  return field->value;
}

const MeminfoField* Meminfo::find(std::string_view name) const {
  return find_by_name(fields, name);
}

Result<Meminfo> parse_meminfo(std::string_view text, std::string_view source) {
  Meminfo meminfo;
  meminfo.fields.reserve(64);
  std::vector<NameAt> seen;
  seen.reserve(64);
  Result<void> parsed =
      for_each_line(text, source, [&](std::size_t line_number, std::string_view line) {
        if (std::optional<NameValue> fast = scan_meminfo_line(line)) {
          seen.push_back(NameAt{fast->name, line_number});
          meminfo.fields.push_back(
              MeminfoField{std::string(fast->name), fast->value, fast->has_kb_unit});
          return Result<void>();
        }
        std::size_t colon = line.find(':');
        std::string_view name = line.substr(0, colon);
        if (colon == std::string_view::npos || !is_valid_name(name)) {
          return Result<void>(line_error(source, line_number,
                                         "line " + quoted(line) + " is not \"Name: value [kB]\""));
        }
        std::string_view rest = line.substr(colon + 1);
        std::string_view value_text = next_token(rest);
        std::string_view unit = next_token(rest);
        if (value_text.empty()) {
          return Result<void>(line_error(source, line_number, quoted(name) + " has no value"));
        }
        if (!unit.empty() && unit != "kB") {
          return Result<void>(line_error(
              source, line_number, "unit " + quoted(unit) + " of " + quoted(name) + " is not kB"));
        }
        if (!next_token(rest).empty()) {
          return Result<void>(line_error(source, line_number,
                                         "line " + quoted(line) + " is not \"Name: value [kB]\""));
        }
        std::optional<std::uint64_t> value = parse_u64(value_text);
        if (!value) return Result<void>(value_error(source, line_number, name, value_text));
        bool has_kb_unit = !unit.empty();
        if (has_kb_unit) {
          if (*value > std::numeric_limits<std::uint64_t>::max() / 1024) {
            return Result<void>(line_error(source, line_number,
                                           "value " + quoted(value_text) + " kB of " +
                                               quoted(name) + " overflows when counted in bytes"));
          }
          *value *= 1024;
        }
        seen.push_back(NameAt{name, line_number});
        meminfo.fields.push_back(MeminfoField{std::string(name), *value, has_kb_unit});
        return Result<void>();
      });
  if (!parsed) return parsed.error();
  if (Result<void> unique = check_unique(seen, source); !unique) return unique.error();
  return meminfo;
}

Result<void> check_plausible_for_ballooning(const Meminfo& meminfo, std::string_view source) {
  const MeminfoField* total = meminfo.find("MemTotal");
  if (total == nullptr) return Error{std::string(source) + ": no MemTotal"};
  if (!total->has_kb_unit) return Error{std::string(source) + ": MemTotal has no kB unit"};
  if (total->value == 0) return Error{std::string(source) + ": MemTotal is 0"};
  const MeminfoField* committed = meminfo.find("Committed_AS");
  if (committed == nullptr) return Error{std::string(source) + ": no Committed_AS"};
  if (!committed->has_kb_unit) return Error{std::string(source) + ": Committed_AS has no kB unit"};
  return {};
}

std::optional<std::uint64_t> Vmstat::get(std::string_view name) const {
  const VmstatCounter* counter = find_by_name(counters, name);
  if (counter == nullptr) return std::nullopt;
  return counter->value;
}

Result<Vmstat> parse_vmstat(std::string_view text, std::string_view source,
                            const std::vector<std::string>* keep) {
  Vmstat vmstat;
  vmstat.counters.reserve(keep ? keep->size() : 256);
  std::vector<NameAt> seen;
  seen.reserve(keep ? keep->size() : 256);
  Result<void> parsed =
      for_each_line(text, source, [&](std::size_t line_number, std::string_view line) {
        std::string_view name;
        std::optional<std::uint64_t> value;
        if (std::optional<NameValue> fast = scan_vmstat_line(line)) {
          name = fast->name;
          value = fast->value;
        } else {
          std::string_view rest = line;
          name = next_token(rest);
          std::string_view value_text = next_token(rest);
          if (!is_valid_name(name) || value_text.empty() || !next_token(rest).empty()) {
            return Result<void>(
                line_error(source, line_number, "line " + quoted(line) + " is not \"name value\""));
          }
          value = parse_u64(value_text);
          if (!value) return Result<void>(value_error(source, line_number, name, value_text));
        }
        if (!keep || std::find(keep->begin(), keep->end(), name) != keep->end()) {
          seen.push_back(NameAt{name, line_number});
          vmstat.counters.push_back(VmstatCounter{std::string(name), *value});
        }
        return Result<void>();
      });
  if (!parsed) return parsed.error();
  if (Result<void> unique = check_unique(seen, source); !unique) return unique.error();
  return vmstat;
}

Result<Uptime> parse_uptime(std::string_view text, std::string_view source) {
  Uptime uptime;
  bool seen = false;
  Result<void> parsed =
      for_each_line(text, source, [&](std::size_t line_number, std::string_view line) {
        if (seen) {
          return Result<void>(line_error(source, line_number, "unexpected second line"));
        }
        seen = true;
        std::string_view rest = line;
        std::string_view uptime_text = next_token(rest);
        std::string_view idle_text = next_token(rest);
        if (idle_text.empty() || !next_token(rest).empty()) {
          return Result<void>(line_error(
              source, line_number, "line " + quoted(line) + " is not \"uptime idle\" in seconds"));
        }
        auto not_seconds = [&](std::string_view what, std::string_view value) {
          return Result<void>(line_error(source, line_number,
                                         std::string(what) + " " + quoted(value) +
                                             " is not a non-negative number of seconds"));
        };
        std::optional<double> up = parse_double(uptime_text);
        if (!up || *up < 0) return not_seconds("uptime", uptime_text);
        std::optional<double> idle = parse_double(idle_text);
        if (!idle || *idle < 0) return not_seconds("idle time", idle_text);
        uptime = Uptime{*up, *idle};
        return Result<void>();
      });
  if (!parsed) return parsed.error();
  return uptime;
}

Result<PressureStats> parse_pressure(std::string_view text, std::string_view source) {
  std::optional<PressureLine> some;
  std::optional<PressureLine> full;
  Result<void> parsed =
      for_each_line(text, source, [&](std::size_t line_number, std::string_view line) {
        std::string_view rest = line;
        std::string_view kind = next_token(rest);
        std::optional<PressureLine>* slot = kind == "some"   ? &some
                                            : kind == "full" ? &full
                                                             : nullptr;
        if (slot == nullptr) {
          return Result<void>(
              line_error(source, line_number,
                         "line kind " + quoted(kind) + " is neither \"some\" nor \"full\""));
        }
        if (slot->has_value()) {
          return Result<void>(
              line_error(source, line_number, "repeated " + quoted(kind) + " line"));
        }
        Result<PressureLine> values = parse_pressure_line(source, line_number, kind, rest);
        if (!values) return Result<void>(values.error());
        *slot = *values;
        return Result<void>();
      });
  if (!parsed) return parsed.error();
  if (!some) return Error{std::string(source) + ": no \"some\" line"};
  return PressureStats{*some, full};
}

}  // namespace xenballoon
