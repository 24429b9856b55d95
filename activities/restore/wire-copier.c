/*
 * The restore copier that speaks Kafka's protocol itself: the copy half of RestoreCopier.java, with the same
 * command line, the same resume protocol and the same output lines as it and restore-copier.c, built on the
 * copy host from this file:
 *   cc -O2 -pthread -o wire-copier wire-copier.c -lz -llz4 -lzstd -lsnappy
 *   wire-copier [--tag=KEY] copy SOURCE_TOPIC TARGET_TOPIC P:FROM:TO:BASE[:HINTSRC:HINTTGT] ...
 *   wire-copier version      prints VERSION wire=N ok
 * Client settings come on standard input as `source.NAME=VALUE` / `target.NAME=VALUE` lines (librdkafka's
 * names). It speaks PLAINTEXT only: `security.protocol` other than plaintext, or any TLS or SASL setting, is
 * refused (exit 3, UNAVAILABLE), and the restore uses the librdkafka copier for such clusters.
 *
 * Why: a client library turns every record into an object on the way in (headers parsed into lists, one
 * allocation each) and back into bytes on the way out; that is most of a copy's CPU. This copier moves record
 * bytes: it reads the source's record batches (Fetch, read_committed, aborted transactions left out as Kafka's
 * consumer leaves them out), and writes each partition's records into new batches for the same partition
 * number, rewriting only each record's offset and timestamp deltas (varints) and each batch's header: its own
 * idempotent producer id, epoch and sequence (InitProducerId), and the CRC. Keys, values (null kept apart from
 * empty), headers and their order are the source's bytes; the timestamp is the one a consumer of the source
 * sees (CreateTime, or the batch's LogAppendTime), written as CreateTime. Compressed source batches (gzip,
 * snappy, lz4, zstd) are read and written uncompressed.
 *
 * Lossless like an idempotent Java producer with acks=all: a batch counts as written only when the target's
 * leader answered it without error (acks=all), batches of a partition are acknowledged in order, and a batch
 * whose answer is lost (a broker restart, a leader move) is sent again with the same producer id and sequence,
 * which the broker recognises as one it holds (up to 5 per partition in flight, the broker's window). Any
 * answer that cannot be explained (a sequence out of order, an unknown producer, a base offset other than the
 * one expected) stops the copy: it exits 1, and the restore's retry counts what the target holds.
 *
 * Resume protocol (as the other copiers): BASE is the target's end offset before the restore wrote anything;
 * the target's records from BASE on are copies, in order, of the source's records from FROM on, so a retried
 * copy counts what is already there (target end - BASE) and skips that many source records. Lines on stdout:
 *   START P from=N to=N skip=N              where the copy of P resumes
 *   PROGRESS P src=N tgt=N copied=N bytes=N  records acknowledged so far: source next N, target next N
 *   DONE P src=N tgt=N copied=N bytes=N      P complete (every record of the range acknowledged)
 *   FAILED P message                          the copy cannot go on: the copier exits 1
 *   SUMMARY copied=N bytes=N ms=N            all partitions done
 * The verification stays on Kafka's Java client (RestoreCopier.java digest).
 */
#define _GNU_SOURCE
#include <lz4frame.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <snappy-c.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

static void usage(void);
#include "copier-common.h"

#define WIRE_VERSION 1
#define MAX_WORKERS 16
#define MAX_BROKERS 256
/* The broker keeps the last 5 batches of each producer and partition for recognising a batch sent again. */
#define MAX_INFLIGHT 5
/* Kafka 2.3 or later: the versions this copier writes and reads (checked with ApiVersions first). */
#define V_PRODUCE 7
#define V_FETCH 11
#define V_LIST_OFFSETS 5
#define V_METADATA 5
#define V_INIT_PRODUCER_ID 1
#define DELIVERY_TIMEOUT_MS 300000
#define REQUEST_TIMEOUT_MS 30000

/* ---------- output and failure ---------- */

/* The host cannot run this copier for these clusters: exit 3, which the restore reports as unavailable. */
static void unavailable(const char *fmt, ...) {
  char why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  emit("UNAVAILABLE %s", why);
  fflush(stdout);
  _exit(3);
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    emit("FAILED out of memory (%zu bytes)", n);
    _exit(1);
  }
  return p;
}

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) {
    emit("FAILED out of memory (%zu bytes)", n);
    _exit(1);
  }
  return p;
}

/* ---------- CRC-32C (Castagnoli), as record batches carry it ---------- */

static uint32_t crc_table[256];

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    crc_table[i] = c;
  }
}

static uint32_t crc32c_table(const uint8_t *p, size_t n) {
  uint32_t c = ~0u;
  while (n--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(const uint8_t *p, size_t n) {
  uint64_t c = ~0u;
  while (n >= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = (uint32_t)c;
  while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return ~c32;
}
#endif

static uint32_t crc32c(const uint8_t *p, size_t n) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("sse4.2")) return crc32c_hw(p, n);
#endif
  return crc32c_table(p, n);
}

/* ---------- buffers: big-endian fields and Kafka's zigzag varints ---------- */

typedef struct {
  uint8_t *p;
  size_t len, cap;
} wbuf_t;

static void wb_need(wbuf_t *b, size_t n) {
  if (b->len + n <= b->cap) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + n) cap *= 2;
  b->p = xrealloc(b->p, cap);
  b->cap = cap;
}
static void wb_bytes(wbuf_t *b, const void *p, size_t n) {
  wb_need(b, n);
  memcpy(b->p + b->len, p, n);
  b->len += n;
}
static void wb_i8(wbuf_t *b, int8_t v) { wb_bytes(b, &v, 1); }
static void wb_i16(wbuf_t *b, int16_t v) {
  uint8_t x[2] = {(uint8_t)((uint16_t)v >> 8), (uint8_t)v};
  wb_bytes(b, x, 2);
}
static void put_i32(uint8_t *x, int32_t v) {
  uint32_t u = (uint32_t)v;
  x[0] = u >> 24, x[1] = u >> 16, x[2] = u >> 8, x[3] = u;
}
static void put_i64(uint8_t *x, int64_t v) {
  put_i32(x, (int32_t)((uint64_t)v >> 32));
  put_i32(x + 4, (int32_t)(uint32_t)v);
}
static void wb_i32(wbuf_t *b, int32_t v) {
  uint8_t x[4];
  put_i32(x, v);
  wb_bytes(b, x, 4);
}
static void wb_i64(wbuf_t *b, int64_t v) {
  uint8_t x[8];
  put_i64(x, v);
  wb_bytes(b, x, 8);
}
static void wb_str(wbuf_t *b, const char *s) {
  if (!s) {
    wb_i16(b, -1);
    return;
  }
  size_t n = strlen(s);
  wb_i16(b, (int16_t)n);
  wb_bytes(b, s, n);
}

typedef struct {
  const uint8_t *p;
  size_t len, pos;
  int bad;
} rbuf_t;

static const uint8_t *rb_take(rbuf_t *b, size_t n) {
  if (b->bad || b->len - b->pos < n) {
    b->bad = 1;
    return NULL;
  }
  const uint8_t *p = b->p + b->pos;
  b->pos += n;
  return p;
}
static int8_t rb_i8(rbuf_t *b) {
  const uint8_t *p = rb_take(b, 1);
  return p ? (int8_t)p[0] : 0;
}
static uint32_t get_u32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static int64_t get_i64(const uint8_t *p) { return (int64_t)((uint64_t)get_u32(p) << 32 | get_u32(p + 4)); }
static int16_t rb_i16(rbuf_t *b) {
  const uint8_t *p = rb_take(b, 2);
  return p ? (int16_t)(p[0] << 8 | p[1]) : 0;
}
static int32_t rb_i32(rbuf_t *b) {
  const uint8_t *p = rb_take(b, 4);
  return p ? (int32_t)get_u32(p) : 0;
}
static int64_t rb_i64(rbuf_t *b) {
  const uint8_t *p = rb_take(b, 8);
  return p ? get_i64(p) : 0;
}
/* A string or bytes field: its length (-1 for null) and where it starts. */
static const uint8_t *rb_str(rbuf_t *b, int32_t *n) {
  *n = rb_i16(b);
  return *n < 0 ? NULL : rb_take(b, (size_t)*n);
}
static const uint8_t *rb_bytes(rbuf_t *b, int32_t *n) {
  *n = rb_i32(b);
  return *n < 0 ? NULL : rb_take(b, (size_t)*n);
}

