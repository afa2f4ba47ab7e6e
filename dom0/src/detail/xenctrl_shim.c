#include "xenctrl_shim.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <xenctrl.h>

#define XENCTRL_LIBRARY "libxenctrl.so.4.17"

typedef xc_interface* (*open_fn)(xentoollog_logger*, xentoollog_logger*, unsigned);
typedef int (*close_fn)(xc_interface*);
typedef int (*physinfo_fn)(xc_interface*, xc_physinfo_t*);

struct xb_xenctrl {
  void* library;
  xc_interface* handle;
  close_fn close;
  physinfo_fn physinfo;
};

/* libxenctrl logs to stderr by default; the caller reports a failure once instead. */
static void discard_message(xentoollog_logger* logger, xentoollog_level level, int errnoval,
                            const char* context, const char* format, va_list al) {
  (void)logger, (void)level, (void)errnoval, (void)context, (void)format, (void)al;
}
static void discard_progress(xentoollog_logger* logger, const char* context, const char* doing_what,
                             int percent, unsigned long done, unsigned long total) {
  (void)logger, (void)context, (void)doing_what, (void)percent, (void)done, (void)total;
}
static void discard_destroy(xentoollog_logger* logger) {
  (void)logger;
}
static xentoollog_logger silent_logger = {discard_message, discard_progress, discard_destroy};

struct xb_xenctrl* xb_xenctrl_open(char* why, size_t why_size) {
  void* library = dlopen(XENCTRL_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    snprintf(why, why_size, "cannot load %s: %s", XENCTRL_LIBRARY, dlerror());
    return NULL;
  }
  open_fn open = (open_fn)dlsym(library, "xc_interface_open");
  close_fn close = (close_fn)dlsym(library, "xc_interface_close");
  physinfo_fn physinfo = (physinfo_fn)dlsym(library, "xc_physinfo");
  if (!open || !close || !physinfo) {
    snprintf(why, why_size, "%s lacks xc_interface_open, xc_interface_close or xc_physinfo",
             XENCTRL_LIBRARY);
    dlclose(library);
    return NULL;
  }
  xc_interface* handle = open(&silent_logger, &silent_logger, 0);
  if (!handle) {
    snprintf(why, why_size, "no Xen hypervisor interface (xc_interface_open failed)");
    dlclose(library);
    return NULL;
  }
  struct xb_xenctrl* xc = calloc(1, sizeof *xc);
  if (!xc) {
    close(handle);
    dlclose(library);
    snprintf(why, why_size, "out of memory");
    return NULL;
  }
  xc->library = library;
  xc->handle = handle;
  xc->close = close;
  xc->physinfo = physinfo;
  return xc;
}

int xb_xenctrl_physinfo(struct xb_xenctrl* xc, uint64_t* total_bytes, uint64_t* free_bytes) {
  xc_physinfo_t info = {0};
  if (xc->physinfo(xc->handle, &info) != 0) return -1;
  *total_bytes = info.total_pages * XC_PAGE_SIZE;
  *free_bytes = info.free_pages * XC_PAGE_SIZE;
  return 0;
}

void xb_xenctrl_close(struct xb_xenctrl* xc) {
  if (!xc) return;
  xc->close(xc->handle);
  dlclose(xc->library);
  free(xc);
}
