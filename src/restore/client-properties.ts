/**
 * Client properties for one side of the copier (`source.` or `target.` prefixed), from an inventory's
 * client settings with secrets already resolved, in Kafka's Java client names (RestoreCopier.java) or
 * librdkafka's (restore-copier.c). They travel on the copier's standard input, never on a command line. Pure.
 */
export interface ResolvedClient {
  bootstrapServers: string[];
  tls?: { caPem?: string; certPem?: string; keyPem?: string; keyPassword?: string };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

/** A java.util.Properties value: backslashes, newlines and leading spaces escaped. */
export function propertyValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/^ /, '\\ ');
}

const jaasQuote = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function clientProperties(prefix: 'source' | 'target', c: ResolvedClient): string {
  const props: [string, string][] = [['bootstrap.servers', c.bootstrapServers.join(',')]];
  const protocol = c.sasl ? (c.tls ? 'SASL_SSL' : 'SASL_PLAINTEXT') : c.tls ? 'SSL' : 'PLAINTEXT';
  props.push(['security.protocol', protocol]);
  if (c.tls?.caPem) props.push(['ssl.truststore.type', 'PEM'], ['ssl.truststore.certificates', c.tls.caPem]);
  if (c.tls?.certPem && c.tls.keyPem) {
    props.push(['ssl.keystore.type', 'PEM'], ['ssl.keystore.certificate.chain', c.tls.certPem], ['ssl.keystore.key', c.tls.keyPem]);
    if (c.tls.keyPassword) props.push(['ssl.key.password', c.tls.keyPassword]);
  }
  if (c.sasl) {
    const module = c.sasl.mechanism === 'plain' ? 'org.apache.kafka.common.security.plain.PlainLoginModule' : 'org.apache.kafka.common.security.scram.ScramLoginModule';
    props.push(['sasl.mechanism', c.sasl.mechanism.toUpperCase()], ['sasl.jaas.config', `${module} required username=${jaasQuote(c.sasl.username)} password=${jaasQuote(c.sasl.password)};`]);
  }
  return props.map(([k, v]) => `${prefix}.${k}=${propertyValue(v)}`).join('\n') + '\n';
}

/** The same settings in librdkafka's names, for restore-copier.c (which reads the same escapes). */
export function librdkafkaClientProperties(prefix: 'source' | 'target', c: ResolvedClient): string {
  const props: [string, string][] = [['bootstrap.servers', c.bootstrapServers.join(',')]];
  props.push(['security.protocol', c.sasl ? (c.tls ? 'sasl_ssl' : 'sasl_plaintext') : c.tls ? 'ssl' : 'plaintext']);
  if (c.tls?.caPem) props.push(['ssl.ca.pem', c.tls.caPem]);
  if (c.tls?.certPem && c.tls.keyPem) {
    props.push(['ssl.certificate.pem', c.tls.certPem], ['ssl.key.pem', c.tls.keyPem]);
    if (c.tls.keyPassword) props.push(['ssl.key.password', c.tls.keyPassword]);
  }
  if (c.sasl) props.push(['sasl.mechanisms', c.sasl.mechanism.toUpperCase()], ['sasl.username', c.sasl.username], ['sasl.password', c.sasl.password]);
  return props.map(([k, v]) => `${prefix}.${k}=${propertyValue(v)}`).join('\n') + '\n';
}