/* An unsigned varint; -1 on a malformed or cut one. */
static int uvarint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p >= end) return -1;
    uint8_t c = *(*p)++;
    v |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) {
      *out = v;
      return 0;
    }
  }
  return -1;
}
static int svarint(const uint8_t **p, const uint8_t *end, int64_t *out) {
  uint64_t z;
  if (uvarint(p, end, &z)) return -1;
  *out = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
  return 0;
}
static int put_svarint(uint8_t *p, int64_t v) {
  uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
  int n = 0;
  while (z >= 0x80) {
    p[n++] = (uint8_t)(z | 0x80);
    z >>= 7;
  }
  p[n++] = (uint8_t)z;
  return n;
}
static int svarint_size(int64_t v) {
  uint8_t tmp[10];
  return put_svarint(tmp, v);
}

/* ---------- the command line and the settings ---------- */

typedef struct outbatch {
  struct outbatch *next;
  uint8_t *buf;
  size_t len;
  int32_t count;
  int64_t last_src, bytes;
  /* When it was first sent: a batch still unacknowledged after the delivery timeout fails the copy. */
  int64_t first_sent_ms;
} outbatch_t;

typedef struct {
  range_t r;
  int64_t encoded;
  /* Reader's side. */
  int reading;
  int64_t next_fetch, last_progress_ms;
  int32_t next_seq;
  wbuf_t build;
  int32_t build_count;
  int64_t build_first_ts, build_max_ts, build_last_src, build_bytes;
  /* Encoded batches, oldest first; the first `inflight` of them are sent and unanswered. */
  outbatch_t *head, *tail;
  int inflight;
} part_t;

static part_t parts[MAX_PARTITIONS];
static int nparts;
static int64_t stall_ms = 120000;
static int workers_wanted = 2;
static size_t batch_bytes = 1000000;
static const char *source_bootstrap, *target_bootstrap;

static void usage(void) {
  fprintf(stderr, "usage: wire-copier [--tag=KEY] copy SOURCE_TOPIC TARGET_TOPIC P:FROM:TO:BASE[:HINTSRC:HINTTGT] ... | version\n");
  exit(2);
}

/* Reads stdin's settings: bootstrap servers for both sides, PLAINTEXT only. */
static void read_settings(void) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, stdin)) > 0) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
    char *eq = strchr(line, '=');
    int target = !strncmp(line, "target.", 7);
    if (len == 0 || line[0] == '#' || !eq || (!target && strncmp(line, "source.", 7))) continue;
    *eq = 0;
    unescape(eq + 1);
    const char *name = line + 7, *value = eq + 1;
    if (!strcmp(name, "bootstrap.servers")) {
      *(target ? &target_bootstrap : &source_bootstrap) = strdup(value);
    } else if (!strcmp(name, "security.protocol")) {
      if (strcasecmp(value, "plaintext")) unavailable("the %s cluster is reached with %s; this copier speaks PLAINTEXT only", target ? "target" : "source", value);
    } else if (strcmp(name, "client.id")) {
      /* TLS or SASL settings: this copier cannot honour them, and must not connect without them. */
      unavailable("the %s cluster's setting %s is not supported by this copier (PLAINTEXT only)", target ? "target" : "source", name);
    }
    /* Secrets may be in these lines: nothing of them stays in the read buffer. */
    memset(line, 0, cap);
  }
  free(line);
  if (!source_bootstrap || !target_bootstrap) {
    emit("FAILED no source.bootstrap.servers or target.bootstrap.servers on stdin");
    exit(1);
  }
}

/* ---------- connections and requests ---------- */

typedef struct {
  int fd;
  int32_t node, corr;
  wbuf_t out, in;
} conn_t;

static void conn_close(conn_t *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
}

static int conn_open(conn_t *c, const char *host, int port, int32_t node) {
  char portstr[16];
  struct addrinfo hints = {0}, *res, *ai;
  hints.ai_socktype = SOCK_STREAM;
  snprintf(portstr, sizeof portstr, "%d", port);
  c->fd = -1;
  c->node = node;
  if (getaddrinfo(host, portstr, &hints, &res)) {
    fprintf(stderr, "cannot resolve %s\n", host);
    return -1;
  }
  for (ai = res; ai; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    /* Every read and write gives up after the request timeout: a broker that stops answering is a broken connection. */
    struct timeval tv = {REQUEST_TIMEOUT_MS / 1000 + 15, 0};
    int one = 1, buf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      c->fd = fd;
      break;
    }
    close(fd);
  }
  freeaddrinfo(res);
  if (c->fd < 0) fprintf(stderr, "cannot connect to %s:%d: %s\n", host, port, strerror(errno));
  return c->fd < 0 ? -1 : 0;
}

