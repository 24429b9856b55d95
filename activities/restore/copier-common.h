/*
 * What the restore's C copiers (restore-copier.c on librdkafka, wire-copier.c on Kafka's protocol) share: the
 * command line's ranges, the settings' escapes, the output lines, the first failure, and the resume protocol's
 * start (where each partition's copy resumes, after a settled look at the target's end offsets).
 * The restore sends a copier's source to the copy host with this file written in place of its #include line;
 * a local build finds it next to the source.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARTITIONS 4096

/* One partition's range and where its copy stands. */
typedef struct {
  int32_t partition;
  /* Source offsets [from, to) go to the target from base on; hint_src:hint_tgt, an acknowledged pair an
   * earlier attempt reported, or -1. */
  int64_t from, to, base, hint_src, hint_tgt;
  /* Source records still to skip: already copied by an earlier attempt. */
  int64_t skip;
  /* The acknowledged prefix: next source offset, next target offset. */
  int64_t acked_src, acked_tgt;
  int64_t target_end, copied, copied_before, bytes;
} range_t;

/* Every partition's range, in command-line order (each copier's own state holds one). */
static range_t *ranges[MAX_PARTITIONS];
static int nranges;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&t, NULL);
}

/* One whole line per call, whichever thread prints. */
static void emit(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  flockfile(stdout);
  vfprintf(stdout, fmt, ap);
  fputc('\n', stdout);
  fflush(stdout);
  funlockfile(stdout);
  va_end(ap);
}

static pthread_mutex_t failure_lock = PTHREAD_MUTEX_INITIALIZER;
static char failure[1024];
static int failed_flag;

/* Set by the first failure, in any thread: every worker stops. */
static int aborted(void) { return __atomic_load_n(&failed_flag, __ATOMIC_ACQUIRE); }

/* The first failure wins; newlines never reach the output line. */
static void fail(const char *fmt, ...) {
  pthread_mutex_lock(&failure_lock);
  if (!failure[0]) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(failure, sizeof failure, fmt, ap);
    va_end(ap);
    for (char *c = failure; *c; c++)
      if (*c == '\n' || *c == '\r') *c = ' ';
    __atomic_store_n(&failed_flag, 1, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&failure_lock);
}

/* --tag=KEY names the process for the activity that started it (found again by its command line); no effect. */
static void skip_tag(int *argc, char ***argv) {
  if (*argc > 1 && !strncmp((*argv)[1], "--tag=", 6)) {
    (*argv)++;
    (*argc)--;
  }
}

static void progress(const char *kind, const range_t *s) {
  emit("%s %" PRId32 " src=%" PRId64 " tgt=%" PRId64 " copied=%" PRId64 " bytes=%" PRId64, kind, s->partition, s->acked_src, s->acked_tgt, s->copied, s->bytes);
}

static int parse_i64(const char *s, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end) return -1;
  *out = v;
  return 0;
}

/* P:FROM:TO:BASE[:HINTSRC:HINTTGT] into r, appended to ranges[]; a bad one or a partition given twice exits 2. */
static void parse_range(const char *arg, range_t *r) {
  char buf[256];
  int64_t f[6];
  int n = 0;
  int bad = strlen(arg) >= sizeof buf || nranges == MAX_PARTITIONS;
  if (!bad) {
    strcpy(buf, arg);
    for (char *save, *tok = strtok_r(buf, ":", &save); tok && !bad; tok = strtok_r(NULL, ":", &save)) bad = n == 6 || parse_i64(tok, &f[n++]);
  }
  if (bad || (n != 4 && n != 6) || f[0] < 0 || f[0] > INT32_MAX || f[1] < 0 || f[2] < f[1] || f[3] < 0) {
    fprintf(stderr, "bad range %s\n", arg);
    exit(2);
  }
  /* One copy per partition: two would write it twice. */
  for (int i = 0; i < nranges; i++)
    if (ranges[i]->partition == (int32_t)f[0]) {
      fprintf(stderr, "partition %" PRId64 " given twice\n", f[0]);
      exit(2);
    }
  r->partition = (int32_t)f[0];
  r->from = f[1];
  r->to = f[2];
  r->base = f[3];
  r->hint_src = n == 6 ? f[4] : -1;
  r->hint_tgt = n == 6 ? f[5] : -1;
  ranges[nranges++] = r;
}

