// Fuzz target config_yaml: the YAML configurations, each fed the same text: the agent's
// (config/strict_yaml through parse_agent_config, then validate), the balancer's
// (parse_balancer_config, then validate) and the web configuration (parse_web_config, then
// validate with the file names it gave dropped, so that no file is read: the version, cipher,
// curve and bcrypt hash checks still run). Not thread-safe: libFuzzer calls it from one thread.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config.h"
#include "xenballoon/config/agent_config.h"
#include "xenballoon/http/web_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace xenballoon;
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);

  if (auto agent = parse_agent_config(yaml, "xenballoond.yaml")) (void)validate(*agent);
  if (auto balancer = balancer::parse_balancer_config(yaml, "xenballoon-balancer.yaml")) {
    (void)balancer::validate(*balancer);
  }
  if (auto web = http::parse_web_config(yaml, "web.yml")) {
    if (web->tls) {
      web->tls->cert_file.clear();
      web->tls->key_file.clear();
      web->tls->client_ca_file.clear();
    }
    (void)http::validate(*web);
  }
  return 0;
}