/* Starts a request in c->out: size placeholder and header v1 (api, version, correlation id, client id). */
static void req_begin(conn_t *c, int16_t api, int16_t version) {
  c->out.len = 0;
  wb_i32(&c->out, 0);
  wb_i16(&c->out, api);
  wb_i16(&c->out, version);
  wb_i32(&c->out, ++c->corr);
  wb_str(&c->out, "kafka-runbooks-restore-copier");
}

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int read_all(int fd, uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t r = recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

/* Sends the request in c->out; returns its correlation id, or -1 (the connection is closed). */
static int32_t req_send(conn_t *c) {
  put_i32(c->out.p, (int32_t)(c->out.len - 4));
  if (write_all(c->fd, c->out.p, c->out.len)) {
    conn_close(c);
    return -1;
  }
  return c->corr;
}

/* Reads the next response into c->in; it must answer correlation id corr. Returns a reader past its header. */
static int resp_read(conn_t *c, int32_t corr, rbuf_t *r) {
  uint8_t size[4];
  if (c->fd < 0 || read_all(c->fd, size, 4)) goto broken;
  uint32_t n = get_u32(size);
  if (n < 4 || n > (1u << 30)) goto broken;
  c->in.len = 0;
  wb_need(&c->in, n);
  if (read_all(c->fd, c->in.p, n)) goto broken;
  c->in.len = n;
  if ((int32_t)get_u32(c->in.p) != corr) {
    fprintf(stderr, "response out of order on a connection to broker %d\n", c->node);
    goto broken;
  }
  *r = (rbuf_t){c->in.p, n, 4, 0};
  return 0;
broken:
  conn_close(c);
  return -1;
}

/* ---------- a cluster as one thread sees it: brokers, leaders, connections ---------- */

typedef struct {
  const char *bootstrap;
  int nbrokers;
  struct {
    int32_t id;
    char host[256];
    int port;
    conn_t conn;
  } brokers[MAX_BROKERS];
  /* Leaders of the topic's partitions, by partition number (-1: unknown). */
  int32_t *leader;
  int32_t npartitions;
  const char *topic;
  const char *side;
} cluster_t;

static int split_host_port(const char *hp, char *host, size_t hostcap, int *port) {
  const char *colon = strrchr(hp, ':');
  if (!colon || colon == hp || (size_t)(colon - hp) >= hostcap) return -1;
  memcpy(host, hp, (size_t)(colon - hp));
  host[colon - hp] = 0;
  /* [v6]:port */
  if (host[0] == '[') {
    memmove(host, host + 1, strlen(host));
    char *close_bracket = strchr(host, ']');
    if (close_bracket) *close_bracket = 0;
  }
  *port = atoi(colon + 1);
  return *port > 0 ? 0 : -1;
}

/* The versions a broker offers; the copier's must be among them (Kafka 2.3 or later). */
static int check_versions(conn_t *c, const char *side) {
  static const struct { int16_t api, version; const char *name; } need[] = {
      {0, V_PRODUCE, "Produce"}, {1, V_FETCH, "Fetch"}, {2, V_LIST_OFFSETS, "ListOffsets"}, {3, V_METADATA, "Metadata"}, {22, V_INIT_PRODUCER_ID, "InitProducerId"}};
  req_begin(c, 18, 0);
  rbuf_t r;
  int32_t corr = req_send(c);
  if (corr < 0 || resp_read(c, corr, &r)) return -1;
  int16_t err = rb_i16(&r);
  int32_t n = rb_i32(&r);
  int16_t min[64], max[64];
  for (int i = 0; i < 64; i++) min[i] = 1, max[i] = -1;
  for (int32_t i = 0; i < n && !r.bad; i++) {
    int16_t api = rb_i16(&r), lo = rb_i16(&r), hi = rb_i16(&r);
    if (api >= 0 && api < 64) min[api] = lo, max[api] = hi;
  }
  if (r.bad || err) return -1;
  for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
    if (need[i].version < min[need[i].api] || need[i].version > max[need[i].api])
      unavailable("the %s cluster does not offer %s v%d (this copier needs Kafka 2.3 or later)", side, need[i].name, need[i].version);
  return 0;
}

static conn_t *broker_conn(cluster_t *cl, int32_t node) {
  for (int i = 0; i < cl->nbrokers; i++)
    if (cl->brokers[i].id == node) {
      conn_t *c = &cl->brokers[i].conn;
      if (c->fd < 0 && conn_open(c, cl->brokers[i].host, cl->brokers[i].port, node)) return NULL;
      return c;
    }
  return NULL;
}

/* Reads the brokers and the topic's leaders from any bootstrap server; retries for up to a minute. */
static int refresh_metadata(cluster_t *cl) {
  static int versions_checked[2];
  int64_t deadline = now_ms() + 60000;
  const char *last_problem = "no bootstrap server answered";
  for (int attempt = 0;; attempt++) {
    if (attempt) {
      if (now_ms() > deadline || aborted()) {
        fail("the %s cluster's metadata for %s: %s", cl->side, cl->topic, last_problem);
        return -1;
      }
      sleep_ms(attempt < 5 ? 200 : 1000);
    }
    char list[4096];
    snprintf(list, sizeof list, "%s", cl->bootstrap);
    conn_t c = {.fd = -1};
    for (char *save, *hp = strtok_r(list, ",", &save); hp && c.fd < 0; hp = strtok_r(NULL, ",", &save)) {
      char host[256];
      int port;
      while (*hp == ' ') hp++;
      if (split_host_port(hp, host, sizeof host, &port)) {
        fail("bad bootstrap server %s", hp);
        return -1;
      }
      conn_open(&c, host, port, -1);
    }
    if (c.fd < 0) continue;
    int side_index = !strcmp(cl->side, "target");
    if (!__atomic_load_n(&versions_checked[side_index], __ATOMIC_ACQUIRE)) {
      if (check_versions(&c, cl->side)) {
        conn_close(&c);
        free(c.out.p), free(c.in.p);
        continue;
      }
      __atomic_store_n(&versions_checked[side_index], 1, __ATOMIC_RELEASE);
    }
    req_begin(&c, 3, V_METADATA);
    wb_i32(&c.out, 1);
    wb_str(&c.out, cl->topic);
    wb_i8(&c.out, 0); /* never create the topic */
    rbuf_t r;
    int32_t corr = req_send(&c);
    int ok = corr >= 0 && !resp_read(&c, corr, &r);
    if (ok) {
      rb_i32(&r); /* throttle */
      int32_t nb = rb_i32(&r);
      for (int i = 0; i < cl->nbrokers; i++) conn_close(&cl->brokers[i].conn);
      cl->nbrokers = 0;
      for (int32_t i = 0; i < nb && !r.bad; i++) {
        int32_t id = rb_i32(&r), hl, rl;
        const uint8_t *h = rb_str(&r, &hl);
        int32_t port = rb_i32(&r);
        rb_str(&r, &rl);
        if (r.bad || cl->nbrokers == MAX_BROKERS || hl <= 0 || hl >= 256) continue;
        cl->brokers[cl->nbrokers].id = id;
        memcpy(cl->brokers[cl->nbrokers].host, h, (size_t)hl);
        cl->brokers[cl->nbrokers].host[hl] = 0;
        cl->brokers[cl->nbrokers].port = port;
        cl->brokers[cl->nbrokers].conn.fd = -1;
        cl->nbrokers++;
      }
      int32_t cidl;
      rb_str(&r, &cidl);
      rb_i32(&r); /* controller */
      int32_t nt = rb_i32(&r);
      int found = 0;
      for (int32_t t = 0; t < nt && !r.bad; t++) {
        int16_t terr = rb_i16(&r);
        int32_t nl;
        rb_str(&r, &nl);
        rb_i8(&r); /* internal */
        int32_t np = rb_i32(&r);
        if (terr) {
          last_problem = terr == 3 ? "the topic does not exist (yet)" : "the topic's metadata has an error";
          for (int32_t p = 0; p < np && !r.bad; p++) {
            rb_i16(&r), rb_i32(&r), rb_i32(&r);
            for (int k = 0; k < 3; k++) {
              int32_t m = rb_i32(&r);
              for (int32_t j = 0; j < m && !r.bad; j++) rb_i32(&r);
            }
          }
          continue;
        }
        found = 1;
        for (int32_t p = 0; p < np && !r.bad; p++) {
          int16_t perr = rb_i16(&r);
          int32_t index = rb_i32(&r), leader = rb_i32(&r);
          for (int k = 0; k < 3; k++) {
            int32_t m = rb_i32(&r);
            for (int32_t j = 0; j < m && !r.bad; j++) rb_i32(&r);
          }
          if (index < 0 || index >= MAX_PARTITIONS * 16) continue;
          if (index >= cl->npartitions) {
            cl->leader = xrealloc(cl->leader, sizeof(int32_t) * (size_t)(index + 1));
            for (int32_t q = cl->npartitions; q <= index; q++) cl->leader[q] = -1;
            cl->npartitions = index + 1;
          }
          cl->leader[index] = perr == 5 ? -1 : leader;
        }
      }
      ok = !r.bad && found;
      if (r.bad) last_problem = "a metadata answer this copier cannot read";
    }
    conn_close(&c);
    free(c.out.p), free(c.in.p);
    if (ok) return 0;
  }
}

static int32_t leader_of(cluster_t *cl, int32_t partition) { return partition < cl->npartitions ? cl->leader[partition] : -1; }

static void cluster_drop_connections(cluster_t *cl) {
  for (int i = 0; i < cl->nbrokers; i++) conn_close(&cl->brokers[i].conn);
}

/* Retriable answers: a leader that moved or is not yet there, a timeout, too few replicas for now. */
static int retriable(int16_t err) {
  switch (err) {
  case 3:  /* UNKNOWN_TOPIC_OR_PARTITION (a topic just created) */
  case 5:  /* LEADER_NOT_AVAILABLE */
  case 6:  /* NOT_LEADER_OR_FOLLOWER */
  case 7:  /* REQUEST_TIMED_OUT */
  case 9:  /* REPLICA_NOT_AVAILABLE */
  case 13: /* NETWORK_EXCEPTION */
  case 19: /* NOT_ENOUGH_REPLICAS */
  case 20: /* NOT_ENOUGH_REPLICAS_AFTER_APPEND */
  case 56: /* KAFKA_STORAGE_ERROR */
  case 74: /* FENCED_LEADER_EPOCH */
  case 75: /* UNKNOWN_LEADER_EPOCH */
  case 78: /* OFFSET_NOT_AVAILABLE */
    return 1;
  default:
    return 0;
  }
}

/* ---------- the target's end offsets ---------- */

/* Reads every partition's end offset (read_committed) into parts[].target_end. */
static int read_ends(cluster_t *cl) {
  int64_t deadline = now_ms() + 60000;
  for (int i = 0; i < nparts; i++) parts[i].r.target_end = -1;
  for (;;) {
    int missing = 0;
    for (int i = 0; i < nparts; i++) missing += parts[i].r.target_end < 0;
    if (!missing) return 0;
    if (now_ms() > deadline) {
      emit("FAILED reading the target's end offsets: no leader answered for a minute");
      return -1;
    }
    if (refresh_metadata(cl)) return -1;
    for (int b = 0; b < cl->nbrokers; b++) {
      int32_t node = cl->brokers[b].id, n = 0;
      for (int i = 0; i < nparts; i++) n += parts[i].r.target_end < 0 && leader_of(cl, parts[i].r.partition) == node;
      if (!n) continue;
      conn_t *c = broker_conn(cl, node);
      if (!c) continue;
      req_begin(c, 2, V_LIST_OFFSETS);
      wb_i32(&c->out, -1);
      wb_i8(&c->out, 1); /* read_committed */
      wb_i32(&c->out, 1);
      wb_str(&c->out, cl->topic);
      wb_i32(&c->out, n);
      for (int i = 0; i < nparts; i++)
        if (parts[i].r.target_end < 0 && leader_of(cl, parts[i].r.partition) == node) {
          wb_i32(&c->out, parts[i].r.partition);
          wb_i32(&c->out, -1);
          wb_i64(&c->out, -1); /* latest */
        }
      rbuf_t r;
      int32_t corr = req_send(c);
      if (corr < 0 || resp_read(c, corr, &r)) continue;
      rb_i32(&r);
      int32_t nt = rb_i32(&r);
      for (int32_t t = 0; t < nt && !r.bad; t++) {
        int32_t nl;
        rb_str(&r, &nl);
        int32_t np = rb_i32(&r);
        for (int32_t p = 0; p < np && !r.bad; p++) {
          int32_t index = rb_i32(&r);
          int16_t err = rb_i16(&r);
          rb_i64(&r);
          int64_t offset = rb_i64(&r);
          rb_i32(&r);
          if (r.bad) break;
          for (int i = 0; i < nparts; i++)
            if (parts[i].r.partition == index) {
              if (!err) parts[i].r.target_end = offset;
              else if (!retriable(err)) {
                emit("FAILED %" PRId32 " reading the target's end offset: error %d", index, err);
                return -1;
              }
            }
        }
      }
    }
    cluster_drop_connections(cl);
    int missing_now = 0;
    for (int i = 0; i < nparts; i++) missing_now += parts[i].r.target_end < 0;
    if (missing_now) sleep_ms(500);
  }
}

static int read_ends_of(void *cl) { return read_ends(cl); }

/* Target end offsets as a read_committed reader sees them (settled): what a retried copy finds already written. */
static int target_ends(const char *topic) {
  cluster_t *cl = calloc(1, sizeof *cl);
  cl->bootstrap = target_bootstrap;
  cl->topic = topic;
  cl->side = "target";
  int rc = settled_target_ends(read_ends_of, cl);
  cluster_drop_connections(cl);
  free(cl->leader);
  free(cl);
  return rc;
}

/* ---------- workers: a reader (Fetch) and a writer (Produce) over a share of the partitions ---------- */

typedef struct {
  part_t *parts[MAX_PARTITIONS];
  int n;
  const char *source_topic, *target_topic;
  int64_t producer_id;
  int16_t producer_epoch;
  pthread_mutex_t lock;
  pthread_cond_t changed;
  /* Encoded and not yet acknowledged: the reader waits while this is over the limit. */
  size_t queued_bytes;
  int reader_done;
  pthread_t reader, writer;
  wbuf_t scratch;
} worker_t;

/* Waits (w->lock held) until the other thread of the worker signals a change, or ms pass. */
static void wait_changed(worker_t *w, int ms) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_nsec += (long)ms * 1000000;
  if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
  pthread_cond_timedwait(&w->changed, &w->lock, &until);
}

