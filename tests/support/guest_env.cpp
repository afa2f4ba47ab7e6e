#include "guest_env.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "http_get.h"
#include "sim_host.h"  // slurp, spit

namespace xenballoon::testing {
namespace fs = std::filesystem;

namespace {

// Replaces the number on the line starting with `prefix`.
std::string replace_line_number(const std::string& text, const std::string& prefix,
                                const std::string& number) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      auto start = line.find_first_of("0123456789", prefix.size());
      auto end = line.find_first_not_of("0123456789.", start);
      line = line.substr(0, start) + number + (end == std::string::npos ? "" : line.substr(end));
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace

std::string xenballoond_binary() {
  return XENBALLOOND_BIN;
}

GuestEnv::GuestEnv(std::string config_yaml, std::uint64_t dom0_target_kib,
                   std::uint64_t static_max_kib) {
  std::string fixtures = XENBALLOON_FIXTURES;
  fs::copy(fixtures + "/real-xen-4.17/proc", procfs(), fs::copy_options::recursive);
  fs::copy(fixtures + "/real-xen-4.17/sys", sysfs(), fs::copy_options::recursive);
  for (auto& entry : fs::recursive_directory_iterator(dir_.path())) {
    fs::permissions(entry.path(), fs::perms::owner_write, fs::perm_options::add);
  }
  std::ofstream(config_path()) << config_yaml;

  xenstored_ = std::make_unique<Xenstored>();
  dom0_ = std::make_unique<XsHandle>(xenstored_->socket());
  std::string h = home();
  auto& d = *dom0_;
  d.write(h + "/name", "guest7");
  d.write(h + "/domid", std::to_string(kDomid));
  d.write(h + "/vm", "/vm/00000000-0000-0000-0000-000000000007");
  d.write(h + "/memory/static-max", std::to_string(static_max_kib));
  d.write(h + "/memory/target", std::to_string(dom0_target_kib));
  d.mkdir(h + "/data");
  xs_permissions readable[2] = {{0, XS_PERM_NONE}, {kDomid, XS_PERM_READ}};
  xs_permissions owned[1] = {{kDomid, XS_PERM_NONE}};
  for (const char* p :
       {"", "/name", "/domid", "/vm", "/memory", "/memory/static-max", "/memory/target"}) {
    xs_set_permissions(d.get(), XBT_NULL, (h + p).c_str(), readable, 2);
  }
  xs_set_permissions(d.get(), XBT_NULL, (h + "/data").c_str(), owned, 1);
  if (!xs_introduce_domain(d.get(), kDomid, 1, 1)) throw std::runtime_error("introduce failed");
  if (!wait_for_socket(xenstored_->domain_socket(kDomid), std::chrono::seconds(2))) {
    throw std::runtime_error("guest socket missing");
  }
}

GuestEnv::~GuestEnv() {
  agent_.reset();
  dom0_.reset();
  xenstored_.reset();
}

void GuestEnv::start_agent(std::vector<std::string> extra_flags, bool wait_for_healthz,
                           const std::map<std::string, std::string>& extra_env) {
  port_ = free_port();
  std::vector<std::string> argv{xenballoond_binary(),
                                "--config",
                                config_path(),
                                "--path.procfs",
                                procfs(),
                                "--path.sysfs",
                                sysfs(),
                                "--web.listen-address",
                                "127.0.0.1:" + std::to_string(port_),
                                "--pidfile",
                                pidfile(),
                                "--log.level",
                                "debug"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  std::map<std::string, std::string> env = extra_env;
  env.emplace("XENSTORED_PATH", xenstored_->domain_socket(kDomid));
  agent_ = std::make_unique<ChildProcess>(argv, env, dir_.path() + "/agent.log",
                                          dir_.path() + "/agent.log");
  if (!wait_for_healthz) return;
  wait_until([&] { return http_get(port_, "/healthz").status == 200 || !agent_->running(); },
             std::chrono::seconds(5));
}

std::string GuestEnv::agent_log() const {
  return slurp(dir_.path() + "/agent.log");
}

std::optional<std::uint64_t> GuestEnv::target_kb() const {
  std::string text = slurp(sysfs() + "/devices/system/xen_memory/xen_memory0/target_kb");
  try {
    return std::stoull(text);
  } catch (...) {
    return std::nullopt;
  }
}

void GuestEnv::set_meminfo_field(const std::string& field, std::uint64_t kib) {
  std::string path = procfs() + "/meminfo";
  spit(path, replace_line_number(slurp(path), field + ":", std::to_string(kib)));
}

void GuestEnv::set_vmstat_counter(const std::string& name, std::uint64_t value) {
  std::string path = procfs() + "/vmstat";
  spit(path, replace_line_number(slurp(path), name + " ", std::to_string(value)));
}

void GuestEnv::set_psi_some_avg10(double percent) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "some avg10=%.2f avg60=0.00 avg300=0.00 total=1000\n"
                "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
                percent);
  spit(procfs() + "/pressure/memory", buf);
}

bool GuestEnv::wait_until(const std::function<bool()>& predicate,
                          std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return predicate();
}

std::string GuestEnv::scrape() {
  return http_get(port_, "/metrics").body;
}

std::optional<double> GuestEnv::metric(const std::string& series) {
  std::istringstream in(scrape());
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

}  // namespace xenballoon::testing
