// A locked pidfile: exactly one instance of a daemon. Not thread-safe; one per process.
#pragma once

#include <memory>
#include <string>

#include "xenballoon/result.h"

namespace xenballoon {

class Pidfile {
 public:
  // Creates and locks `path` (flock) and writes our PID. When another live process holds it, the
  // error says which PID (errnum EEXIST).
  static Result<std::unique_ptr<Pidfile>> acquire(const std::string& path);
  ~Pidfile();  // unlinks and unlocks
  Pidfile(const Pidfile&) = delete;
  Pidfile& operator=(const Pidfile&) = delete;

 private:
  Pidfile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
};

}  // namespace xenballoon