/* What the reader holds unacknowledged per worker before it waits for the writer. */
#define QUEUE_LIMIT (48u << 20)

/* Java's DefaultRecordBatch.incrementSequence: sequences wrap to 0 after Integer.MAX_VALUE. */
static int32_t next_sequence(int32_t seq, int32_t by) {
  if (seq > INT32_MAX - by) return by - (INT32_MAX - seq) - 1;
  return seq + by;
}

#define BATCH_HEADER 61

/* Closes the partition's batch being built: header, producer id, sequence, CRC; queued for the writer. */
static void seal_batch(worker_t *w, part_t *s) {
  if (s->build_count == 0) return;
  uint8_t *h = s->build.p;
  put_i64(h, 0);
  put_i32(h + 8, (int32_t)(s->build.len - 12));
  put_i32(h + 12, -1);
  h[16] = 2;
  h[21] = 0, h[22] = 0; /* attributes: uncompressed, CreateTime, not transactional */
  put_i32(h + 23, s->build_count - 1);
  put_i64(h + 27, s->build_first_ts);
  put_i64(h + 35, s->build_max_ts);
  put_i64(h + 43, w->producer_id);
  h[51] = (uint8_t)((uint16_t)w->producer_epoch >> 8), h[52] = (uint8_t)w->producer_epoch;
  put_i32(h + 53, s->next_seq);
  put_i32(h + 57, s->build_count);
  put_i32(h + 17, (int32_t)crc32c(h + 21, s->build.len - 21));
  s->next_seq = next_sequence(s->next_seq, s->build_count);

  outbatch_t *b = xmalloc(sizeof *b);
  /* Held to the bytes it carries (the build buffer is sized for a full batch): the queue's limit counts them. */
  *b = (outbatch_t){.buf = xrealloc(s->build.p, s->build.len), .len = s->build.len, .count = s->build_count, .last_src = s->build_last_src, .bytes = s->build_bytes};
  s->build = (wbuf_t){0};
  s->build_count = 0;
  pthread_mutex_lock(&w->lock);
  s->encoded += b->count;
  if (s->tail) s->tail->next = b;
  else s->head = b;
  s->tail = b;
  w->queued_bytes += b->len;
  pthread_cond_broadcast(&w->changed);
  pthread_mutex_unlock(&w->lock);
}

/* Appends one record (the source's bytes after its offset delta) to the partition's batch being built. */
static void add_record(worker_t *w, part_t *s, int8_t attrs, int64_t ts, int64_t offset, const uint8_t *rest, size_t rest_len, int64_t kv_bytes) {
  size_t need_est = rest_len + 1 + 10 + 5 + 5;
  if (s->build_count > 0 && (s->build.len + need_est > batch_bytes || s->build_count == INT32_MAX)) seal_batch(w, s);
  if (s->build_count == 0) {
    s->build.len = 0;
    wb_need(&s->build, batch_bytes + BATCH_HEADER);
    s->build.len = BATCH_HEADER;
    s->build_first_ts = ts;
    s->build_max_ts = ts;
    s->build_bytes = 0;
  }
  int64_t ts_delta = ts - s->build_first_ts;
  int32_t offset_delta = s->build_count;
  size_t body = 1 + (size_t)svarint_size(ts_delta) + (size_t)svarint_size(offset_delta) + rest_len;
  wb_need(&s->build, body + 10);
  uint8_t *p = s->build.p + s->build.len;
  p += put_svarint(p, (int64_t)body);
  *p++ = (uint8_t)attrs;
  p += put_svarint(p, ts_delta);
  p += put_svarint(p, offset_delta);
  memcpy(p, rest, rest_len);
  p += rest_len;
  s->build.len = (size_t)(p - s->build.p);
  s->build_count++;
  if (ts > s->build_max_ts) s->build_max_ts = ts;
  s->build_last_src = offset;
  s->build_bytes += kv_bytes;
}

