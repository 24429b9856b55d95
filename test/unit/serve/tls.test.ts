import { type Client } from '@temporalio/client';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApi, httpsOptions } from '../../../src/serve/app';
import { TokenStore } from '../../../src/serve/tokens';

/** The API over TLS with the settings' certificate, and with client certificates required when a client CA is set. */

const dir = mkdtempSync(join(tmpdir(), 'serve-tls-'));
const file = (name: string) => join(dir, name);

function selfSigned(name: string, cn: string) {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', file(`${name}.key`), '-out', file(`${name}.pem`)], { stdio: 'ignore' });
}

beforeAll(() => {
  selfSigned('server', '127.0.0.1');
  selfSigned('client', 'bot');
});

function get(port: number, opts: { cert?: Buffer; key?: Buffer }): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path: '/openapi.json', ca: readFileSync(file('server.pem')), ...opts }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

async function listen(tls: Parameters<typeof httpsOptions>[0]) {
  const app = await buildApi({ client: {} as Client, tokens: new TokenStore([]), attestationKey: Buffer.alloc(32), rateLimitPerMinute: 100, https: httpsOptions(tls) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, port: (app.server.address() as { port: number }).port };
}

test('serves HTTPS with the configured certificate', async () => {
  const { app, port } = await listen({ certFile: file('server.pem'), keyFile: file('server.key') });
  try {
    const r = await get(port, {});
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ openapi: '3.0.3' });
  } finally {
    await app.close();
  }
});

test('with a client CA, a client without a certificate it signed is refused at the handshake', async () => {
  const { app, port } = await listen({ certFile: file('server.pem'), keyFile: file('server.key'), clientCaFile: file('client.pem') });
  try {
    await expect(get(port, {})).rejects.toThrow();
    // a certificate the CA did not sign: the server's own
    await expect(get(port, { cert: readFileSync(file('server.pem')), key: readFileSync(file('server.key')) })).rejects.toThrow();
    const r = await get(port, { cert: readFileSync(file('client.pem')), key: readFileSync(file('client.key')) });
    expect(r.status).toBe(200);
  } finally {
    await app.close();
  }
});
