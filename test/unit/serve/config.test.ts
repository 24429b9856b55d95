import { serveConfig, splitListen } from '../../../src/serve/config';

describe('serve settings', () => {
  test('flags win over the environment; TLS when a certificate and key are given', () => {
    const c = serveConfig({ listen: '0.0.0.0:9443', tlsCert: '/c.pem', tlsKey: '/k.pem' }, { KAFKA_RUNBOOKS_SERVE_LISTEN: '127.0.0.1:1', KAFKA_RUNBOOKS_TOKENS_FILE: '/t.yaml', KAFKA_RUNBOOKS_ATTESTATION_KEY_FILE: '/key', KAFKA_RUNBOOKS_RATE_LIMIT: '30' });
    expect(c).toEqual({ listen: '0.0.0.0:9443', tokensFile: '/t.yaml', attestationKeyFile: '/key', tls: { certFile: '/c.pem', keyFile: '/k.pem' }, rateLimitPerMinute: 30 });
    expect(splitListen('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
  });

  test('every bad or missing setting is named', () => {
    expect(() => serveConfig({ listen: 'localhost', tlsCert: '/c.pem', rateLimit: '0' }, {})).toThrow(
      [
        'invalid serve settings:',
        '  - listen: must be host:port, e.g. 127.0.0.1:8080',
        '  - tokensFile: is required: the token file (--tokens or KAFKA_RUNBOOKS_TOKENS_FILE)',
        '  - attestationKeyFile: is required: the key answers are attested with, the one the worker has (--attestation-key or KAFKA_RUNBOOKS_ATTESTATION_KEY_FILE)',
        '  - tls.keyFile: is required',
        '  - rateLimitPerMinute: must be at least 1',
      ].join('\n'),
    );
  });
});
