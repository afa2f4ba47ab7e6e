/* The few libxenctrl calls the dom0 side makes, in C: xenctrl.h needs GNU C extensions that the
 * project's strict C++20 does not allow. The library is opened with dlopen() so that a host
 * without it still runs the exporter. Thread-safe only as libxenctrl is: callers serialise. */
#ifndef XENBALLOON_EXPORTER_XENCTRL_SHIM_H
#define XENBALLOON_EXPORTER_XENCTRL_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xb_xenctrl;

/* NULL with the reason in `why` when the library, its symbols or the hypervisor are missing. */
struct xb_xenctrl* xb_xenctrl_open(char* why, size_t why_size);
/* 0 on success. */
int xb_xenctrl_physinfo(struct xb_xenctrl* xc, uint64_t* total_bytes, uint64_t* free_bytes);
void xb_xenctrl_close(struct xb_xenctrl* xc);

#ifdef __cplusplus
}
#endif

#endif
