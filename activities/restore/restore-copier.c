/*
 * The restore copier on librdkafka: the copy half of RestoreCopier.java, with the same command line, the same
 * resume protocol and the same output lines, built on the copy host from this file:
 *   cc -O2 -pthread -o restore-copier restore-copier.c -lrdkafka
 *   restore-copier [--tag=KEY] copy SOURCE_TOPIC TARGET_TOPIC P:FROM:TO:BASE[:HINTSRC:HINTTGT] ...
 *   restore-copier version      prints VERSION librdkafka=X ok|too-old (and exits 1 when too old)
 * Client settings come on standard input as `source.NAME=VALUE` / `target.NAME=VALUE` lines in librdkafka's
 * names (secrets never on the command line); values are escaped as in Java properties (\\, \n, \r, a leading
 * "\ ").
 *
 * For each partition P, the committed records of the source at offsets [FROM, TO) go to partition P of the
 * target with key, value (null kept apart from empty), headers in order and timestamp; idempotent producer,
 * acks=all. BASE is the target's end offset before the restore wrote anything: the target's records from BASE
 * on are copies, in order, of the source's records from FROM on, so a retried copy counts what is already
 * there (target end - BASE) and skips that many source records. HINTSRC:HINTTGT, a pair an earlier attempt
 * reported as acknowledged, lets the skip start there instead of at FROM. Lines on stdout:
 *   START P from=N to=N skip=N              where the copy of P resumes
 *   PROGRESS P src=N tgt=N copied=N bytes=N  records acknowledged so far: source next N, target next N
 *   DONE P src=N tgt=N copied=N bytes=N      P complete (every record of the range acknowledged)
 *   FAILED P message                          the copy cannot go on: the copier exits 1
 *   SUMMARY copied=N bytes=N ms=N            all partitions done
 *
 * Why librdkafka: on the lab it copies twice as fast as Kafka's Java client, which deserializes every record
 * into objects (README, Benchmarks), and it passed the same loss test. Each consumed message is handed to the
 * producer as it is and kept until its delivery report.
 * The verification stays on Kafka's Java client (RestoreCopier.java digest): the copy is checked by another
 * implementation than the one that wrote it.
 */
#include <malloc.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>

static void usage(void);
#include "copier-common.h"

/* The oldest librdkafka measured lossless on the lab (acks=all, idempotent, a rolling restart). */
#define MIN_RDKAFKA_VERSION 0x020002ff
#define BATCH 4096
#define MAX_WORKERS 16

typedef struct {
  range_t r;
  int64_t sent;
  int reading, started;
  /* A record of this partition failed: nothing after it counts as acknowledged. */
  int broken;
  int64_t last_progress_ms;
} part_t;

static part_t parts[MAX_PARTITIONS];
static int nparts;
static int64_t stall_ms = 120000;
/* Workers, each with its own consumer and producer (RESTORE_WORKERS, 1 to 16). */
static int workers_wanted = 4;


static part_t *part_of(int32_t p) {
  for (int i = 0; i < nparts; i++)
    if (parts[i].r.partition == p) return &parts[i];
  return NULL;
}

static void usage(void) {
  fprintf(stderr, "usage: restore-copier [--tag=KEY] copy SOURCE_TOPIC TARGET_TOPIC P:FROM:TO:BASE[:HINTSRC:HINTTGT] ... | version\n");
  exit(2);
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
  char err[512];
  if (rd_kafka_conf_set(conf, name, value, err, sizeof err) != RD_KAFKA_CONF_OK) {
    emit("FAILED setting %s: %s", name, err);
    exit(1);
  }
}

/* Settings from stdin, `source.` or `target.` prefixed, kept to be applied to each client of that side. */
#define MAX_SETTINGS 64
static struct { int target; char *name, *value; } settings[MAX_SETTINGS];
static int nsettings;

