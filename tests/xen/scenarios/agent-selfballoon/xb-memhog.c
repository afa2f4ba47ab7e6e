/* xb-memhog: the real-Xen scenarios' workload (the guest has no stress tool).
 *   xb-memhog TOTAL_MIB STEP_MIB STEP_MS HOLD_S [STATE_FILE]
 * Allocates TOTAL_MIB in STEP_MIB chunks (one malloc each, so Committed_AS
 * grows by a step at a time), touches every page of each chunk, sleeps STEP_MS
 * between steps, holds everything for HOLD_S seconds (or until SIGTERM/SIGINT),
 * then frees it all and exits 0.  After each step it writes the MiB held to
 * STATE_FILE (default /tmp/memhog.state) and prints a line.  A failed malloc
 * stops the allocation (exit 3 after the hold).  Built statically by
 * tests/xen/CMakeLists.txt (target xb-memhog). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

static void state(const char* path, long mib, const char* what) {
  FILE* f = fopen(path, "w");
  if (f) { fprintf(f, "%ld %s\n", mib, what); fclose(f); }
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (!stop && nanosleep(&ts, &ts) != 0) {}
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: xb-memhog TOTAL_MIB STEP_MIB STEP_MS HOLD_S [STATE_FILE]\n");
    return 2;
  }
  long total = atol(argv[1]), step = atol(argv[2]), step_ms = atol(argv[3]), hold = atol(argv[4]);
  const char* path = argc > 5 ? argv[5] : "/tmp/memhog.state";
  if (total <= 0 || step <= 0) return 2;
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  long n = (total + step - 1) / step, held = 0, page = sysconf(_SC_PAGESIZE);
  char** chunks = calloc((size_t)n, sizeof *chunks);
  int rc = 0;
  for (long i = 0; i < n && !stop; i++) {
    size_t bytes = (size_t)step << 20;
    char* p = malloc(bytes);
    if (!p) {
      printf("xb-memhog: malloc of %ld MiB failed at %ld MiB held\n", step, held);
      fflush(stdout);
      rc = 3;
      break;
    }
    for (size_t off = 0; off < bytes; off += (size_t)page) p[off] = (char)(off | 1);
    chunks[i] = p;
    held += step;
    state(path, held, "allocating");
    printf("xb-memhog: %ld MiB allocated and touched\n", held);
    fflush(stdout);
    sleep_ms(step_ms);
  }
  state(path, held, "holding");
  for (long s = 0; s < hold * 10 && !stop; s++) sleep_ms(100);
  for (long i = 0; i < n; i++) free(chunks[i]);
  state(path, 0, "freed");
  printf("xb-memhog: freed %ld MiB\n", held);
  return rc;
}
