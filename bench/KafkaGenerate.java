import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.Method;
import java.util.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.metadata.placement.UsableBroker;

/**
 * Runs the planner behind `kafka-reassign-partitions.sh --generate` on cluster metadata given as JSON on stdin:
 * ReassignPartitionsCommand.calculateAssignment, the private step --generate calls once it has read the current
 * assignment and the --broker-list from a live cluster. Output: the proposed assignment as JSON on stdout.
 * Run: java -cp '.tools/kafka/4.3.1/libs/*' bench/KafkaGenerate.java < cluster.json
 */
public class KafkaGenerate {
  public static void main(String[] args) throws Exception {
    ObjectMapper json = new ObjectMapper();
    JsonNode in = json.readTree(System.in);
    Map<TopicPartition, List<Integer>> current = new HashMap<>();
    for (JsonNode p : in.get("partitions")) {
      List<Integer> replicas = new ArrayList<>();
      p.get("replicas").forEach(r -> replicas.add(r.asInt()));
      current.put(new TopicPartition(p.get("topic").asText(), p.get("partition").asInt()), replicas);
    }
    List<UsableBroker> brokers = new ArrayList<>();
    for (JsonNode b : in.get("brokers")) {
      JsonNode rack = b.get("rack");
      brokers.add(new UsableBroker(b.get("id").asInt(), rack == null || rack.isNull() ? Optional.empty() : Optional.of(rack.asText()), false));
    }
    Class<?> cmd = Class.forName("org.apache.kafka.tools.reassign.ReassignPartitionsCommand");
    Method calculate = cmd.getDeclaredMethod("calculateAssignment", Map.class, List.class);
    calculate.setAccessible(true);
    @SuppressWarnings("unchecked")
    Map<TopicPartition, List<Integer>> proposed = (Map<TopicPartition, List<Integer>>) calculate.invoke(null, current, brokers);
    ObjectNode out = json.createObjectNode();
    ArrayNode parts = out.putArray("partitions");
    proposed.forEach((tp, replicas) -> {
      ObjectNode p = parts.addObject();
      p.put("topic", tp.topic());
      p.put("partition", tp.partition());
      ArrayNode r = p.putArray("replicas");
      replicas.forEach(r::add);
    });
    json.writeValue(System.out, out);
  }
}