/* Reads stdin's settings; returns 0 when both sides have bootstrap.servers. */
static int read_settings(void) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int have_source = 0, have_target = 0;
  while ((len = getline(&line, &cap, stdin)) > 0) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
    char *eq = strchr(line, '=');
    int target = !strncmp(line, "target.", 7);
    if (len == 0 || line[0] == '#' || !eq || (!target && strncmp(line, "source.", 7))) continue;
    if (nsettings == MAX_SETTINGS) {
      emit("FAILED more than %d settings on stdin", MAX_SETTINGS);
      exit(1);
    }
    *eq = 0;
    unescape(eq + 1);
    settings[nsettings].target = target;
    settings[nsettings].name = strdup(line + 7);
    settings[nsettings].value = strdup(eq + 1);
    if (!strcmp(line + 7, "bootstrap.servers")) *(target ? &have_target : &have_source) = 1;
    nsettings++;
    /* Secrets are in these lines: nothing of them stays in the read buffer. */
    memset(line, 0, cap);
  }
  free(line);
  return have_source && have_target ? 0 : -1;
}

static void apply_settings(rd_kafka_conf_t *conf, int target) {
  for (int i = 0; i < nsettings; i++)
    if (settings[i].target == target) set(conf, settings[i].name, settings[i].value);
}

/* A delivery report: the consumed message rides along as the opaque and is freed here, after its bytes were sent. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  rd_kafka_message_t *in = m->_private;
  part_t *s = part_of(in->partition);
  if (m->err) {
    fail("%" PRId32 " %s", in->partition, rd_kafka_err2str(m->err));
    if (s) s->broken = 1;
  } else if (s && !s->broken) {
    /* Reports of one partition come in send order (idempotent producer): this is the acknowledged prefix. */
    s->r.acked_src = in->offset + 1;
    s->r.acked_tgt = m->offset + 1;
    s->r.copied++;
    s->r.bytes += (int64_t)in->len + (int64_t)in->key_len;
  }
  rd_kafka_message_destroy(in);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
  (void)opaque;
  char fatal[512];
  /* Broker restarts are ridden out by librdkafka's retries; only a fatal error (idempotence broken) ends the copy. */
  if (err == RD_KAFKA_RESP_ERR__FATAL && rd_kafka_fatal_error(rk, fatal, sizeof fatal)) {
    fail("%s", fatal);
  } else {
    fprintf(stderr, "%s: %s\n", rd_kafka_name(rk), reason);
  }
}

static rd_kafka_t *client(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
  char err[512];
  rd_kafka_conf_set_error_cb(conf, on_error);
  rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) {
    emit("FAILED %s", err);
    exit(1);
  }
  return rk;
}

static int read_ends(rd_kafka_t *rk, const char *topic);
struct ends_ctx {
  rd_kafka_t *rk;
  const char *topic;
};
static int read_ends_of(void *ctx) { return read_ends(((struct ends_ctx *)ctx)->rk, ((struct ends_ctx *)ctx)->topic); }

/* Target end offsets as a read_committed reader sees them (settled): what a retried copy finds already written. */
static int target_ends(const char *topic) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set(conf, "client.id", "kafka-runbooks-restore-ends");
  apply_settings(conf, 1);
  set(conf, "isolation.level", "read_committed");
  rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, conf);
  struct ends_ctx ctx = {rk, topic};
  int rc = settled_target_ends(read_ends_of, &ctx);
  rd_kafka_destroy(rk);
  return rc;
}

/* Reads every partition's end offset into parts[].target_end. */
static int read_ends(rd_kafka_t *rk, const char *topic) {
  int rc = 0;
  for (int i = 0; i < nparts; i++) {
    int64_t lo, hi, deadline = now_ms() + 60000;
    rd_kafka_resp_err_t err;
    /* A leader that moves or a topic just created answers with a retriable error for a while. */
    while ((err = rd_kafka_query_watermark_offsets(rk, topic, parts[i].r.partition, &lo, &hi, 10000)) && now_ms() < deadline) {
      fprintf(stderr, "partition %" PRId32 " end offset: %s, retrying\n", parts[i].r.partition, rd_kafka_err2str(err));
      sleep_ms(500);
    }
    if (err) {
      emit("FAILED %" PRId32 " reading the target's end offset: %s", parts[i].r.partition, rd_kafka_err2str(err));
      rc = -1;
      break;
    }
    parts[i].r.target_end = hi;
  }
  return rc;
}

