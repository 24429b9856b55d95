import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Data that a lossy restore would damage, written with Kafka's own Java producer (acks=all, idempotent):
 * records spread over every partition, keys (some null), two or three headers (one key repeated, so order
 * matters; one header value null), every 10th value null, every 13th empty, and CreateTime timestamps
 * FIRST_TS + n * STEP_MS (so a date-time in the middle is known in advance).
 *
 * Run: java -cp '<kafka>/libs/*' RestoreData.java BOOTSTRAP TOPIC RECORDS VALUE_BYTES FIRST_TS STEP_MS
 * Prints `DONE records=N bytes=N` once every record is acknowledged; exits 1 on any failed send.
 */
public class RestoreData {
  public static void main(String[] args) throws Exception {
    System.setOut(System.err);
    String bootstrap = args[0];
    String topic = args[1];
    long records = Long.parseLong(args[2]);
    int valueBytes = Integer.parseInt(args[3]);
    long firstTs = Long.parseLong(args[4]);
    long stepMs = Long.parseLong(args[5]);
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(1 << 20));
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, String.valueOf(128L << 20));
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    AtomicReference<Exception> failed = new AtomicReference<>();
    AtomicLong bytes = new AtomicLong();
    Random random = new Random(42);
    byte[] filler = new byte[valueBytes];
    // Printable values: the kcat peer in the benchmark reads and writes lines.
    for (int i = 0; i < filler.length; i++) filler[i] = (byte) ('a' + random.nextInt(26));
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      int partitions = producer.partitionsFor(topic).size();
      for (long n = 0; n < records && failed.get() == null; n++) {
        byte[] key = n % 17 == 5 ? null : ("key-" + n).getBytes(StandardCharsets.UTF_8);
        byte[] value;
        if (n % 10 == 3) value = null;
        else if (n % 13 == 4) value = new byte[0];
        else {
          value = filler.clone();
          byte[] seq = Long.toString(n).getBytes(StandardCharsets.UTF_8);
          System.arraycopy(seq, 0, value, 0, Math.min(seq.length, value.length));
        }
        RecordHeaders headers = new RecordHeaders();
        headers.add("seq", Long.toString(n).getBytes(StandardCharsets.UTF_8));
        headers.add("trace", ("t" + (n % 101)).getBytes(StandardCharsets.UTF_8));
        if (n % 3 == 0) headers.add("seq", n % 2 == 0 ? null : new byte[0]);
        long size = (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
        bytes.addAndGet(size);
        producer.send(new ProducerRecord<>(topic, (int) (n % partitions), firstTs + n * stepMs, key, value, headers), (meta, err) -> {
          if (err != null) failed.compareAndSet(null, err);
        });
      }
      producer.flush();
    }
    if (failed.get() != null) {
      System.err.println("send failed: " + failed.get());
      System.exit(1);
    }
    System.err.flush();
    new java.io.PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true).println("DONE records=" + records + " bytes=" + bytes.get());
  }
}