/* Java-properties escapes, as the activity writes them: \\ \n \r and a leading "\ ". */
static void unescape(char *s) {
  char *w = s;
  for (char *r = s; *r; r++) {
    if (*r == '\\' && r[1]) {
      r++;
      *w++ = *r == 'n' ? '\n' : *r == 'r' ? '\r' : *r;
    } else {
      *w++ = *r;
    }
  }
  *w = 0;
}

/*
 * Reads the target's end offsets into ranges[]->target_end with read_ends (0, or -1 after a FAILED line). After
 * an earlier attempt's copier was stopped (RESTORE_SETTLE_MS set by the host command), its last requests may still
 * be queued in a broker (held back by a quota, say): the ends count only once they have not moved for that long,
 * or a late write would land after the records this attempt skips.
 */
static int settled_target_ends(int (*read_ends)(void *), void *ctx) {
  const char *settle_env = getenv("RESTORE_SETTLE_MS");
  int64_t settle_ms = settle_env ? atoll(settle_env) : 0, started = now_ms(), stable_since = started;
  int64_t give_up_at = started + (settle_ms * 10 > 300000 ? settle_ms * 10 : 300000);
  int rc = read_ends(ctx);
  while (rc == 0 && settle_ms > 0) {
    int64_t before[MAX_PARTITIONS];
    for (int i = 0; i < nranges; i++) before[i] = ranges[i]->target_end;
    if (now_ms() - stable_since >= settle_ms) break;
    if (now_ms() > give_up_at) {
      emit("FAILED the target's end offsets kept moving for %" PRId64 " ms after the earlier copier stopped: another writer?", now_ms() - started);
      return -1;
    }
    sleep_ms(500);
    rc = read_ends(ctx);
    for (int i = 0; i < nranges && rc == 0; i++)
      if (ranges[i]->target_end != before[i]) stable_since = now_ms();
  }
  return rc;
}

/*
 * Where the copy of s resumes, from the target's end: the target's records from BASE on are copies, in order, of
 * the source's records from FROM on, so (target end - BASE) records are already there and that many are
 * skipped. Prints its START line. Returns 1 when there is something to read, 0 when the range is done, -1 after a
 * FAILED line.
 */
static int start_range(range_t *s) {
  int64_t start_src = s->from, start_tgt = s->base;
  /* A hint is only a shortcut: it must lie within what the target holds now. */
  if (s->hint_src >= s->from && s->hint_tgt >= s->base && s->hint_tgt <= s->target_end) {
    start_src = s->hint_src;
    start_tgt = s->hint_tgt;
  }
  if (s->target_end < start_tgt) {
    emit("FAILED %" PRId32 " the target partition ends at %" PRId64 ", before this restore's first record at %" PRId64 ": it was truncated or recreated", s->partition, s->target_end, s->base);
    return -1;
  }
  s->skip = s->target_end - start_tgt;
  s->acked_src = start_src;
  s->acked_tgt = start_tgt;
  s->copied = s->copied_before = s->target_end - s->base;
  emit("START %" PRId32 " from=%" PRId64 " to=%" PRId64 " skip=%" PRId64, s->partition, start_src, s->to, s->skip);
  if (start_src >= s->to) {
    if (s->skip > 0) {
      emit("FAILED %" PRId32 " the target holds %" PRId64 " records more than the backup range: another writer?", s->partition, s->skip);
      return -1;
    }
    return 0;
  }
  return 1;
}

/*
 * The copy's end: on a failure, every partition's acknowledged position and the FAILED line, then the process
 * ends without waiting for requests in flight (a retry counts what landed from the target's end); else DONE per
 * partition and the SUMMARY. Returns the exit code.
 */
static int finish(int64_t started) {
  int64_t copied = 0, bytes = 0;
  for (int i = 0; i < nranges; i++) {
    copied += ranges[i]->copied;
    bytes += ranges[i]->bytes;
  }
  if (aborted()) {
    for (int i = 0; i < nranges; i++) progress("PROGRESS", ranges[i]);
    emit("FAILED %s", failure);
    fflush(stdout);
    _exit(1);
  }
  for (int i = 0; i < nranges; i++) progress("DONE", ranges[i]);
  emit("SUMMARY copied=%" PRId64 " bytes=%" PRId64 " ms=%" PRId64, copied, bytes, now_ms() - started);
  return 0;
}