static void stop_reading(rd_kafka_topic_t *in_topic, part_t *s) {
  s->reading = 0;
  if (s->started) rd_kafka_consume_stop(in_topic, s->r.partition);
  s->started = 0;
}

/* One worker: its own consumer and producer over a share of the partitions. One connection's requests are
 * handled one at a time by a broker, so a single pair leaves the brokers' other threads idle. */
typedef struct {
  part_t *parts[MAX_PARTITIONS];
  int n;
  rd_kafka_conf_t *source, *target;
  const char *source_topic, *target_topic;
  pthread_t thread;
} worker_t;

static void *copy_share(void *arg) {
  worker_t *w = arg;
  rd_kafka_t *in = client(RD_KAFKA_CONSUMER, w->source);
  rd_kafka_t *out = client(RD_KAFKA_PRODUCER, w->target);
  rd_kafka_topic_conf_t *tc = rd_kafka_topic_conf_new();
  char err[512];
  rd_kafka_topic_conf_set(tc, "auto.offset.reset", "error", err, sizeof err);
  rd_kafka_topic_t *in_topic = rd_kafka_topic_new(in, w->source_topic, tc);
  rd_kafka_topic_t *out_topic = rd_kafka_topic_new(out, w->target_topic, NULL);
  rd_kafka_queue_t *queue = rd_kafka_queue_new(in);
  int reading = 0;
  for (int i = 0; i < w->n; i++) {
    part_t *s = w->parts[i];
    if (rd_kafka_consume_start_queue(in_topic, s->r.partition, s->r.acked_src, queue) == -1) {
      fail("%" PRId32 " cannot start reading the source: %s", s->r.partition, rd_kafka_err2str(rd_kafka_last_error()));
      break;
    }
    s->started = 1;
    reading++;
  }

  rd_kafka_message_t *batch[BATCH];
  int64_t last_progress = 0;
  while (reading > 0 && !aborted()) {
    ssize_t n = rd_kafka_consume_batch_queue(queue, 200, batch, BATCH);
    int64_t now = now_ms();
    for (ssize_t i = 0; i < n; i++) {
      rd_kafka_message_t *m = batch[i];
      part_t *s = part_of(m->partition);
      if (!s || !s->reading || aborted()) {
        rd_kafka_message_destroy(m);
        continue;
      }
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        /* The source's end: at or past TO the range is read (its tail may be transaction markers, never delivered). */
        if (m->offset >= s->r.to) {
          stop_reading(in_topic, s);
          reading--;
        }
        rd_kafka_message_destroy(m);
        continue;
      }
      if (m->err) {
        fail("%" PRId32 " reading the source: %s", s->r.partition, rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        continue;
      }
      if (m->offset >= s->r.to) {
        stop_reading(in_topic, s);
        reading--;
        rd_kafka_message_destroy(m);
        continue;
      }
      s->last_progress_ms = now;
      if (s->r.skip > 0) {
        if (--s->r.skip == 0) {
          /* Everything up to here is already on the target: the acknowledged prefix starts after it. */
          s->r.acked_src = m->offset + 1;
          s->r.acked_tgt = s->r.target_end;
        }
        rd_kafka_message_destroy(m);
        continue;
      }
      rd_kafka_timestamp_type_t tstype;
      int64_t ts = rd_kafka_message_timestamp(m, &tstype);
      rd_kafka_headers_t *hdrs = NULL;
      rd_kafka_message_detach_headers(m, &hdrs);
      for (;;) {
        /* No copy flag: the producer sends straight from the consumer's buffers, freed on delivery. */
        rd_kafka_resp_err_t e = rd_kafka_producev(out, RD_KAFKA_V_RKT(out_topic), RD_KAFKA_V_PARTITION(m->partition), RD_KAFKA_V_MSGFLAGS(0),
                                                  RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(m->payload, m->len),
                                                  RD_KAFKA_V_TIMESTAMP(tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? 0 : ts), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(m), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
          s->sent++;
          break;
        }
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && !aborted()) {
          rd_kafka_poll(out, 50);
          continue;
        }
        if (hdrs) rd_kafka_headers_destroy(hdrs);
        fail("%" PRId32 " %s", m->partition, rd_kafka_err2str(e));
        rd_kafka_message_destroy(m);
        break;
      }
    }
    rd_kafka_poll(out, 0);
    rd_kafka_poll(in, 0);
    for (int i = 0; i < w->n; i++) {
      part_t *s = w->parts[i];
      if (s->reading && now - s->last_progress_ms > stall_ms)
        fail("%" PRId32 " the source delivered nothing for %" PRId64 " ms short of %" PRId64 " (acknowledged up to %" PRId64 ")", s->r.partition, stall_ms, s->r.to, s->r.acked_src);
    }
    /* Progress comes from the thread that runs this producer's delivery reports: each pair printed is consistent. */
    if (now - last_progress >= 1000) {
      last_progress = now;
      for (int i = 0; i < w->n; i++) progress("PROGRESS", &w->parts[i]->r);
    }
  }
  for (int i = 0; i < w->n; i++) {
    part_t *s = w->parts[i];
    if (s->started) stop_reading(in_topic, s);
    if (!aborted() && s->r.skip > 0) fail("%" PRId32 " the target holds %" PRId64 " records more than the backup range: another writer?", s->r.partition, s->r.skip);
  }
  /* Whatever the consumer had queued is not copied: free it. */
  ssize_t n;
  while ((n = rd_kafka_consume_batch_queue(queue, 0, batch, BATCH)) > 0)
    for (ssize_t i = 0; i < n; i++) rd_kafka_message_destroy(batch[i]);

  /* Every record sent must be reported: wait up to the delivery timeout, as the producer's retries do. */
  int64_t deadline = now_ms() + 330000;
  while (rd_kafka_outq_len(out) > 0 && now_ms() < deadline && !aborted()) {
    rd_kafka_poll(out, 100);
    if (now_ms() - last_progress >= 1000) {
      last_progress = now_ms();
      for (int i = 0; i < w->n; i++) progress("PROGRESS", &w->parts[i]->r);
    }
  }
  if (!aborted() && rd_kafka_outq_len(out) > 0) fail("%d records unacknowledged after the delivery timeout", rd_kafka_outq_len(out));
  for (int i = 0; i < w->n; i++) {
    part_t *s = w->parts[i];
    if (!aborted() && s->r.copied != s->r.copied_before + s->sent)
      fail("%" PRId32 " sent %" PRId64 " records but %" PRId64 " were acknowledged", s->r.partition, s->sent, s->r.copied - s->r.copied_before);
  }
  if (aborted()) {
    /* Whatever is still in flight may or may not land; a retry counts what did, from the target's end. The
     * clients are left for the process's end: destroying them would wait for their requests. */
    rd_kafka_purge(out, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING);
    return NULL;
  }
  rd_kafka_queue_destroy(queue);
  rd_kafka_topic_destroy(in_topic);
  rd_kafka_topic_destroy(out_topic);
  rd_kafka_destroy(out);
  rd_kafka_destroy(in);
  return NULL;
}

