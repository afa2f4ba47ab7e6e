#include "tls_env.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace xenballoon::testing {
namespace {

void openssl(const std::vector<std::string>& args, const std::string& dir) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  for (auto& a : argv) {
    if (a.find("{}") == 0) a = dir + a.substr(2);
  }
  CommandResult r = run_command(argv);
  if (r.exit_code != 0) {
    std::string line;
    for (const auto& a : argv) line += a + " ";
    throw std::runtime_error("openssl failed: " + line + ": " + r.err);
  }
}

// A P-256 key and a certificate for `subject`, signed by ca.pem (or self-signed without `ca`).
void make_cert(const std::string& dir, const std::string& name, const std::string& subject,
               bool by_ca, const std::string& extensions) {
  openssl({"ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "{}/" + name + ".key"},
          dir);
  if (!by_ca) {
    openssl({"req", "-x509", "-new", "-key", "{}/" + name + ".key", "-out", "{}/" + name + ".pem",
             "-days", "2", "-subj", subject},
            dir);
    return;
  }
  openssl({"req", "-new", "-key", "{}/" + name + ".key", "-out", "{}/" + name + ".csr", "-subj",
           subject},
          dir);
  std::ofstream(dir + "/" + name + ".ext") << extensions;
  openssl({"x509", "-req", "-in", "{}/" + name + ".csr", "-CA", "{}/ca.pem", "-CAkey", "{}/ca.key",
           "-CAcreateserial", "-out", "{}/" + name + ".pem", "-days", "2", "-extfile",
           "{}/" + name + ".ext"},
          dir);
}

}  // namespace

TestCertificates::TestCertificates() {
  const std::string& d = dir_.path();
  make_cert(d, "ca", "/CN=xenballoon test CA", false, "");
  make_cert(d, "server", "/CN=localhost", true,
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  make_cert(d, "client", "/CN=scraper", true, "extendedKeyUsage=clientAuth\n");
  make_cert(d, "rogue", "/CN=rogue", false, "");
  openssl({"ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "{}/other.key"}, d);
}

std::string TestCertificates::write(const std::string& name, const std::string& text) const {
  const std::string target = path(name);
  {
    std::ofstream out(target + ".tmp", std::ios::trunc);
    out << text;
  }
  std::filesystem::rename(target + ".tmp", target);
  return target;
}

CurlResult curl(const std::string& url, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"curl", "-sS", "--max-time", "5", "-w", "\n%{http_code}"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(url);
  CommandResult r = run_command(argv);
  CurlResult result;
  result.exit_code = r.exit_code;
  result.error = r.err;
  const auto newline = r.out.rfind('\n');
  if (newline != std::string::npos) {
    result.body = r.out.substr(0, newline);
    try {
      result.status = std::stoi(r.out.substr(newline + 1));
    } catch (const std::exception&) {
      result.status = 0;
    }
  }
  return result;
}

}  // namespace xenballoon::testing
