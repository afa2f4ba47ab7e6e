// Test support: an LD_PRELOAD library that injects faults into a real daemon, switched at run
// time. $XENBALLOON_FAULT_CONTROL names a control file, re-read whenever it changes (replace it by
// rename), one rule a line:
//   fail <op> <errno> <path>   open, open-write (opens for writing only), read (read, pread) or
//                              write (write, pwrite) of <path> fails with <errno> (EIO, 5, ...)
//   clock <seconds>            CLOCK_REALTIME, time() and gettimeofday() are offset by <seconds>
//   record <path> <log>        every write to <path> appends "<CLOCK_MONOTONIC ns> <ok|ERRNO>
//                              <data>" to <log>, whether it fails or not
// Anything else on a line is ignored. Thread-safe: the rules are read and used under one mutex.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum { kMaxRules = 16, kMaxPath = 512 };
enum Op { kOpen, kOpenWrite, kRead, kWrite };

struct Rule {
  enum Op op;
  int err;
  char path[kMaxPath];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct Rule rules[kMaxRules];
static int rule_count;
static long clock_offset;
static char record_path[kMaxPath], record_log[kMaxPath];
static struct stat control_seen;

static int (*real_open)(const char*, int, ...);
static int (*real_openat)(int, const char*, int, ...);
static ssize_t (*real_read)(int, void*, size_t);
static ssize_t (*real_write)(int, const void*, size_t);
static ssize_t (*real_pread)(int, void*, size_t, off_t);
static ssize_t (*real_pwrite)(int, const void*, size_t, off_t);
static int (*real_clock_gettime)(clockid_t, struct timespec*);
static int (*real_gettimeofday)(struct timeval*, void*);

static void resolve(void) {
  real_open = (int (*)(const char*, int, ...))dlsym(RTLD_NEXT, "open");
  real_openat = (int (*)(int, const char*, int, ...))dlsym(RTLD_NEXT, "openat");
  real_read = (ssize_t(*)(int, void*, size_t))dlsym(RTLD_NEXT, "read");
  real_write = (ssize_t(*)(int, const void*, size_t))dlsym(RTLD_NEXT, "write");
  real_pread = (ssize_t(*)(int, void*, size_t, off_t))dlsym(RTLD_NEXT, "pread");
  real_pwrite = (ssize_t(*)(int, const void*, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
  real_clock_gettime = (int (*)(clockid_t, struct timespec*))dlsym(RTLD_NEXT, "clock_gettime");
  real_gettimeofday = (int (*)(struct timeval*, void*))dlsym(RTLD_NEXT, "gettimeofday");
}

static pthread_once_t resolved = PTHREAD_ONCE_INIT;
#define REAL(name) (pthread_once(&resolved, resolve), real_##name)

static const struct {
  const char* name;
  int value;
} kErrnos[] = {{"EIO", EIO},       {"EINVAL", EINVAL}, {"EBUSY", EBUSY},   {"EACCES", EACCES},
               {"EROFS", EROFS},   {"ENOENT", ENOENT}, {"EPERM", EPERM},   {"ENOSPC", ENOSPC},
               {"EAGAIN", EAGAIN}, {"ENOMEM", ENOMEM}, {"ENODEV", ENODEV}, {"EFBIG", EFBIG}};

static int errno_value(const char* text) {
  for (size_t i = 0; i < sizeof kErrnos / sizeof kErrnos[0]; ++i) {
    if (strcmp(kErrnos[i].name, text) == 0) return kErrnos[i].value;
  }
  return atoi(text);
}

static const char* errno_label(int err) {
  for (size_t i = 0; i < sizeof kErrnos / sizeof kErrnos[0]; ++i) {
    if (kErrnos[i].value == err) return kErrnos[i].name;
  }
  return "error";
}

static void parse_line(char* line) {
  char a[kMaxPath], b[kMaxPath], c[kMaxPath];
  long seconds = 0;
  if (sscanf(line, "fail %511s %511s %511s", a, b, c) == 3 && rule_count < kMaxRules) {
    struct Rule* rule = &rules[rule_count];
    if (strcmp(a, "open") == 0) {
      rule->op = kOpen;
    } else if (strcmp(a, "open-write") == 0) {
      rule->op = kOpenWrite;
    } else if (strcmp(a, "read") == 0) {
      rule->op = kRead;
    } else if (strcmp(a, "write") == 0) {
      rule->op = kWrite;
    } else {
      return;
    }
    rule->err = errno_value(b);
    snprintf(rule->path, sizeof rule->path, "%s", c);
    ++rule_count;
  } else if (sscanf(line, "clock %ld", &seconds) == 1) {
    clock_offset = seconds;
  } else if (sscanf(line, "record %511s %511s", a, b) == 2) {
    snprintf(record_path, sizeof record_path, "%s", a);
    snprintf(record_log, sizeof record_log, "%s", b);
  }
}

// Re-reads the control file when it is another file than last time. Called under `lock`.
static void refresh(void) {
  const char* control = getenv("XENBALLOON_FAULT_CONTROL");
  struct stat now;
  if (control == NULL || stat(control, &now) != 0) {
    memset(&now, 0, sizeof now);
  }
  if (now.st_ino == control_seen.st_ino && now.st_size == control_seen.st_size &&
      now.st_mtim.tv_sec == control_seen.st_mtim.tv_sec &&
      now.st_mtim.tv_nsec == control_seen.st_mtim.tv_nsec) {
    return;
  }
  control_seen = now;
  rule_count = 0;
  clock_offset = 0;
  record_path[0] = record_log[0] = '\0';
  if (now.st_ino == 0) return;
  int fd = REAL(open)(control, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char text[8192];
  ssize_t n = REAL(read)(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return;
  text[n] = '\0';
  char* rest = NULL;
  for (char* line = strtok_r(text, "\n", &rest); line != NULL; line = strtok_r(NULL, "\n", &rest))
    parse_line(line);
}

// The errno a rule for `op` on `path` gives, or 0.
static int fault_for(enum Op op, const char* path) {
  for (int i = 0; i < rule_count; ++i) {
    if (rules[i].op == op && strcmp(rules[i].path, path) == 0) return rules[i].err;
  }
  return 0;
}

static int fd_path(int fd, char* path, size_t size) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, size - 1);
  if (n < 0) return 0;
  path[n] = '\0';
  return 1;
}

// The errno for opening `path`, or 0; clears O_TRUNC from `flags` when writes to `path` are to
// fail, as a sysfs attribute keeps its value whatever the open asked.
static int open_fault(const char* path, int* flags) {
  pthread_mutex_lock(&lock);
  refresh();
  int err = fault_for(kOpen, path);
  if (err == 0 && (*flags & O_ACCMODE) != O_RDONLY) err = fault_for(kOpenWrite, path);
  if (fault_for(kWrite, path) != 0) *flags &= ~O_TRUNC;
  pthread_mutex_unlock(&lock);
  return err;
}

static int read_fault(int fd) {
  pthread_mutex_lock(&lock);
  refresh();
  int err = 0;
  char path[kMaxPath];
  for (int i = 0; i < rule_count && err == 0; ++i) {
    if (rules[i].op == kRead && fd_path(fd, path, sizeof path)) err = fault_for(kRead, path);
  }
  pthread_mutex_unlock(&lock);
  return err;
}

// The errno for a write of `data` to `fd`, recording it when the file is the recorded one.
static int write_fault(int fd, const void* data, size_t size) {
  pthread_mutex_lock(&lock);
  refresh();
  int err = 0;
  char path[kMaxPath];
  if ((rule_count > 0 || record_path[0] != '\0') && fd_path(fd, path, sizeof path)) {
    err = fault_for(kWrite, path);
    if (record_path[0] != '\0' && strcmp(path, record_path) == 0) {
      struct timespec now;
      REAL(clock_gettime)(CLOCK_MONOTONIC, &now);
      char line[256];
      int length = snprintf(
          line, sizeof line, "%lld %s %.*s", (long long)now.tv_sec * 1000000000LL + now.tv_nsec,
          err == 0 ? "ok" : errno_label(err), (int)(size < 64 ? size : 64), (const char*)data);
      if (length > 0 && (size_t)length < sizeof line) {
        if (line[length - 1] != '\n') line[length++] = '\n';
        int log = REAL(open)(record_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (log >= 0) {
          REAL(write)(log, line, (size_t)length);
          close(log);
        }
      }
    }
  }
  pthread_mutex_unlock(&lock);
  return err;
}

#define OPEN_BODY(call)                \
  mode_t mode = 0;                     \
  if (flags & (O_CREAT | O_TMPFILE)) { \
    va_list args;                      \
    va_start(args, flags);             \
    mode = va_arg(args, mode_t);       \
    va_end(args);                      \
  }                                    \
  int err = open_fault(path, &flags);  \
  if (err != 0) {                      \
    errno = err;                       \
    return -1;                         \
  }                                    \
  return call

int open(const char* path, int flags, ...) {
  OPEN_BODY(REAL(open)(path, flags, mode));
}
int open64(const char* path, int flags, ...) {
  OPEN_BODY(REAL(open)(path, flags, mode));
}
int openat(int dir, const char* path, int flags, ...) {
  OPEN_BODY(REAL(openat)(dir, path, flags, mode));
}
int openat64(int dir, const char* path, int flags, ...) {
  OPEN_BODY(REAL(openat)(dir, path, flags, mode));
}

ssize_t read(int fd, void* buf, size_t size) {
  int err = read_fault(fd);
  if (err != 0) {
    errno = err;
    return -1;
  }
  return REAL(read)(fd, buf, size);
}

ssize_t pread(int fd, void* buf, size_t size, off_t offset) {
  int err = read_fault(fd);
  if (err != 0) {
    errno = err;
    return -1;
  }
  return REAL(pread)(fd, buf, size, offset);
}
ssize_t pread64(int fd, void* buf, size_t size, off_t offset) {
  return pread(fd, buf, size, offset);
}

ssize_t write(int fd, const void* data, size_t size) {
  int err = write_fault(fd, data, size);
  if (err != 0) {
    errno = err;
    return -1;
  }
  return REAL(write)(fd, data, size);
}

ssize_t pwrite(int fd, const void* data, size_t size, off_t offset) {
  int err = write_fault(fd, data, size);
  if (err != 0) {
    errno = err;
    return -1;
  }
  return REAL(pwrite)(fd, data, size, offset);
}
ssize_t pwrite64(int fd, const void* data, size_t size, off_t offset) {
  return pwrite(fd, data, size, offset);
}

static long offset_now(void) {
  pthread_mutex_lock(&lock);
  refresh();
  long offset = clock_offset;
  pthread_mutex_unlock(&lock);
  return offset;
}

int clock_gettime(clockid_t clock, struct timespec* ts) {
  int result = REAL(clock_gettime)(clock, ts);
  if (result == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) {
    ts->tv_sec += offset_now();
  }
  return result;
}

int gettimeofday(struct timeval* tv, void* tz) {
  int result = REAL(gettimeofday)(tv, tz);
  if (result == 0) tv->tv_sec += offset_now();  // tv is never null (glibc declares it so)
  return result;
}

time_t time(time_t* out) {
  struct timespec now;
  REAL(clock_gettime)(CLOCK_REALTIME, &now);
  time_t result = now.tv_sec + offset_now();
  if (out != NULL) *out = result;
  return result;
}
