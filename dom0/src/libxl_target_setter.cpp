// LibxlTargetSetter: libxl_set_memory_target through libxenlight opened with dlopen(). Only
// libxl's headers (libxen-dev) are needed at build time; nothing links against it.
#include <dlfcn.h>
#include <libxl.h>
#include <xentoollog.h>

#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include "xenballoon/dom0/target_setter.h"

namespace xenballoon::dom0 {

namespace {

constexpr const char* kLibxlLibrary = "libxenlight.so.4.17";

// A xentoollog logger that keeps libxl's last error message (for the error a call returns) and
// prints nothing: libxl logs to its logger only, and a daemon reports a failure once itself.
struct CapturingLogger {
  xentoollog_logger vtable;  // first: libxl sees a xentoollog_logger*
  char last[512];
};

void capture_message(xentoollog_logger* logger, xentoollog_level level, int errnoval,
                     const char* context, const char* format, va_list al) {
  if (level < XTL_ERROR) return;
  auto* self = reinterpret_cast<CapturingLogger*>(logger);
  char text[400];
  std::vsnprintf(text, sizeof text, format, al);
  // libxl's messages often end in a newline
  std::string line(text);
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  if (errnoval > 0) line += std::string(": ") + std::strerror(errnoval);
  std::snprintf(self->last, sizeof self->last, "%s%s%s", context ? context : "",
                context ? ": " : "", line.c_str());
}
void capture_progress(xentoollog_logger*, const char*, const char*, int, unsigned long,
                      unsigned long) {}
void capture_destroy(xentoollog_logger*) {}

}  // namespace

struct LibxlTargetSetter::Library {
  using CtxAlloc = decltype(&libxl_ctx_alloc);
  using CtxFree = decltype(&libxl_ctx_free);
  using SetMemoryTarget = decltype(&libxl_set_memory_target);
  using ErrorToString = decltype(&libxl_error_to_string);

  void* handle = nullptr;
  CtxFree ctx_free = nullptr;
  SetMemoryTarget set_memory_target = nullptr;
  ErrorToString error_to_string = nullptr;  // optional
  libxl_ctx* ctx = nullptr;
  CapturingLogger logger{{capture_message, capture_progress, capture_destroy}, {}};

  ~Library() {
    if (ctx) ctx_free(ctx);
    // libxenlight was opened RTLD_NODELETE (it registers fork handlers): this only drops the
    // reference.
    if (handle) dlclose(handle);
  }
  std::string last_message() const { return logger.last; }
  void clear_message() { logger.last[0] = '\0'; }
};

LibxlTargetSetter::LibxlTargetSetter(std::unique_ptr<Library> library)
    : library_(std::move(library)) {}

LibxlTargetSetter::~LibxlTargetSetter() = default;

Result<void> LibxlTargetSetter::set_target_kib(std::uint32_t domid, std::uint64_t target_kib) {
  const std::string who = "domid " + std::to_string(domid);
  if (target_kib == 0) {
    return Error{who + ": a target of 0 would take all of the domain's memory", EINVAL};
  }
  if (target_kib > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return Error{who + ": target " + std::to_string(target_kib) + " KiB is out of range", EINVAL};
  }
  Library& lib = *library_;
  lib.clear_message();
  const int rc = lib.set_memory_target(lib.ctx, domid, static_cast<std::int64_t>(target_kib),
                                       /*relative=*/0, /*enforce=*/1);
  if (rc == 0) return {};
  std::string message = who + ": libxl_set_memory_target(" + std::to_string(target_kib) +
                        " KiB) failed: rc " + std::to_string(rc);
  if (lib.error_to_string) {
    if (const char* name = lib.error_to_string(static_cast<libxl_error>(rc)))
      message += std::string(" (") + name + ")";
  }
  const std::string said = lib.last_message();
  if (!said.empty()) message += ": " + said;
  int errnum = EIO;
  if (rc == ERROR_INVAL) errnum = EINVAL;  // above static-max, among others
  if (rc == ERROR_DOMAIN_NOTFOUND) errnum = ENOENT;
  return Error{message, errnum};
}

std::unique_ptr<LibxlTargetSetter> open_libxl_target_setter(std::string* why_not) {
  auto fail = [&](std::string why) -> std::unique_ptr<LibxlTargetSetter> {
    if (why_not) *why_not = std::move(why);
    return nullptr;
  };
  auto lib = std::make_unique<LibxlTargetSetter::Library>();
  lib->handle = dlopen(kLibxlLibrary, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!lib->handle) {
    const char* error = dlerror();
    return fail(std::string("cannot load ") + kLibxlLibrary + ": " + (error ? error : "unknown"));
  }
  auto ctx_alloc =
      reinterpret_cast<LibxlTargetSetter::Library::CtxAlloc>(dlsym(lib->handle, "libxl_ctx_alloc"));
  lib->ctx_free =
      reinterpret_cast<LibxlTargetSetter::Library::CtxFree>(dlsym(lib->handle, "libxl_ctx_free"));
  lib->set_memory_target = reinterpret_cast<LibxlTargetSetter::Library::SetMemoryTarget>(
      dlsym(lib->handle, "libxl_set_memory_target"));
  lib->error_to_string = reinterpret_cast<LibxlTargetSetter::Library::ErrorToString>(
      dlsym(lib->handle, "libxl_error_to_string"));
  if (!ctx_alloc || !lib->ctx_free || !lib->set_memory_target) {
    return fail(std::string(kLibxlLibrary) +
                " lacks libxl_ctx_alloc, libxl_ctx_free or libxl_set_memory_target");
  }
  const int rc = ctx_alloc(&lib->ctx, LIBXL_VERSION, 0, &lib->logger.vtable);
  if (rc != 0 || !lib->ctx) {
    lib->ctx = nullptr;
    std::string why = "libxl_ctx_alloc failed (rc " + std::to_string(rc) + ")";
    const std::string said = lib->last_message();
    why += said.empty() ? ": no Xen hypervisor interface" : ": " + said;
    return fail(why);
  }
  return std::make_unique<LibxlTargetSetter>(std::move(lib));
}

}  // namespace xenballoon::dom0
