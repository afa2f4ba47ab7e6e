#include "xenballoon/util/file.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace xenballoon {
namespace {

constexpr std::size_t kInitialBuffer = 8192;

Error too_large(const std::string& path, std::size_t max_bytes) {
  return Error{"file too large: " + path + " (more than " + std::to_string(max_bytes) + " bytes)",
               EFBIG};
}

Error errno_error(const std::string& what, const std::string& path, int err) {
  return Error{what + " " + path + ": " + std::strerror(err), err};
}

bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

Result<std::string> read_file(const std::string& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error("cannot open", path, errno);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return errno_error("cannot read", path, err);
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      ::close(fd);
      return too_large(path, max_bytes);
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

Result<void> write_file(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return errno_error("cannot open for writing", path, errno);
  if (!write_all(fd, data)) {
    int err = errno;
    ::close(fd);
    return errno_error("cannot write", path, err);
  }
  if (::close(fd) != 0) return errno_error("cannot write", path, errno);
  return {};
}

Result<void> write_file_atomic(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error("cannot create", tmp, errno);
  if (!write_all(fd, data) || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return errno_error("cannot write", tmp, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return errno_error("cannot rename onto", path, err);
  }
  return {};
}

RereadableFile::RereadableFile(std::string path, ProcfsRecords records, std::size_t max_bytes)
    : path_(std::move(path)), records_(records), max_bytes_(max_bytes) {}

RereadableFile::~RereadableFile() {
  close_file();
}

RereadableFile::RereadableFile(RereadableFile&& other) noexcept
    : path_(std::move(other.path_)),
      records_(other.records_),
      max_bytes_(other.max_bytes_),
      fd_(std::exchange(other.fd_, -1)),
      kernel_file_(other.kernel_file_),
      seq_chunks_(other.seq_chunks_),
      device_(other.device_),
      inode_(other.inode_),
      buffer_(std::move(other.buffer_)) {}

RereadableFile& RereadableFile::operator=(RereadableFile&& other) noexcept {
  if (this != &other) {
    close_file();
    path_ = std::move(other.path_);
    records_ = other.records_;
    max_bytes_ = other.max_bytes_;
    fd_ = std::exchange(other.fd_, -1);
    kernel_file_ = other.kernel_file_;
    seq_chunks_ = other.seq_chunks_;
    device_ = other.device_;
    inode_ = other.inode_;
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

void RereadableFile::close_file() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<void> RereadableFile::open_if_needed() {
  if (fd_ >= 0) {
    if (kernel_file_) return {};
    struct stat named {};
    if (::stat(path_.c_str(), &named) != 0) {
      int err = errno;
      close_file();
      return errno_error("cannot open", path_, err);
    }
    if (named.st_dev == device_ && named.st_ino == inode_) return {};
    close_file();
  }
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return errno_error("cannot open", path_, errno);
  struct stat opened {};
  struct statfs filesystem {};
  if (::fstat(fd_, &opened) != 0 || ::fstatfs(fd_, &filesystem) != 0) {
    int err = errno;
    close_file();
    return errno_error("cannot stat", path_, err);
  }
  device_ = opened.st_dev;
  inode_ = opened.st_ino;
  bool procfs = filesystem.f_type == PROC_SUPER_MAGIC;
  seq_chunks_ = procfs && records_ == ProcfsRecords::kMany;
  kernel_file_ = procfs || filesystem.f_type == SYSFS_MAGIC;
  return {};
}

Result<std::string_view> RereadableFile::read() {
  if (Result<void> opened = open_if_needed(); !opened) return opened.error();
  if (buffer_.empty()) buffer_.resize(std::min(kInitialBuffer, max_bytes_ + 1));
  std::size_t size = 0;
  for (;;) {
    if (size == buffer_.size()) buffer_.resize(std::min(buffer_.size() * 2, max_bytes_ + 1));
    std::size_t room = buffer_.size() - size;
    ssize_t n = ::pread(fd_, buffer_.data() + size, room, static_cast<off_t>(size));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close_file();
      return errno_error("cannot read", path_, err);
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
    if (size > max_bytes_) {
      close_file();
      return too_large(path_, max_bytes_);
    }
    // A short read ends a regular file, a sysfs attribute and a one-record procfs file.
    if (!seq_chunks_ && static_cast<std::size_t>(n) < room) break;
  }
  return std::string_view(buffer_.data(), size);
}

}  // namespace xenballoon
