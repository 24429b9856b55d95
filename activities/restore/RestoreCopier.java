import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The restore copier and its verifier, run over SSH on a host near the target with Kafka's own Java client:
 *   java -cp '<kafka>/libs/*' RestoreCopier.java copy SOURCE_TOPIC TARGET_TOPIC P:FROM:TO:BASE[:HINTSRC:HINTTGT] ...
 *   java -cp '<kafka>/libs/*' RestoreCopier.java digest SIDE TOPIC P:FROM:TO[:MARK,MARK...] ...
 * Client settings come on standard input as properties, `source.` and `target.` prefixed (secrets never on
 * the command line): source.bootstrap.servers=..., target.bootstrap.servers=..., source.sasl.jaas.config=...
 *
 * copy: for each partition P, the committed records of the source at offsets [FROM, TO) go to partition P of
 * the target, with key, value (null kept apart from empty), headers in order and timestamp; idempotent
 * producer, acks=all. BASE is the target's end offset before the restore wrote anything: the target's records
 * from BASE on are copies, in order, of the source's records from FROM on, so a retried copy counts what is
 * already there (target end - BASE) and skips that many source records. HINTSRC:HINTTGT, a pair an earlier
 * attempt reported as acknowledged, lets the skip start there instead of at FROM. Lines on stdout:
 *   START P from=N to=N skip=N              where the copy of P resumes
 *   PROGRESS P src=N tgt=N copied=N bytes=N  records acknowledged so far: source next N, target next N
 *   DONE P src=N tgt=N copied=N bytes=N      P complete (every record of the range acknowledged)
 *   FAILED P message                          the producer refused a record: the copier exits 1
 *   SUMMARY copied=N bytes=N ms=N            all partitions done
 * digest: SHA-256 over each committed record of [FROM, TO) (key, value, headers, timestamp, with lengths and
 * null markers), in offset order; SIDE is `source` or `target`. MARK offsets get the count of records before them.
 *   DIGEST P count=N sha256=HEX first=N last=N end=N     (TO may be -1: to the partition's end now, given as end=)
 *   MARK P offset=N before=N
 */
public class RestoreCopier {
  private static final PrintStream OUT = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16), false);
  /** A partition that delivers nothing for this long, short of its end, is missing data: fail rather than wait forever. */
  private static final long STALL_MS = Long.getLong("restore.stallMs", 120_000L);
  private static final long PROGRESS_EVERY_MS = 1_000;

  private static synchronized void emit(String line) {
    OUT.println(line);
    OUT.flush();
  }

  static final class Range {
    int partition;
    long from;
    long to;
    long base;
    long hintSrc = -1;
    long hintTgt = -1;
    List<Long> marks = new ArrayList<>();
  }

  public static void main(String[] args) throws Exception {
    // Anything a library prints goes to stderr: stdout carries only the lines above.
    System.setOut(System.err);
    if (args.length < 3) usage();
    Properties all = new Properties();
    all.load(System.in);
    int code;
    try {
      if (args[0].equals("copy") && args.length >= 4) {
        code = copy(args[1], args[2], ranges(args, 3, true), prefixed(all, "source."), prefixed(all, "target."));
      } else if (args[0].equals("digest")) {
        if (!args[1].equals("source") && !args[1].equals("target")) usage();
        code = digest(args[2], ranges(args, 3, false), prefixed(all, args[1] + "."));
      } else {
        usage();
        return;
      }
    } catch (Exception e) {
      // Records are only ever reported as written from acknowledgements: a crash reports none.
      emit("FAILED " + e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).replace('\n', ' '));
      e.printStackTrace();
      code = 1;
    }
    OUT.flush();
    System.exit(code);
  }

  private static void usage() {
    System.err.println("usage: RestoreCopier copy SOURCE_TOPIC TARGET_TOPIC P:FROM:TO:BASE[:HINTSRC:HINTTGT] ... | digest source|target TOPIC P:FROM:TO[:MARKS] ...");
    System.exit(2);
  }

  private static List<Range> ranges(String[] args, int first, boolean copy) {
    List<Range> out = new ArrayList<>();
    for (int i = first; i < args.length; i++) {
      String[] f = args[i].split(":");
      Range r = new Range();
      r.partition = Integer.parseInt(f[0]);
      r.from = Long.parseLong(f[1]);
      r.to = Long.parseLong(f[2]);
      if (copy) {
        r.base = Long.parseLong(f[3]);
        if (f.length == 6) {
          r.hintSrc = Long.parseLong(f[4]);
          r.hintTgt = Long.parseLong(f[5]);
        }
      } else if (f.length == 4 && !f[3].isEmpty()) {
        for (String m : f[3].split(",")) r.marks.add(Long.parseLong(m));
      }
      if (r.from < 0 || (r.to < r.from && !(r.to == -1 && !copy))) throw new IllegalArgumentException("bad range " + args[i]);
      out.add(r);
    }
    return out;
  }

  private static Properties prefixed(Properties all, String prefix) {
    Properties p = new Properties();
    for (String name : all.stringPropertyNames()) {
      if (name.startsWith(prefix)) p.put(name.substring(prefix.length()), all.getProperty(name));
    }
    if (!p.containsKey("bootstrap.servers")) throw new IllegalArgumentException("no " + prefix + "bootstrap.servers on stdin");
    return p;
  }

  /** Client settings given as -Drestore.consumer.NAME=VALUE / -Drestore.producer.NAME=VALUE (tuning; the safety settings are set after and win). */
  private static void overrides(Properties p, String prefix) {
    for (String name : System.getProperties().stringPropertyNames()) {
      if (name.startsWith(prefix)) p.put(name.substring(prefix.length()), System.getProperty(name));
    }
  }

  private static KafkaConsumer<byte[], byte[]> consumer(Properties base, String clientId) {
    return consumer(base, clientId, false);
  }

  private static KafkaConsumer<byte[], byte[]> consumer(Properties base, String clientId, boolean copying) {
    Properties p = new Properties();
    p.putAll(base);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000");
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, String.valueOf(64 << 20));
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(8 << 20));
    p.put(ConsumerConfig.RECEIVE_BUFFER_CONFIG, String.valueOf(4 << 20));
    // The copy skips the per-batch CRC check (a third of its CPU here): the verification reads both sides again
    // with CRCs checked and compares digests, so a corrupted byte still fails the restore.
    if (copying) p.put(ConsumerConfig.CHECK_CRCS_CONFIG, "false");
    overrides(p, "restore.consumer.");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    if (!copying) p.put(ConsumerConfig.CHECK_CRCS_CONFIG, "true");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return new KafkaConsumer<>(p);
  }

  /** Target end offsets as a read_committed reader sees them: what a retried copy finds already written. */
  private static Map<Integer, Long> targetEnds(Properties target, String topic, List<Range> ranges) throws InterruptedException {
    try (KafkaConsumer<byte[], byte[]> c = consumer(target, "kafka-runbooks-restore-ends")) {
      List<TopicPartition> tps = new ArrayList<>();
      for (Range r : ranges) tps.add(new TopicPartition(topic, r.partition));
      Map<Integer, Long> out = new HashMap<>();
      // After an earlier attempt's copier was stopped (RESTORE_SETTLE_MS set by the host command), its last
      // requests may still be queued in a broker (held back by a quota, say): the ends count only once they
      // have not moved for that long, or a late write would land after the records this attempt skips.
      long settleMs = Long.parseLong(System.getenv().getOrDefault("RESTORE_SETTLE_MS", "0"));
      long started = System.currentTimeMillis();
      long stableSince = started;
      long giveUpAt = started + Math.max(settleMs * 10, 300_000L);
      for (;;) {
        Map<Integer, Long> now = new HashMap<>();
        for (Map.Entry<TopicPartition, Long> e : c.endOffsets(tps, Duration.ofSeconds(60)).entrySet()) now.put(e.getKey().partition(), e.getValue());
        if (!now.equals(out)) stableSince = System.currentTimeMillis();
        out = now;
        if (System.currentTimeMillis() - stableSince >= settleMs) return out;
        if (System.currentTimeMillis() > giveUpAt) throw new IllegalStateException("the target's end offsets kept moving for " + (System.currentTimeMillis() - started) + " ms after the earlier copier stopped: another writer?");
        Thread.sleep(500);
      }
    }
  }

  static final class CopyState {
    final Range range;
    /** Source records still to skip: already copied by an earlier attempt. */
    long skip;
    /** Next source offset and next target offset of the acknowledged prefix. */
    volatile long ackedSrc;
    volatile long ackedTgt;
    volatile long copied;
    volatile long bytes;
    long targetEnd;
    long copiedBefore;
    long sentCount;
    boolean reading = true;
    long lastProgressAt = System.currentTimeMillis();

    CopyState(Range r) {
      range = r;
    }
  }

  /** Workers, each with its own consumer and producer over a share of the partitions: one client thread pair cannot keep up with a broker. */
  private static final int WORKERS = Integer.getInteger("restore.workers", 4);
  /** Set by the first worker that fails: the others stop too, and the copy exits non-zero. */
  private static volatile boolean aborting = false;

  private static int copy(String sourceTopic, String targetTopic, List<Range> ranges, Properties source, Properties target) throws Exception {
    long started = System.currentTimeMillis();
    Map<Integer, Long> ends = targetEnds(target, targetTopic, ranges);
    int workers = Math.max(1, Math.min(WORKERS, ranges.size()));
    List<List<Range>> shares = new ArrayList<>();
    for (int i = 0; i < workers; i++) shares.add(new ArrayList<>());
    for (int i = 0; i < ranges.size(); i++) shares.get(i % workers).add(ranges.get(i));
    long[][] results = new long[workers][];
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < workers; i++) {
      final int w = i;
      Thread t = new Thread(() -> {
        try {
          results[w] = copyShare(sourceTopic, targetTopic, shares.get(w), ends, source, target);
        } catch (Exception e) {
          aborting = true;
          emit("FAILED " + e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).replace('\n', ' '));
          results[w] = new long[] {1, 0, 0};
        }
      }, "copier-" + i);
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) t.join();
    long copied = 0;
    long bytes = 0;
    int code = 0;
    for (long[] r : results) {
      if (r == null || r[0] != 0) code = 1;
      else {
        copied += r[1];
        bytes += r[2];
      }
    }
    if (code != 0) return 1;
    emit("SUMMARY copied=" + copied + " bytes=" + bytes + " ms=" + (System.currentTimeMillis() - started));
    return 0;
  }

  /** Copies some partitions with one consumer and one producer; returns {exit code, records on the target, bytes}. */
  private static long[] copyShare(String sourceTopic, String targetTopic, List<Range> ranges, Map<Integer, Long> ends, Properties source, Properties target) throws Exception {
    Map<TopicPartition, CopyState> states = new HashMap<>();
    KafkaConsumer<byte[], byte[]> in = consumer(source, "kafka-runbooks-restore-copier", true);
    List<TopicPartition> assigned = new ArrayList<>();
    for (Range r : ranges) {
      TopicPartition tp = new TopicPartition(sourceTopic, r.partition);
      long end = ends.get(r.partition);
      long startSrc = r.from;
      long startTgt = r.base;
      // A hint is only a shortcut: it must lie within what the target holds now.
      if (r.hintSrc >= r.from && r.hintTgt >= r.base && r.hintTgt <= end) {
        startSrc = r.hintSrc;
        startTgt = r.hintTgt;
      }
      if (end < startTgt) {
        emit("FAILED " + r.partition + " the target partition ends at " + end + ", before this restore's first record at " + r.base + ": it was truncated or recreated");
        return new long[] {1, 0, 0};
      }
      CopyState s = new CopyState(r);
      s.skip = end - startTgt;
      s.ackedSrc = startSrc;
      s.ackedTgt = startTgt;
      s.targetEnd = end;
      s.copied = end - r.base;
      s.copiedBefore = s.copied;
      states.put(tp, s);
      emit("START " + r.partition + " from=" + startSrc + " to=" + r.to + " skip=" + s.skip);
      if (startSrc >= r.to) {
        if (s.skip > 0) {
          emit("FAILED " + r.partition + " the target holds " + s.skip + " records more than the backup range: another writer?");
          return new long[] {1, 0, 0};
        }
        s.reading = false;
        continue;
      }
      assigned.add(tp);
    }
    in.assign(assigned);
    for (TopicPartition tp : assigned) in.seek(tp, states.get(tp).ackedSrc);

    Properties pp = new Properties();
    pp.putAll(target);
    pp.put(ProducerConfig.CLIENT_ID_CONFIG, "kafka-runbooks-restore-copier");
    pp.put(ProducerConfig.LINGER_MS_CONFIG, "20");
    pp.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(1 << 20));
    pp.put(ProducerConfig.BUFFER_MEMORY_CONFIG, String.valueOf(128L << 20));
    pp.put(ProducerConfig.SEND_BUFFER_CONFIG, String.valueOf(4 << 20));
    // Requests carrying many partitions' batches: five in flight per connection is the idempotent producer's limit.
    pp.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(16 << 20));
    // A broker restart is ridden out by the producer's own retries; only a record still unwritten after this fails the copy.
    pp.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "300000");
    pp.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "30000");
    overrides(pp, "restore.producer.");
    pp.put(ProducerConfig.ACKS_CONFIG, "all");
    pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    pp.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
    pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    AtomicReference<String> failure = new AtomicReference<>();
    KafkaProducer<byte[], byte[]> out = new KafkaProducer<>(pp);
    try {
      long lastProgress = 0;
      while (failure.get() == null && !aborting) {
        boolean anyReading = false;
        for (CopyState s : states.values()) anyReading |= s.reading;
        if (!anyReading) break;
        ConsumerRecords<byte[], byte[]> batch = in.poll(Duration.ofMillis(500));
        long now = System.currentTimeMillis();
        for (TopicPartition tp : batch.partitions()) {
          CopyState s = states.get(tp);
          if (!s.reading) continue;
          for (ConsumerRecord<byte[], byte[]> r : batch.records(tp)) {
            if (r.offset() >= s.range.to) break;
            s.lastProgressAt = now;
            if (s.skip > 0) {
              if (--s.skip == 0) {
                // Everything up to here is already on the target: the acknowledged prefix starts after it.
                s.ackedSrc = r.offset() + 1;
                s.ackedTgt = s.targetEnd;
              }
              continue;
            }
            final long srcNext = r.offset() + 1;
            final long size = (r.key() == null ? 0 : r.key().length) + (r.value() == null ? 0 : r.value().length);
            final CopyState st = s;
            final int partition = s.range.partition;
            s.sentCount++;
            out.send(new ProducerRecord<>(targetTopic, partition, r.timestamp(), r.key(), r.value(), r.headers()), (meta, err) -> {
              if (err != null) {
                failure.compareAndSet(null, partition + " " + err.getClass().getSimpleName() + ": " + String.valueOf(err.getMessage()).replace('\n', ' '));
                return;
              }
              // Callbacks of one partition run in send order: this is the acknowledged prefix.
              st.ackedSrc = srcNext;
              st.ackedTgt = meta.offset() + 1;
              st.copied++;
              st.bytes += size;
            });
          }
        }
        List<TopicPartition> finished = new ArrayList<>();
        for (TopicPartition tp : assigned) {
          CopyState s = states.get(tp);
          if (!s.reading) continue;
          long position = in.position(tp);
          if (position >= s.range.to) {
            if (s.skip > 0) {
              failure.compareAndSet(null, s.range.partition + " the target holds " + s.skip + " records more than the backup range: another writer?");
              break;
            }
            s.reading = false;
            finished.add(tp);
          } else if (now - s.lastProgressAt > STALL_MS) {
            failure.compareAndSet(null, s.range.partition + " the source delivered nothing for " + STALL_MS + " ms at offset " + position + ", short of " + s.range.to);
          }
        }
        if (!finished.isEmpty()) {
          List<TopicPartition> rest = new ArrayList<>(assigned);
          rest.removeAll(finished);
          assigned = rest;
          in.assign(assigned);
        }
        if (now - lastProgress >= PROGRESS_EVERY_MS) {
          lastProgress = now;
          for (CopyState s : states.values()) progress("PROGRESS", s);
        }
      }
      out.flush();
    } finally {
      in.close(Duration.ofSeconds(5));
      if (failure.get() != null || aborting) {
        // Whatever is still in flight may or may not land; a retry counts what did, from the target's end.
        out.close(Duration.ZERO);
      } else {
        out.close(Duration.ofSeconds(30));
      }
    }
    if (failure.get() != null || aborting) {
      aborting = true;
      for (CopyState s : states.values()) progress("PROGRESS", s);
      if (failure.get() != null) emit("FAILED " + failure.get());
      return new long[] {1, 0, 0};
    }
    long copied = 0;
    long bytes = 0;
    for (CopyState s : states.values()) {
      if (s.copied != s.copiedBefore + s.sentCount) {
        emit("FAILED " + s.range.partition + " sent " + s.sentCount + " records but " + (s.copied - s.copiedBefore) + " were acknowledged");
        return new long[] {1, 0, 0};
      }
      progress("DONE", s);
      copied += s.copied;
      bytes += s.bytes;
    }
    return new long[] {0, copied, bytes};
  }

  private static void progress(String kind, CopyState s) {
    emit(kind + " " + s.range.partition + " src=" + s.ackedSrc + " tgt=" + s.ackedTgt + " copied=" + s.copied + " bytes=" + s.bytes);
  }

  private static int digest(String topic, List<Range> ranges, Properties side) throws Exception {
    Map<TopicPartition, Range> byTp = new HashMap<>();
    Map<TopicPartition, MessageDigest> digests = new HashMap<>();
    Map<TopicPartition, long[]> seen = new HashMap<>(); // count, first, last, next mark index
    Map<TopicPartition, Long> lastProgress = new HashMap<>();
    List<TopicPartition> assigned = new ArrayList<>();
    Set<TopicPartition> done = new HashSet<>();
    KafkaConsumer<byte[], byte[]> in = consumer(side, "kafka-runbooks-restore-verify");
    try {
      for (Range r : ranges) {
        TopicPartition tp = new TopicPartition(topic, r.partition);
        byTp.put(tp, r);
        digests.put(tp, MessageDigest.getInstance("SHA-256"));
        seen.put(tp, new long[] {0, -1, -1, 0});
        lastProgress.put(tp, System.currentTimeMillis());
        if (r.to == -1) continue;
        if (r.to > r.from) assigned.add(tp);
        else done.add(tp);
      }
      List<TopicPartition> toEnd = new ArrayList<>();
      for (Range r : ranges) if (r.to == -1) toEnd.add(new TopicPartition(topic, r.partition));
      if (!toEnd.isEmpty()) {
        // "To the end": the end a read_committed reader sees now (the last stable offset).
        for (Map.Entry<TopicPartition, Long> e : in.endOffsets(toEnd, Duration.ofSeconds(60)).entrySet()) {
          Range r = byTp.get(e.getKey());
          r.to = e.getValue();
          if (r.to > r.from) assigned.add(e.getKey());
          else done.add(e.getKey());
        }
      }
      in.assign(assigned);
      for (TopicPartition tp : assigned) in.seek(tp, byTp.get(tp).from);
      ByteBuffer scratch = ByteBuffer.allocate(8);
      while (done.size() < byTp.size()) {
        ConsumerRecords<byte[], byte[]> batch = in.poll(Duration.ofMillis(500));
        long now = System.currentTimeMillis();
        for (TopicPartition tp : batch.partitions()) {
          Range r = byTp.get(tp);
          MessageDigest md = digests.get(tp);
          long[] st = seen.get(tp);
          for (ConsumerRecord<byte[], byte[]> rec : batch.records(tp)) {
            if (rec.offset() >= r.to) break;
            lastProgress.put(tp, now);
            while (st[3] < r.marks.size() && r.marks.get((int) st[3]) <= rec.offset()) {
              emit("MARK " + r.partition + " offset=" + r.marks.get((int) st[3]) + " before=" + st[0]);
              st[3]++;
            }
            if (st[1] < 0) st[1] = rec.offset();
            st[2] = rec.offset();
            st[0]++;
            bytes(md, rec.key(), scratch);
            bytes(md, rec.value(), scratch);
            Header[] headers = rec.headers().toArray();
            md.update(scratch.clear().putLong(headers.length).array(), 0, 8);
            for (Header h : headers) {
              bytes(md, h.key().getBytes(StandardCharsets.UTF_8), scratch);
              bytes(md, h.value(), scratch);
            }
            md.update(scratch.clear().putLong(rec.timestamp()).array(), 0, 8);
          }
        }
        for (TopicPartition tp : new ArrayList<>(assigned)) {
          if (in.position(tp) >= byTp.get(tp).to) {
            done.add(tp);
            assigned.remove(tp);
            in.assign(assigned);
          } else if (now - lastProgress.get(tp) > STALL_MS) {
            emit("FAILED " + tp.partition() + " delivered nothing for " + STALL_MS + " ms at offset " + in.position(tp) + ", short of " + byTp.get(tp).to);
            return 1;
          }
        }
      }
    } finally {
      in.close(Duration.ofSeconds(5));
    }
    for (Map.Entry<TopicPartition, Range> e : byTp.entrySet()) {
      Range r = e.getValue();
      long[] st = seen.get(e.getKey());
      while (st[3] < r.marks.size()) {
        emit("MARK " + r.partition + " offset=" + r.marks.get((int) st[3]) + " before=" + st[0]);
        st[3]++;
      }
      emit("DIGEST " + r.partition + " count=" + st[0] + " sha256=" + hex(digests.get(e.getKey()).digest()) + " first=" + st[1] + " last=" + st[2] + " end=" + r.to);
    }
    return 0;
  }

  /** Length-prefixed, with -1 for null: null and empty stay apart, and no two records hash alike by shifting bytes. */
  private static void bytes(MessageDigest md, byte[] b, ByteBuffer scratch) {
    md.update(scratch.clear().putLong(b == null ? -1 : b.length).array(), 0, 8);
    if (b != null) md.update(b);
  }

  private static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) s.append(String.format("%02x", x));
    return s.toString();
  }
}
