import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Backup/restore e2e traffic with what a lossless copy must keep: keys (some null), values (some null, some
 * empty), headers in order (one with a null value), CreateTime timestamps, explicit partitions. Kafka's own
 * producer, acks=all, idempotent.
 *
 * Run: java -cp '.tools/kafka/4.3.1/libs/*' test/e2e/support/BackupTrafficProducer.java BOOTSTRAP TOPIC PARTITIONS FROM COUNT BASE_MS
 * Record n (FROM <= n < FROM+COUNT): partition n % PARTITIONS; key null when n % 10 == 0, else "k<n>"; value null
 * when n % 7 == 0, empty when n % 11 == 0, else "v<n>"; headers seq=<n>, h2=<n bytes reversed> and, when
 * n % 5 == 0, a header "nullable" with a null value; timestamp BASE_MS + n (recent: older records fall to retention).
 * Prints "ACKED <count>" once every send is acknowledged; exits 1 on any failed send.
 */
public class BackupTrafficProducer {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String topic = args[1];
    int partitions = Integer.parseInt(args[2]);
    long from = Long.parseLong(args[3]);
    long count = Long.parseLong(args[4]);
    long base = Long.parseLong(args[5]);
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    System.setOut(System.err);
    List<Future<RecordMetadata>> sends = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      for (long n = from; n < from + count; n++) {
        byte[] key = n % 10 == 0 ? null : ("k" + n).getBytes(StandardCharsets.UTF_8);
        byte[] value = n % 7 == 0 ? null : n % 11 == 0 ? new byte[0] : ("v" + n).getBytes(StandardCharsets.UTF_8);
        RecordHeaders headers = new RecordHeaders();
        headers.add("seq", Long.toString(n).getBytes(StandardCharsets.UTF_8));
        headers.add("h2", new StringBuilder(Long.toString(n)).reverse().toString().getBytes(StandardCharsets.UTF_8));
        if (n % 5 == 0) headers.add("nullable", null);
        sends.add(producer.send(new ProducerRecord<>(topic, (int) (n % partitions), base + n, key, value, headers)));
      }
      producer.flush();
      for (Future<RecordMetadata> f : sends) f.get();
    }
    System.err.flush();
    new java.io.PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true).println("ACKED " + sends.size());
  }
}
