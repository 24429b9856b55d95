import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Record batches in every form a copier reading batches must handle, written with Kafka's Java producer into
 * every partition of TOPIC, in this order: uncompressed; gzip, snappy, lz4 and zstd batches; a committed
 * transaction; an aborted one (its records must never be copied) with plain records written while it is open;
 * and a last committed transaction. Keys and values include null and empty; headers repeat a key and carry a
 * null value. ROUNDS repeats the whole sequence, so transaction markers fall inside a copied range.
 *
 * Run: java -cp '<kafka>/libs/*' RecordFormats.java BOOTSTRAP TOPIC ROUNDS
 * Prints `DONE committed=N aborted=N` (records a read_committed reader must see, and must not).
 */
public class RecordFormats {
  static long n;
  /** An hour back: recent enough for any topic's retention, in the past for every record. */
  static final long FIRST_TS = System.currentTimeMillis() - 3_600_000L;

  static ProducerRecord<byte[], byte[]> record(String topic, int partition, String kind) {
    long i = n++;
    byte[] key = i % 7 == 3 ? null : i % 11 == 4 ? new byte[0] : (kind + "-" + i).getBytes(StandardCharsets.UTF_8);
    byte[] value = i % 5 == 2 ? null : i % 9 == 1 ? new byte[0] : (kind + " value " + i + " " + "x".repeat((int) (i % 300))).getBytes(StandardCharsets.UTF_8);
    RecordHeaders headers = new RecordHeaders();
    if (i % 3 != 0) {
      headers.add("kind", kind.getBytes(StandardCharsets.UTF_8));
      headers.add("kind", null);
      headers.add("n", Long.toString(i).getBytes(StandardCharsets.UTF_8));
    }
    // Timestamps out of order within a batch: the copy must keep each record's own.
    long ts = FIRST_TS + i * 100 - (i % 4) * 350;
    return new ProducerRecord<>(topic, partition, ts, key, value, headers);
  }

  static KafkaProducer<byte[], byte[]> producer(String bootstrap, String compression, String transactionalId) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
    p.put(ProducerConfig.LINGER_MS_CONFIG, "50");
    if (transactionalId != null) p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p);
    if (transactionalId != null) producer.initTransactions();
    return producer;
  }

  public static void main(String[] args) throws Exception {
    System.setOut(System.err);
    String bootstrap = args[0], topic = args[1];
    int rounds = Integer.parseInt(args[2]);
    long committed = 0, aborted = 0;
    try (KafkaProducer<byte[], byte[]> plain = producer(bootstrap, "none", null);
        KafkaProducer<byte[], byte[]> txn = producer(bootstrap, "lz4", "record-formats-" + System.nanoTime())) {
      int partitions = plain.partitionsFor(topic).size();
      KafkaProducer<byte[], byte[]>[] compressed = new KafkaProducer[] {producer(bootstrap, "gzip", null), producer(bootstrap, "snappy", null), producer(bootstrap, "lz4", null), producer(bootstrap, "zstd", null)};
      String[] codecs = {"gzip", "snappy", "lz4", "zstd"};
      for (int round = 0; round < rounds; round++) {
        for (int p = 0; p < partitions; p++) {
          for (int k = 0; k < 40; k++) plain.send(record(topic, p, "plain"));
          plain.flush();
          for (int c = 0; c < compressed.length; c++) {
            for (int k = 0; k < 60; k++) compressed[c].send(record(topic, p, codecs[c]));
            compressed[c].flush();
          }
          committed += 40 + 60 * compressed.length;
        }
        txn.beginTransaction();
        for (int p = 0; p < partitions; p++) for (int k = 0; k < 25; k++) txn.send(record(topic, p, "committed"));
        txn.commitTransaction();
        committed += 25L * partitions;
        txn.beginTransaction();
        for (int p = 0; p < partitions; p++) for (int k = 0; k < 30; k++) txn.send(record(topic, p, "aborted"));
        txn.flush();
        // Plain records while the aborted transaction is open: they sit between its records and its marker.
        for (int p = 0; p < partitions; p++) for (int k = 0; k < 10; k++) plain.send(record(topic, p, "plain-during-abort"));
        plain.flush();
        txn.abortTransaction();
        aborted += 30L * partitions;
        committed += 10L * partitions;
        txn.beginTransaction();
        for (int p = 0; p < partitions; p++) for (int k = 0; k < 15; k++) txn.send(record(topic, p, "committed-last"));
        txn.commitTransaction();
        committed += 15L * partitions;
      }
      for (KafkaProducer<byte[], byte[]> c : compressed) c.close();
    }
    System.err.println("DONE committed=" + committed + " aborted=" + aborted);
  }
}