int main(int argc, char **argv) {
  skip_tag(&argc, &argv);
  if (argc == 2 && !strcmp(argv[1], "version")) {
    int ok = rd_kafka_version() >= MIN_RDKAFKA_VERSION;
    emit("VERSION librdkafka=%s %s", rd_kafka_version_str(), ok ? "ok" : "too-old");
    return ok ? 0 : 1;
  }
  if (argc < 5 || strcmp(argv[1], "copy")) usage();
  /* Fetch buffers are large and short-lived, and freed by another thread than the one that allocated them: one
   * heap that keeps freed memory for reuse, instead of per-thread heaps returning it to the kernel, which
   * faults in and zeroes fresh pages for every fetch (measured: an eighth less CPU). */
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  if (rd_kafka_version() < MIN_RDKAFKA_VERSION) {
    emit("FAILED librdkafka %s is older than 2.0.2, the oldest measured lossless here", rd_kafka_version_str());
    return 1;
  }
  const char *source_topic = argv[2], *target_topic = argv[3];
  if (argc - 4 > MAX_PARTITIONS) usage();
  for (int i = 4; i < argc; i++) parse_range(argv[i], &parts[nparts++].r);
  const char *stall = getenv("RESTORE_STALL_MS");
  if (stall) stall_ms = atoll(stall);
  const char *workers_env = getenv("RESTORE_WORKERS");
  if (workers_env) workers_wanted = atoi(workers_env);
  if (workers_wanted < 1 || workers_wanted > MAX_WORKERS) workers_wanted = 4;

  if (read_settings()) {
    emit("FAILED no source.bootstrap.servers or target.bootstrap.servers on stdin");
    return 1;
  }
  rd_kafka_conf_t *source = rd_kafka_conf_new(), *target = rd_kafka_conf_new();
  /* Tuning first: settings on stdin may change it. The safety settings below are set last and win. */
  set(source, "client.id", "kafka-runbooks-restore-copier");
  /* Fetches stay well under the heap's 32 MB mmap threshold (see mallopt above). */
  set(source, "fetch.max.bytes", "8388608");
  set(source, "fetch.message.max.bytes", "2097152");
  /* Per worker: what the consumer reads ahead, and what the producer holds unacknowledged. */
  set(source, "queued.max.messages.kbytes", "65536");
  set(source, "socket.receive.buffer.bytes", "4194304");
  set(target, "client.id", "kafka-runbooks-restore-copier");
  set(target, "linger.ms", "20");
  set(target, "batch.size", "1048576");
  set(target, "batch.num.messages", "100000");
  set(target, "queue.buffering.max.kbytes", "131072");
  set(target, "queue.buffering.max.messages", "1000000");
  set(target, "message.max.bytes", "16777216");
  set(target, "socket.send.buffer.bytes", "4194304");
  /* A broker restart is ridden out by the producer's own retries; only a record still unwritten after this fails the copy. */
  set(target, "message.timeout.ms", "300000");
  set(target, "request.timeout.ms", "30000");
  set(target, "compression.type", "none");
  apply_settings(source, 0);
  apply_settings(target, 1);
  int64_t started = now_ms();
  if (target_ends(target_topic)) return 1;

  int reading = 0;
  for (int i = 0; i < nparts; i++) {
    part_t *s = &parts[i];
    int started_range = start_range(&s->r);
    if (started_range < 0) return 1;
    s->last_progress_ms = now_ms();
    s->reading = started_range;
    reading += started_range;
  }

  set(source, "isolation.level", "read_committed");
  set(source, "enable.partition.eof", "true");
  set(source, "enable.auto.commit", "false");
  set(target, "acks", "all");
  set(target, "enable.idempotence", "true");
  /* A failed record that later ones would leave as a gap is a fatal error instead: the copy stops, no gap. */
  set(target, "enable.gapless.guarantee", "true");
  set(target, "max.in.flight.requests.per.connection", "5");
  rd_kafka_conf_set_dr_msg_cb(target, on_delivery);

  /* The partitions to read, dealt round-robin to the workers. */
  int nworkers = workers_wanted < reading ? workers_wanted : reading;
  worker_t workers[MAX_WORKERS];
  memset(workers, 0, sizeof workers);
  for (int i = 0, k = 0; i < nparts; i++)
    if (parts[i].reading) {
      worker_t *w = &workers[k++ % nworkers];
      w->parts[w->n++] = &parts[i];
    }
  for (int k = 0; k < nworkers; k++) {
    workers[k].source = rd_kafka_conf_dup(source);
    workers[k].target = rd_kafka_conf_dup(target);
    workers[k].source_topic = source_topic;
    workers[k].target_topic = target_topic;
    if (pthread_create(&workers[k].thread, NULL, copy_share, &workers[k])) {
      emit("FAILED cannot start a copy thread");
      return 1;
    }
  }
  for (int k = 0; k < nworkers; k++) pthread_join(workers[k].thread, NULL);
  rd_kafka_conf_destroy(source);
  rd_kafka_conf_destroy(target);

  /* Nothing waits for the in-flight requests on a failure: the process ends (exit, not the clients' orderly close). */
  return finish(started);
}
