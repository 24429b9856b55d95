import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The e2e traffic oracle's producer: Kafka's own Java producer (acks=all, idempotent) sending numbered records
 * in bursts of one record per partition, so that each ProduceRequest carries many partitions (the case where
 * kafkajs 2.2.4 acknowledged records it never wrote).
 *
 * Run: java -cp '.tools/kafka/4.3.1/libs/*' test/e2e/support/TrafficProducer.java BOOTSTRAP TOPIC RECORDS_PER_SEC RUN_ID
 * Each record: key = its number, value = RUN_ID:number. Lines on stdout, as they happen:
 *   READY partitions=N                 metadata read, sending starts
 *   ACK seq partition offset           acknowledged by the cluster (acks=all)
 *   FAIL seq error                     failed after the producer's own retries
 *   SUMMARY sent=N acked=N failed=N recordsPerRequest=X   after the last send completed
 * Stops when stdin closes or on SIGTERM: no new sends, every outstanding send completes, then the summary.
 */
public class TrafficProducer {
  private static final PrintStream OUT = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16), false);
  private static volatile boolean stopping = false;

  private static synchronized void emit(String line) {
    OUT.println(line);
  }

  private static synchronized void flush() {
    OUT.flush();
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: TrafficProducer BOOTSTRAP TOPIC RECORDS_PER_SEC RUN_ID");
      System.exit(2);
    }
    String bootstrap = args[0];
    String topic = args[1];
    double perSecond = Double.parseDouble(args[2]);
    String runId = args[3];
    // Anything a library prints goes to stderr: stdout carries only the lines above.
    System.setOut(System.err);

    Thread stdinWatcher = new Thread(() -> {
      try {
        while (System.in.read() != -1) {
          // discard: only the end of stdin matters
        }
      } catch (IOException ignored) {
        // a broken pipe is an end too
      }
      stopping = true;
    }, "stdin-watcher");
    stdinWatcher.setDaemon(true);
    stdinWatcher.start();

    Thread flusher = new Thread(() -> {
      while (true) {
        flush();
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "flusher");
    flusher.setDaemon(true);
    flusher.start();

    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stopping = true;
      try {
        done.await(150, TimeUnit.SECONDS);
      } catch (InterruptedException ignored) {
        // exiting anyway
      }
    }, "sigterm"));

    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "e2e-traffic-oracle");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    // A burst's records reach the accumulator within microseconds; a few ms of linger puts them in one request per leader.
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
    // A send waiting for metadata blocks the loop: keep it short so a stop is seen within seconds.
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());

    AtomicLong acked = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    long sent = 0;
    KafkaProducer<String, String> producer = new KafkaProducer<>(p);
    try {
      List<PartitionInfo> partitions = producer.partitionsFor(topic);
      int n = partitions.size();
      emit("READY partitions=" + n);
      flush();
      long burstEveryNanos = (long) (n * 1e9 / perSecond);
      long next = System.nanoTime();
      while (!stopping) {
        for (int partition = 0; partition < n; partition++) {
          final long seq = sent++;
          ProducerRecord<String, String> record = new ProducerRecord<>(topic, partition, Long.toString(seq), runId + ":" + seq);
          try {
            producer.send(record, (meta, err) -> {
              if (err == null) {
                acked.incrementAndGet();
                emit("ACK " + seq + " " + meta.partition() + " " + meta.offset());
              } else {
                failed.incrementAndGet();
                emit("FAIL " + seq + " " + err.getClass().getSimpleName() + ": " + String.valueOf(err.getMessage()).replace('\n', ' '));
              }
            });
          } catch (RuntimeException err) {
            failed.incrementAndGet();
            emit("FAIL " + seq + " " + err.getClass().getSimpleName() + ": " + String.valueOf(err.getMessage()).replace('\n', ' '));
          }
        }
        next += burstEveryNanos;
        long wait = next - System.nanoTime();
        if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
        else next = System.nanoTime();
      }
      producer.flush();
      emit("SUMMARY sent=" + sent + " acked=" + acked.get() + " failed=" + failed.get() + " recordsPerRequest=" + recordsPerRequest(producer.metrics()));
    } finally {
      producer.close(Duration.ofSeconds(30));
      flush();
      done.countDown();
    }
  }

  /**
   * Records sent over all requests the producer made. A lower bound on records per ProduceRequest (request-total
   * counts the few metadata and version requests too); records-per-request-avg is no help: it averages in the
   * empty drains between requests.
   */
  private static double recordsPerRequest(Map<MetricName, ? extends Metric> metrics) {
    double records = Double.NaN;
    double requests = Double.NaN;
    for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
      if (!e.getKey().group().equals("producer-metrics")) continue;
      if (e.getKey().name().equals("record-send-total")) records = ((Number) e.getValue().metricValue()).doubleValue();
      if (e.getKey().name().equals("request-total")) requests = ((Number) e.getValue().metricValue()).doubleValue();
    }
    return records / requests;
  }
}
