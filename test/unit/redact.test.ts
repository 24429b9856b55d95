import { redactSecrets, REDACTED, scrub } from '../../src/redact';

const S = 'Sup3r-s3cret!';

describe('redactSecrets: a password, secret or token value becomes ***', () => {
  test.each<[string, string, string]>([
    ['properties key=value', `ssl.keystore.password=${S}`, 'ssl.keystore.password=***'],
    ['properties with spaces around =', `ssl.key.password = ${S}`, 'ssl.key.password = ***'],
    ['properties key: value', `ssl.truststore.password: ${S}`, 'ssl.truststore.password: ***'],
    ['YAML, indented', `  password: ${S}\n  user: ops`, '  password: ***\n  user: ops'],
    ['JAAS password="..."', `org.apache.kafka.common.security.scram.ScramLoginModule required username="ops" password="${S}";`, 'org.apache.kafka.common.security.scram.ScramLoginModule required username="ops" password="***";'],
    ['JAAS single quotes', `password='${S}'`, "password='***'"],
    ['a whole sasl.jaas.config value (PLAIN user_<name>= passwords included)', `listener.name.sasl_ssl.plain.sasl.jaas.config=PlainLoginModule required user_admin="${S}";`, 'listener.name.sasl_ssl.plain.sasl.jaas.config=***'],
    ['JSON "password":"..."', `{"user":"ops","password":"${S}","port":1}`, '{"user":"ops","password":"***","port":1}'],
    ['JSON with spaces', `{ "client_secret" : "${S}" }`, '{ "client_secret" : "***" }'],
    ['JSON number', `{"token": 123456789}`, '{"token": ***'],
    ['JSON inside a string (escaped quotes)', `"{\\"password\\":\\"${S}\\"}"`, '"{\\"password\\":\\"***\\"}"'],
    ['a quoted value with an escaped quote', `password="a\\"${S}"`, 'password="***"'],
    ['an unterminated quote (cut output)', `password="${S}`, 'password="***"'],
    ['upper case key', `KAFKA_SSL_KEYSTORE_PASSWORD=${S}`, 'KAFKA_SSL_KEYSTORE_PASSWORD=***'],
    ['env-style token', `export API_TOKEN=${S}`, 'export API_TOKEN=***'],
    ['secret in a key name', `sasl.oauthbearer.client.secret=${S}`, 'sasl.oauthbearer.client.secret=***'],
    ['a PEM key in a property', `ssl.keystore.key=-----BEGIN PRIVATE KEY-----MIIE${S}`, 'ssl.keystore.key=***'],
    ['a multi-line PEM block', `x\n-----BEGIN RSA PRIVATE KEY-----\nMIIE${S}\n-----END RSA PRIVATE KEY-----\ny`, 'x\n-----BEGIN RSA PRIVATE KEY----- ***\ny'],
    ['URL user:password@', `https://ops:${S}@registry.example:8081/x`, 'https://ops:***@registry.example:8081/x'],
    ['URL credentials in a sentence', `cannot reach sasl+ssl://admin:${S}@10.0.0.1:9093 now`, 'cannot reach sasl+ssl://admin:***@10.0.0.1:9093 now'],
    ['a --password flag', `kafka-configs.sh --password ${S} --entity-type users`, 'kafka-configs.sh --password *** --entity-type users'],
    ['a --token= flag', `tool --delegation-token=${S}`, 'tool --delegation-token=***'],
    ['a SCRAM config in brackets', `--add-config 'SCRAM-SHA-512=[iterations=8192,password=${S}]'`, "--add-config 'SCRAM-SHA-512=[iterations=8192,password=***"],
    ['Authorization: Bearer', `Authorization: Bearer ${S}abcdefgh`, 'Authorization: ***'],
    ['a bare Bearer token', `sent Bearer abcdefgh${S.replace(/[^A-Za-z0-9]/g, '')}`, 'sent Bearer ***'],
    ['long base64 (file contents a script carried)', `printf %s ${Buffer.from(`ssl.keystore.password=${S}\n`.repeat(5)).toString('base64')} | base64 -d`, 'printf %s [240 characters of base64 left out] | base64 -d'],
  ])('%s', (_what, input, expected) => {
    const out = redactSecrets(input);
    expect(out).toBe(expected);
    expect(out).not.toContain(S);
  });

  test.each<[string, string]>([
    ['ordinary properties', 'broker.id=1\nlisteners=PLAINTEXT://10.0.0.1:9092\nssl.keystore.location=/etc/kafka/ks.jks\nssl.keystore.type=PKCS12\nkey.serializer=org.apache.kafka.common.serialization.StringSerializer'],
    ['an error without secrets', 'ERROR /etc/kafka/server.properties changed while it was being edited'],
    ['a tool error', 'kafka-leader-election.sh on broker-1 exited 1: Error while executing the tool: org.apache.kafka.common.errors.TimeoutException'],
    ['a sha256', 'sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    ['words that contain "key"', 'monkey=1 turkey: 2 keystore=x'],
  ])('leaves %s alone', (_what, input) => {
    expect(redactSecrets(input)).toBe(input);
  });
});

describe('scrub: redacted, then cut to the end of the output', () => {
  test('caps the length, keeping the end (where a tool prints its error)', () => {
    const out = scrub(`${'x, '.repeat(2000)}\nthe real error`, 100);
    expect(out.length).toBeLessThanOrEqual(100);
    expect(out.endsWith('the real error')).toBe(true);
    expect(out.startsWith('…')).toBe(true);
  });

  test('a cut never splits a key from its value: redaction comes first', () => {
    const text = `ssl.keystore.password=${S}${'y'.repeat(50)}`;
    for (let max = 10; max < text.length; max += 7) expect(scrub(text, max)).not.toContain(S.slice(0, 6));
  });

  test('huge output: its first partial line (maybe a value without its key) is dropped', () => {
    const text = `ssl.keystore.password=${S}${'z'.repeat(70_000)}\nlast line`;
    const out = scrub(text, 50_000);
    expect(out).not.toContain(S);
    expect(out.endsWith('last line')).toBe(true);
  });

  // A backtracking pattern would take minutes on these; the test's own timeout is the guard, not a performance target.
  test('hostile input: no catastrophic backtracking, and the secret is still gone', () => {
    const hostile = [
      'password.'.repeat(7000),
      ' password'.repeat(7000),
      '"'.repeat(60_000),
      `${'\\'.repeat(30_000)}"`,
      `password="${'\\"'.repeat(30_000)}`,
      'a'.repeat(64_000),
      `${'key.'.repeat(16_000)}`,
      ' -key'.repeat(12_000),
      ' \\"password'.repeat(6_000),
      'https://'.repeat(8_000),
      `https://u:${'p'.repeat(60_000)}`,
    ];
    for (const h of hostile) expect(scrub(`${h}\npassword=${S}`, 100_000)).not.toContain(S);
  }, 30_000);

  test('the marker is what the docs say', () => {
    expect(scrub(`token=${S}`)).toBe(`token=${REDACTED}`);
  });
});