/* Decompresses a batch's records into w->scratch; 0 on success. Kafka's codecs: 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
/* A batch that decompresses to more than this is refused: no copier needs it, and it would exhaust memory. */
#define MAX_DECOMPRESSED ((size_t)1 << 30)

static int decompress(worker_t *w, int codec, const uint8_t *in, size_t n) {
  wbuf_t *o = &w->scratch;
  o->len = 0;
  if (codec == 1) {
    z_stream z = {0};
    if (inflateInit2(&z, 15 + 32) != Z_OK) return -1;
    z.next_in = (uint8_t *)in;
    z.avail_in = (uInt)n;
    int rc;
    do {
      if (o->len > MAX_DECOMPRESSED) break;
      wb_need(o, n * 2 + 65536);
      z.next_out = o->p + o->len;
      z.avail_out = (uInt)(o->cap - o->len);
      rc = inflate(&z, Z_NO_FLUSH);
      o->len = o->cap - z.avail_out;
    } while (rc == Z_OK);
    inflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
  }
  if (codec == 2) {
    /* Kafka's Java client frames snappy as xerial's stream (a 16-byte header, then length-prefixed blocks); others send one raw block. */
    static const uint8_t xerial[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
    if (n >= 16 && !memcmp(in, xerial, 8)) {
      size_t pos = 16;
      while (pos < n) {
        if (n - pos < 4) return -1;
        uint32_t blen = get_u32(in + pos);
        pos += 4;
        if (blen > n - pos) return -1;
        size_t out_len;
        if (snappy_uncompressed_length((const char *)in + pos, blen, &out_len) != SNAPPY_OK || o->len + out_len > MAX_DECOMPRESSED) return -1;
        wb_need(o, out_len);
        if (snappy_uncompress((const char *)in + pos, blen, (char *)o->p + o->len, &out_len) != SNAPPY_OK) return -1;
        o->len += out_len;
        pos += blen;
      }
      return 0;
    }
    size_t out_len;
    if (snappy_uncompressed_length((const char *)in, n, &out_len) != SNAPPY_OK || out_len > MAX_DECOMPRESSED) return -1;
    wb_need(o, out_len);
    if (snappy_uncompress((const char *)in, n, (char *)o->p, &out_len) != SNAPPY_OK) return -1;
    o->len = out_len;
    return 0;
  }
  if (codec == 3) {
    LZ4F_dctx *d;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION))) return -1;
    size_t pos = 0, rc = 1;
    while (pos < n && rc != 0 && o->len <= MAX_DECOMPRESSED) {
      wb_need(o, n * 2 + 65536);
      size_t out_len = o->cap - o->len, in_len = n - pos;
      rc = LZ4F_decompress(d, o->p + o->len, &out_len, in + pos, &in_len, NULL);
      if (LZ4F_isError(rc)) break;
      o->len += out_len;
      pos += in_len;
      if (in_len == 0 && out_len == 0) break;
    }
    LZ4F_freeDecompressionContext(d);
    return rc == 0 ? 0 : -1;
  }
  if (codec == 4) {
    ZSTD_DStream *d = ZSTD_createDStream();
    if (!d) return -1;
    ZSTD_initDStream(d);
    ZSTD_inBuffer ib = {in, n, 0};
    size_t rc = 1;
    while ((ib.pos < ib.size || rc != 0) && o->len <= MAX_DECOMPRESSED) {
      wb_need(o, n * 2 + 65536);
      ZSTD_outBuffer ob = {o->p + o->len, o->cap - o->len, 0};
      rc = ZSTD_decompressStream(d, &ob, &ib);
      if (ZSTD_isError(rc)) break;
      o->len += ob.pos;
      if (ob.pos == 0 && ib.pos == ib.size) break;
    }
    ZSTD_freeDStream(d);
    return rc == 0 ? 0 : -1;
  }
  return -1;
}

/* The aborted transactions a fetch answer named for a partition, and the producers now inside one. */
typedef struct {
  int64_t pid, first;
} aborted_txn_t;

typedef struct {
  aborted_txn_t *txns;
  int n, next;
  int64_t *pids;
  int npids;
} aborts_t;

static int by_first(const void *a, const void *b) {
  const aborted_txn_t *x = a, *y = b;
  return x->first < y->first ? -1 : x->first > y->first;
}

static int aborts_has(aborts_t *a, int64_t pid) {
  for (int i = 0; i < a->npids; i++)
    if (a->pids[i] == pid) return 1;
  return 0;
}

/* Consumes the records of one fetched partition. Returns 0, or -1 after fail(). */
static int take_records(worker_t *w, part_t *s, const uint8_t *p, size_t n, aborts_t *ab) {
  const uint8_t *end = p + n;
  int64_t now = now_ms();
  while (s->reading && end - p >= 12 + BATCH_HEADER - 12) {
    int64_t base = get_i64(p);
    int32_t blen = (int32_t)get_u32(p + 8);
    /* The answer may end with part of a batch: it is fetched again next time. */
    if (blen < BATCH_HEADER - 12 || end - p < 12 + blen) break;
    const uint8_t *b = p;
    p += 12 + blen;
    if (b[16] != 2) {
      fail("%" PRId32 " the source holds records in message format v%d at offset %" PRId64 "; this copier reads v2 only", s->r.partition, b[16], base);
      return -1;
    }
    int16_t attrs = (int16_t)(b[21] << 8 | b[22]);
    int32_t last_delta = (int32_t)get_u32(b + 23);
    int64_t first_ts = get_i64(b + 27), max_ts = get_i64(b + 35), pid = get_i64(b + 43);
    int32_t count = (int32_t)get_u32(b + 57);
    int64_t last = base + last_delta;
    if (last < s->next_fetch) continue;
    int control = attrs & 0x20, transactional = attrs & 0x10, codec = attrs & 7, log_append = attrs & 0x08;
    /* read_committed, as Kafka's consumer does it: a transactional batch of a producer inside an aborted
     * transaction is left out; that producer's abort marker ends it. */
    if (pid >= 0) {
      while (ab->next < ab->n && ab->txns[ab->next].first <= last) {
        if (!aborts_has(ab, ab->txns[ab->next].pid)) {
          ab->pids = xrealloc(ab->pids, sizeof(int64_t) * (size_t)(ab->npids + 1));
          ab->pids[ab->npids++] = ab->txns[ab->next].pid;
        }
        ab->next++;
      }
    }
    if (control) {
      /* A control record's key: version int16, type int16 (0 abort, 1 commit). */
      const uint8_t *r = b + BATCH_HEADER, *rend = b + 12 + blen;
      int64_t len, ts_delta, off_delta, klen;
      if (count > 0 && !svarint(&r, rend, &len) && r < rend && (r++, !svarint(&r, rend, &ts_delta)) && !svarint(&r, rend, &off_delta) && !svarint(&r, rend, &klen) && klen >= 4 && rend - r >= 4) {
        int16_t type = (int16_t)(r[2] << 8 | r[3]);
        if (type == 0 && transactional)
          for (int i = 0; i < ab->npids; i++)
            if (ab->pids[i] == pid) ab->pids[i] = ab->pids[--ab->npids];
      }
      s->next_fetch = last + 1;
      goto next;
    }
    if (transactional && aborts_has(ab, pid)) {
      s->next_fetch = last + 1;
      goto next;
    }
    const uint8_t *r = b + BATCH_HEADER, *rend = b + 12 + blen;
    if (codec) {
      if (decompress(w, codec, r, (size_t)(rend - r))) {
        fail("%" PRId32 " cannot decompress the batch at offset %" PRId64 " (codec %d)", s->r.partition, base, codec);
        return -1;
      }
      r = w->scratch.p;
      rend = w->scratch.p + w->scratch.len;
    }
    for (int32_t i = 0; i < count; i++) {
      int64_t len, ts_delta, off_delta, klen, vlen;
      if (svarint(&r, rend, &len) || len < 1 || rend - r < len) goto corrupt;
      const uint8_t *rec_end = r + len;
      int8_t rattrs = (int8_t)*r++;
      if (svarint(&r, rec_end, &ts_delta) || svarint(&r, rec_end, &off_delta)) goto corrupt;
      const uint8_t *rest = r;
      /* Keys and values counted as the other copiers count them: their bytes. */
      if (svarint(&r, rec_end, &klen) || (klen > 0 && rec_end - r < klen)) goto corrupt;
      if (klen > 0) r += klen;
      if (svarint(&r, rec_end, &vlen) || (vlen > 0 && rec_end - r < vlen)) goto corrupt;
      r = rec_end;
      int64_t offset = base + off_delta;
      if (offset < s->next_fetch) continue;
      if (offset >= s->r.to) {
        s->reading = 0;
        break;
      }
      s->next_fetch = offset + 1;
      s->last_progress_ms = now;
      if (s->r.skip > 0) {
        pthread_mutex_lock(&w->lock);
        if (--s->r.skip == 0) {
          /* Everything up to here is already on the target: the acknowledged prefix starts after it. */
          s->r.acked_src = offset + 1;
          s->r.acked_tgt = s->r.target_end;
        }
        pthread_mutex_unlock(&w->lock);
        continue;
      }
      add_record(w, s, rattrs, log_append ? max_ts : first_ts + ts_delta, offset, rest, (size_t)(rec_end - rest), (klen > 0 ? klen : 0) + (vlen > 0 ? vlen : 0));
    }
    if (s->reading && last + 1 > s->next_fetch) s->next_fetch = last + 1;
  next:
    /* The range's tail may be transaction markers or aborted records: read past, nothing more to copy. */
    if (s->next_fetch >= s->r.to) s->reading = 0;
    continue;
  corrupt:
    fail("%" PRId32 " the batch at offset %" PRId64 " does not parse as records", s->r.partition, base);
    return -1;
  }
  return 0;
}

static void *read_share(void *arg) {
  worker_t *w = arg;
  cluster_t *cl = calloc(1, sizeof *cl);
  cl->bootstrap = source_bootstrap;
  cl->topic = w->source_topic;
  cl->side = "source";
  aborts_t ab = {0};
  int need_metadata = 1;
  int64_t refresh_backoff_until = 0;
  for (;;) {
    int reading = 0;
    for (int i = 0; i < w->n; i++) reading += w->parts[i]->reading;
    if (!reading || aborted()) break;
    /* Back-pressure: wait for the writer while the encoded backlog is over the limit. */
    pthread_mutex_lock(&w->lock);
    while (w->queued_bytes > QUEUE_LIMIT && !aborted()) {
      wait_changed(w, 200);
      int64_t now = now_ms();
      for (int i = 0; i < w->n; i++) w->parts[i]->last_progress_ms = now;
    }
    pthread_mutex_unlock(&w->lock);
    if (aborted()) break;
    if (need_metadata) {
      if (now_ms() < refresh_backoff_until) sleep_ms((int)(refresh_backoff_until - now_ms()));
      if (refresh_metadata(cl)) break;
      need_metadata = 0;
      refresh_backoff_until = now_ms() + 500;
    }
    /* One Fetch per leader, sent to all of them before reading any answer. */
    int32_t sent_corr[MAX_BROKERS];
    for (int bi = 0; bi < cl->nbrokers; bi++) {
      sent_corr[bi] = -1;
      int32_t node = cl->brokers[bi].id, n = 0;
      for (int i = 0; i < w->n; i++) n += w->parts[i]->reading && leader_of(cl, w->parts[i]->r.partition) == node;
      if (!n) continue;
      conn_t *c = broker_conn(cl, node);
      if (!c) {
        need_metadata = 1;
        continue;
      }
      req_begin(c, 1, V_FETCH);
      wb_i32(&c->out, -1);      /* replica id: a consumer */
      wb_i32(&c->out, 500);     /* max wait */
      wb_i32(&c->out, 1);       /* min bytes */
      wb_i32(&c->out, 8 << 20); /* max bytes */
      wb_i8(&c->out, 1);        /* read_committed */
      wb_i32(&c->out, 0);       /* no fetch session */
      wb_i32(&c->out, -1);
      wb_i32(&c->out, 1);
      wb_str(&c->out, w->source_topic);
      wb_i32(&c->out, n);
      for (int i = 0; i < w->n; i++) {
        part_t *s = w->parts[i];
        if (!s->reading || leader_of(cl, s->r.partition) != node) continue;
        wb_i32(&c->out, s->r.partition);
        wb_i32(&c->out, -1); /* current leader epoch: not checked */
        wb_i64(&c->out, s->next_fetch);
        wb_i64(&c->out, -1);
        wb_i32(&c->out, 4 << 20);
      }
      wb_i32(&c->out, 0); /* forgotten topics */
      wb_str(&c->out, "");
      sent_corr[bi] = req_send(c);
      if (sent_corr[bi] < 0) need_metadata = 1;
    }
    for (int i = 0; i < w->n; i++)
      if (w->parts[i]->reading && leader_of(cl, w->parts[i]->r.partition) < 0) need_metadata = 1;
    for (int bi = 0; bi < cl->nbrokers && !aborted(); bi++) {
      if (sent_corr[bi] < 0) continue;
      conn_t *c = &cl->brokers[bi].conn;
      rbuf_t r;
      if (resp_read(c, sent_corr[bi], &r)) {
        need_metadata = 1;
        continue;
      }
      rb_i32(&r); /* throttle */
      int16_t top_err = rb_i16(&r);
      rb_i32(&r); /* session */
      if (top_err) {
        if (!retriable(top_err)) {
          fail("fetching from the source: error %d", top_err);
          break;
        }
        need_metadata = 1;
        continue;
      }
      int32_t nt = rb_i32(&r);
      for (int32_t t = 0; t < nt && !r.bad; t++) {
        int32_t nl;
        rb_str(&r, &nl);
        int32_t np = rb_i32(&r);
        for (int32_t q = 0; q < np && !r.bad; q++) {
          int32_t index = rb_i32(&r);
          int16_t err = rb_i16(&r);
          rb_i64(&r), rb_i64(&r), rb_i64(&r); /* high watermark, last stable offset, log start */
          int32_t na = rb_i32(&r);
          ab.n = ab.next = ab.npids = 0;
          if (na > 0) {
            ab.txns = xrealloc(ab.txns, sizeof(aborted_txn_t) * (size_t)na);
            for (int32_t k = 0; k < na && !r.bad; k++) {
              ab.txns[k].pid = rb_i64(&r);
              ab.txns[k].first = rb_i64(&r);
            }
            ab.n = na;
            qsort(ab.txns, (size_t)na, sizeof(aborted_txn_t), by_first);
          }
          rb_i32(&r); /* preferred read replica */
          int32_t rl;
          const uint8_t *records = rb_bytes(&r, &rl);
          if (r.bad) break;
          part_t *s = NULL;
          for (int i = 0; i < w->n; i++)
            if (w->parts[i]->r.partition == index) s = w->parts[i];
          if (!s || !s->reading) continue;
          if (err == 1) {
            fail("%" PRId32 " the backup no longer holds offset %" PRId64 " (retention or deletion moved its start past it)", index, s->next_fetch);
            break;
          }
          if (err) {
            if (!retriable(err)) {
              fail("%" PRId32 " fetching from the source: error %d", index, err);
              break;
            }
            need_metadata = 1;
            continue;
          }
          if (records && rl > 0 && take_records(w, s, records, (size_t)rl, &ab)) break;
          /* Whatever this answer gave goes to the writer now: a batch is never held back for the next fetch. */
          seal_batch(w, s);
        }
      }
      if (r.bad && !aborted()) {
        fprintf(stderr, "a fetch answer from broker %d did not parse; fetching again\n", c->node);
        conn_close(c);
        need_metadata = 1;
      }
    }
    int64_t now = now_ms();
    for (int i = 0; i < w->n; i++) {
      part_t *s = w->parts[i];
      if (s->reading && now - s->last_progress_ms > stall_ms)
        fail("%" PRId32 " the source delivered nothing for %" PRId64 " ms short of %" PRId64 " (acknowledged up to %" PRId64 ")", s->r.partition, stall_ms, s->r.to, s->r.acked_src);
    }
  }
  for (int i = 0; i < w->n; i++) {
    part_t *s = w->parts[i];
    if (!aborted()) seal_batch(w, s);
    if (!aborted() && s->r.skip > 0) fail("%" PRId32 " the target holds %" PRId64 " records more than the backup range: another writer?", s->r.partition, s->r.skip);
  }
  cluster_drop_connections(cl);
  free(cl->leader);
  free(cl);
  free(ab.txns);
  free(ab.pids);
  pthread_mutex_lock(&w->lock);
  w->reader_done = 1;
  pthread_cond_broadcast(&w->changed);
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

/* A Produce request in flight: the batch it carries for each partition. */
typedef struct {
  int32_t node, corr;
  int n;
  part_t **parts;
  outbatch_t **batches;
} inflight_t;

/* The n-th unanswered-or-unsent batch of a partition: the first `inflight` are sent. */
static outbatch_t *nth_batch(part_t *s, int k) {
  outbatch_t *b = s->head;
  while (b && k-- > 0) b = b->next;
  return b;
}

static void *write_share(void *arg) {
  worker_t *w = arg;
  cluster_t *cl = calloc(1, sizeof *cl);
  cl->bootstrap = target_bootstrap;
  cl->topic = w->target_topic;
  cl->side = "target";
  inflight_t fifo[MAX_BROKERS * MAX_INFLIGHT];
  int fhead = 0, fcount = 0;
  const int fcap = (int)(sizeof fifo / sizeof fifo[0]);
  int need_metadata = 1;
  int64_t last_progress = 0, backoff_until = 0, leaderless_since = 0;
  for (;;) {
    if (aborted()) break;
    int64_t now = now_ms();
    if (now - last_progress >= 1000) {
      last_progress = now;
      pthread_mutex_lock(&w->lock);
      for (int i = 0; i < w->n; i++) progress("PROGRESS", &w->parts[i]->r);
      pthread_mutex_unlock(&w->lock);
    }
    if (need_metadata && fcount == 0) {
      if (now < backoff_until) sleep_ms((int)(backoff_until - now));
      if (refresh_metadata(cl)) break;
      need_metadata = 0;
      backoff_until = now_ms() + 1000;
    }
    /* Send: per leader, one batch of each partition that has one unsent (at most 5 in flight per partition and connection). */
    int sent_any = 0;
    pthread_mutex_lock(&w->lock);
    /* A partition with batches to send and no leader: ask again, and give up after the delivery timeout. */
    int leaderless = 0;
    for (int i = 0; i < w->n; i++) leaderless += w->parts[i]->head && leader_of(cl, w->parts[i]->r.partition) < 0;
    if (!leaderless) leaderless_since = 0;
    else if (!leaderless_since) leaderless_since = now;
    else if (now - leaderless_since > DELIVERY_TIMEOUT_MS) {
      pthread_mutex_unlock(&w->lock);
      fail("the target topic %s has partitions without a leader for %d s (or fewer partitions than the range)", w->target_topic, DELIVERY_TIMEOUT_MS / 1000);
      break;
    }
    if (leaderless && !need_metadata && now >= backoff_until) need_metadata = 1;
    int pending = 0, done = w->reader_done;
    for (int i = 0; i < w->n; i++) pending += w->parts[i]->head != NULL;
    if (!need_metadata) {
      for (int bi = 0; bi < cl->nbrokers && fcount < fcap; bi++) {
        int32_t node = cl->brokers[bi].id;
        int on_node = 0;
        for (int k = 0; k < fcount; k++) on_node += fifo[(fhead + k) % fcap].node == node;
        if (on_node >= MAX_INFLIGHT) continue;
        int n = 0;
        for (int i = 0; i < w->n; i++) {
          part_t *s = w->parts[i];
          if (leader_of(cl, s->r.partition) == node && s->inflight < MAX_INFLIGHT && nth_batch(s, s->inflight)) n++;
        }
        if (!n) continue;
        pthread_mutex_unlock(&w->lock);
        conn_t *c = broker_conn(cl, node);
        pthread_mutex_lock(&w->lock);
        if (!c) {
          need_metadata = 1;
          break;
        }
        inflight_t *f = &fifo[(fhead + fcount) % fcap];
        f->node = node;
        f->n = 0;
        f->parts = xmalloc(sizeof(part_t *) * (size_t)n);
        f->batches = xmalloc(sizeof(outbatch_t *) * (size_t)n);
        req_begin(c, 0, V_PRODUCE);
        wb_str(&c->out, NULL); /* no transactional id */
        wb_i16(&c->out, -1);   /* acks=all */
        wb_i32(&c->out, REQUEST_TIMEOUT_MS);
        wb_i32(&c->out, 1);
        wb_str(&c->out, w->target_topic);
        wb_i32(&c->out, n);
        for (int i = 0; i < w->n && f->n < n; i++) {
          part_t *s = w->parts[i];
          outbatch_t *b;
          if (leader_of(cl, s->r.partition) != node || s->inflight >= MAX_INFLIGHT || !(b = nth_batch(s, s->inflight))) continue;
          wb_i32(&c->out, s->r.partition);
          wb_i32(&c->out, (int32_t)b->len);
          wb_bytes(&c->out, b->buf, b->len);
          if (!b->first_sent_ms) b->first_sent_ms = now_ms();
          s->inflight++;
          f->parts[f->n] = s;
          f->batches[f->n++] = b;
        }
        pthread_mutex_unlock(&w->lock);
        f->corr = req_send(c);
        pthread_mutex_lock(&w->lock);
        fcount++;
        sent_any = 1;
        if (f->corr < 0) need_metadata = 1;
      }
    }
    if (fcount == 0) {
      if (done && pending == 0) {
        pthread_mutex_unlock(&w->lock);
        break;
      }
      if (!sent_any && !need_metadata) wait_changed(w, 100);
      pthread_mutex_unlock(&w->lock);
      continue;
    }
    pthread_mutex_unlock(&w->lock);

    /* Read the oldest answer. */
    inflight_t *f = &fifo[fhead];
    conn_t *c = broker_conn(cl, f->node);
    rbuf_t r;
    int broken = f->corr < 0 || !c || c->fd < 0 || resp_read(c, f->corr, &r);
    int32_t throttle = 0;
    pthread_mutex_lock(&w->lock);
    if (!broken) {
      int32_t nt = rb_i32(&r);
      int answered = 0;
      for (int32_t t = 0; t < nt && !r.bad; t++) {
        int32_t nl;
        rb_str(&r, &nl);
        int32_t np = rb_i32(&r);
        for (int32_t q = 0; q < np && !r.bad; q++) {
          int32_t index = rb_i32(&r);
          int16_t err = rb_i16(&r);
          int64_t base = rb_i64(&r);
          rb_i64(&r), rb_i64(&r); /* log append time, log start */
          if (r.bad) break;
          int k = 0;
          while (k < f->n && (!f->parts[k] || f->parts[k]->r.partition != index)) k++;
          if (k == f->n) continue;
          part_t *s = f->parts[k];
          outbatch_t *b = f->batches[k];
          f->parts[k] = NULL; /* answered */
          answered++;
          if (s->head != b) {
            fail("%" PRId32 " an answer for a batch that is not the oldest unacknowledged one", index);
            break;
          }
          /* 46 DUPLICATE_SEQUENCE_NUMBER: the broker holds this batch already (sent again after a lost answer). */
          if (err == 0 || err == 46) {
            if (err == 0 && base != s->r.acked_tgt) {
              fail("%" PRId32 " the target wrote the batch at offset %" PRId64 ", expected %" PRId64 ": another writer?", index, base, s->r.acked_tgt);
              break;
            }
            s->r.acked_src = b->last_src + 1;
            s->r.acked_tgt += b->count;
            s->r.copied += b->count;
            s->r.bytes += b->bytes;
            s->head = b->next;
            if (!s->head) s->tail = NULL;
            s->inflight--;
            w->queued_bytes -= b->len;
            free(b->buf);
            free(b);
            pthread_cond_broadcast(&w->changed);
          } else if (retriable(err)) {
            fprintf(stderr, "partition %" PRId32 ": produce error %d, sending again\n", index, err);
            broken = 1;
          } else {
            fail("%" PRId32 " the target refused a batch: error %d%s", index, err,
                 err == 45 ? " (sequence out of order)" : err == 59 ? " (unknown producer id)" : err == 10 || err == 18 ? " (too large for the topic)" : "");
            break;
          }
        }
      }
      throttle = rb_i32(&r);
      if (!aborted() && (r.bad || answered != f->n)) {
        fprintf(stderr, "a produce answer from broker %d did not cover its request\n", f->node);
        broken = 1;
      }
    }
    free(f->parts);
    free(f->batches);
    fhead = (fhead + 1) % fcap;
    fcount--;
    if (broken && !aborted()) {
      /* Every unanswered request is dropped with the connections, and the batches are sent again, in order,
       * with the same sequences: the broker recognises those it already wrote and answers with their offsets. */
      for (int k = 0; k < fcount; k++) {
        inflight_t *g = &fifo[(fhead + k) % fcap];
        free(g->parts);
        free(g->batches);
      }
      fcount = 0;
      fhead = 0;
      int64_t now2 = now_ms();
      for (int i = 0; i < w->n; i++) {
        part_t *s = w->parts[i];
        s->inflight = 0;
        if (s->head && s->head->first_sent_ms && now2 - s->head->first_sent_ms > DELIVERY_TIMEOUT_MS)
          fail("%" PRId32 " a batch unacknowledged after the delivery timeout (%d s)", s->r.partition, DELIVERY_TIMEOUT_MS / 1000);
      }
      cluster_drop_connections(cl);
      need_metadata = 1;
    }
    pthread_mutex_unlock(&w->lock);
    if (throttle > 0) sleep_ms(throttle > 30000 ? 30000 : throttle);
  }
  cluster_drop_connections(cl);
  free(cl->leader);
  free(cl);
  return NULL;
}

/* One producer id per worker: its partitions are its own, so sequences start at 0 for each. */
static int init_producer(worker_t *w) {
  cluster_t *cl = calloc(1, sizeof *cl);
  cl->bootstrap = target_bootstrap;
  cl->topic = w->target_topic;
  cl->side = "target";
  int64_t deadline = now_ms() + 60000;
  int rc = -1;
  while (rc && now_ms() < deadline && !aborted()) {
    if (refresh_metadata(cl)) break;
    conn_t *c = cl->nbrokers ? broker_conn(cl, cl->brokers[0].id) : NULL;
    if (c) {
      req_begin(c, 22, V_INIT_PRODUCER_ID);
      wb_str(&c->out, NULL);
      wb_i32(&c->out, 60000);
      rbuf_t r;
      int32_t corr = req_send(c);
      if (corr >= 0 && !resp_read(c, corr, &r)) {
        rb_i32(&r);
        int16_t err = rb_i16(&r);
        int64_t pid = rb_i64(&r);
        int16_t epoch = rb_i16(&r);
        if (!r.bad && !err) {
          w->producer_id = pid;
          w->producer_epoch = epoch;
          rc = 0;
        } else if (!r.bad && !retriable(err) && err != 14 && err != 15 && err != 16) {
          fail("the target refused a producer id: error %d", err);
          break;
        }
      }
    }
    cluster_drop_connections(cl);
    if (rc) sleep_ms(500);
  }
  if (rc && !aborted()) fail("no producer id from the target within a minute");
  free(cl->leader);
  free(cl);
  return rc;
}

int main(int argc, char **argv) {
  skip_tag(&argc, &argv);
  if (argc == 2 && !strcmp(argv[1], "version")) {
    emit("VERSION wire=%d ok", WIRE_VERSION);
    return 0;
  }
  if (argc < 5 || strcmp(argv[1], "copy")) usage();
  /* Batches and fetch answers are large and freed by another thread than the one that allocated them: one heap
   * that keeps freed memory for reuse, instead of mapping and zeroing fresh pages for each. */
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  crc_init();
  const char *source_topic = argv[2], *target_topic = argv[3];
  if (argc - 4 > MAX_PARTITIONS) usage();
  for (int i = 4; i < argc; i++) parse_range(argv[i], &parts[nparts++].r);
  const char *env = getenv("RESTORE_STALL_MS");
  if (env) stall_ms = atoll(env);
  env = getenv("RESTORE_WORKERS");
  if (env) workers_wanted = atoi(env);
  if (workers_wanted < 1 || workers_wanted > MAX_WORKERS) workers_wanted = 2;
  read_settings();
  int64_t started = now_ms();
  if (target_ends(target_topic)) return 1;

  int reading = 0;
  for (int i = 0; i < nparts; i++) {
    part_t *s = &parts[i];
    int started_range = start_range(&s->r);
    if (started_range < 0) return 1;
    s->next_fetch = s->r.acked_src;
    s->last_progress_ms = now_ms();
    s->reading = started_range;
    reading += started_range;
  }

  /* The partitions to read, dealt round-robin to the workers. */
  int nworkers = workers_wanted < reading ? workers_wanted : reading;
  static worker_t workers[MAX_WORKERS];
  for (int i = 0, k = 0; i < nparts; i++)
    if (parts[i].reading) {
      worker_t *w = &workers[k++ % nworkers];
      w->parts[w->n++] = &parts[i];
    }
  for (int k = 0; k < nworkers; k++) {
    worker_t *w = &workers[k];
    w->source_topic = source_topic;
    w->target_topic = target_topic;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->changed, NULL);
    if (init_producer(w)) break;
    if (pthread_create(&w->reader, NULL, read_share, w) || pthread_create(&w->writer, NULL, write_share, w)) {
      emit("FAILED cannot start a copy thread");
      return 1;
    }
  }
  for (int k = 0; k < nworkers; k++) {
    if (workers[k].reader) pthread_join(workers[k].reader, NULL);
    if (workers[k].writer) pthread_join(workers[k].writer, NULL);
  }

  for (int i = 0; i < nparts; i++) {
    part_t *s = &parts[i];
    if (!aborted() && s->reading == 0 && s->r.copied != s->r.copied_before + s->encoded)
      fail("%" PRId32 " encoded %" PRId64 " records but %" PRId64 " were acknowledged", s->r.partition, s->encoded, s->r.copied - s->r.copied_before);
  }
  return finish(started);
}
