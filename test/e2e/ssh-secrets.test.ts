import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClusterReadActivities } from '../../activities/cluster-reads';
import { createClusterRegistry } from '../../activities/clusters';
import { createNodeActivities } from '../../activities/nodes';
import { createHostShell, type HostShell } from '../../activities/ssh';
import { type Inventory, type InventoryHost } from '../../src/inventory/schema';
import { processesMentioning } from '../../src/lab';
import { progressQuery } from '../../src/names';
import { silentLogger, startDevServer, withInputValidation } from '../support/temporal';
import { type ConfigEditProbeInput } from './support/config-edit-probe';
import { type SshdHost, startSshdHost } from './support/sshd-host';

/**
 * What the engine does over SSH, on a real sshd host (subnet 63, no Kafka): timed-out commands are stopped
 * on the host, and secrets in a host's config never reach workflow history, details or results, whatever
 * way the config edit fails.
 */

const SECRETS = {
  keystore: 'KeystorePw-s3cr3t-9f1c',
  jaas: 'JaasPw-s3cr3t-77ab',
  json: 'JsonPw-s3cr3t-41d0',
  url: 'UrlPw-s3cr3t-c0de',
  yaml: 'YamlPw-s3cr3t-5e5e',
};

const SERVER_PROPERTIES = [
  'broker.id=1',
  'listeners=SASL_SSL://127.0.63.1:9092',
  `ssl.keystore.password=${SECRETS.keystore}`,
  `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${SECRETS.jaas}" user_admin="${SECRETS.jaas}";`,
  'zookeeper.connect=127.0.63.1:2181',
  '',
].join('\n');

/** What a tool that dumps its configuration on failure prints: every form the scrubber knows. */
const TOOL_STDERR = [
  `Error while executing the tool: java.lang.IllegalArgumentException: bad JAAS entry org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${SECRETS.jaas}";`,
  SERVER_PROPERTIES,
  `{"bootstrap":"127.0.63.1:9092","password":"${SECRETS.json}"}`,
  `schema registry at https://ops:${SECRETS.url}@registry.example:8081/subjects`,
  `ssl.truststore.password: ${SECRETS.yaml}`,
].join('\n');

/** Every base64 run decoded, recursively: history payloads are base64 JSON, and a command may hold base64 file contents. */
function withDecodedBase64(text: string, depth = 3): string {
  let all = text;
  let layer = text;
  for (let i = 0; i < depth; i++) {
    const decoded = (layer.match(/[A-Za-z0-9+/]{16,}={0,2}/g) ?? []).map((t) => Buffer.from(t, 'base64').toString('utf8')).filter((d) => /^[\t\n\r -~]*$/.test(d.slice(0, 64)));
    if (decoded.length === 0) break;
    layer = decoded.join('\n');
    all += `\n${layer}`;
  }
  return all;
}

const leakedSecrets = (text: string): string[] => {
  const all = withDecodedBase64(text);
  return Object.values(SECRETS).filter((s) => all.includes(s));
};

describe('SSH commands on a real sshd host', () => {
  let sshd: SshdHost;
  let inv: Inventory;
  let host: InventoryHost;
  let shell: HostShell;

  beforeAll(async () => {
    sshd = await startSshdHost('e2e-ssh-secrets', 63);
    inv = sshd.inventory({ cluster: 'ssh-secrets' });
    host = inv.hosts[0] as InventoryHost;
    shell = createHostShell();
  }, 60_000);
  afterAll(async () => {
    await shell?.close();
    await sshd?.stop();
  });

  test('a timed-out command is stopped on the host: no process left, its next step never runs, a retry runs alone', async () => {
    const marker = join(sshd.root, 'marker');
    const sleepFor = '4.3217'; // unique, to find the process on the host
    const started = Date.now();
    const err = await shell.exec(host, `sleep ${sleepFor}; touch ${marker}`, { timeoutMs: 1000 }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/timed out after 1000 ms/);
    expect(err?.message).not.toContain(marker); // the command is never echoed
    expect(Date.now() - started).toBeLessThan(4000); // the failure came before the command would have ended
    expect(processesMentioning(`sleep ${sleepFor}`)).toEqual([]);
    const again = await shell.exec(host, 'echo again');
    expect(again.stdout.trim()).toBe('again');
    await sleep(4500);
    expect(existsSync(marker)).toBe(false);
  });

  test('a timed-out command that escaped its process group (setsid) and holds the channel open: the connection is dropped, the next command reconnects', async () => {
    const sleepFor = '9.8765';
    const err = await shell.exec(host, `setsid sleep ${sleepFor} & wait`, { timeoutMs: 1000 }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    try {
      expect(err?.message).toMatch(/timed out after 1000 ms and the host did not report it stopped; the connection was dropped/);
      expect(err?.message).not.toContain('setsid');
      expect((await shell.exec(host, 'echo reconnected')).stdout.trim()).toBe('reconnected');
    } finally {
      for (const p of processesMentioning(`sleep ${sleepFor}`)) process.kill(p.pid, 'SIGKILL');
    }
  });

  test('a host key listed under @revoked is refused, even when a plain line lists it too', async () => {
    const revoked = join(sshd.root, 'known_hosts.revoked');
    const known = readFileSync(sshd.ssh.knownHosts, 'utf8');
    const key = known.trim().split(/\s+/).slice(1, 3).join(' ');
    writeFileSync(revoked, `${known}@revoked * ${key}\n`);
    const fresh = createHostShell();
    try {
      const strictHost = sshd.inventory({ cluster: 'revoked', ssh: { knownHostsFile: revoked } }).hosts[0] as InventoryHost;
      await expect(fresh.exec(strictHost, 'true')).rejects.toThrow(/listed under @revoked/);
      // The same known_hosts without the @revoked line is accepted: the refusal is the marker's doing.
      await expect(fresh.exec(host, 'true')).resolves.toMatchObject({ code: 0 });
    } finally {
      await fresh.close();
    }
  });

  test('a connection made with host-key checking off is not reused for a host that checks its key', async () => {
    const empty = join(sshd.root, 'known_hosts.empty');
    writeFileSync(empty, '');
    const fresh = createHostShell();
    try {
      const unchecked = sshd.inventory({ cluster: 'weak', ssh: { knownHostsFile: empty, strictHostKeyChecking: false } }).hosts[0] as InventoryHost;
      const checked = sshd.inventory({ cluster: 'strict', ssh: { knownHostsFile: empty } }).hosts[0] as InventoryHost;
      await expect(fresh.exec(unchecked, 'true')).resolves.toMatchObject({ code: 0 });
      await expect(fresh.exec(checked, 'true')).rejects.toThrow(/host key not found/);
    } finally {
      await fresh.close();
    }
  });

  describe('secrets in a host config never reach history, details or results', () => {
    let env: TestWorkflowEnvironment;
    let worker: Worker;
    let running: Promise<void>;
    /** Runs before every command of the current test with its number (from 1) and its options, which it may change. */
    let forceBefore: ((call: number, opts: { timeoutMs?: number; stdin?: string }) => Promise<void>) | null = null;
    let calls = 0;
    const toolDump = () => join(sshd.root, 'tool-stderr.txt');

    beforeAll(async () => {
      try {
        Runtime.install({ logger: new DefaultLogger('ERROR', () => undefined) }); // the failures are the point: keep them out of the output
      } catch {
        // already installed in this process
      }
      const probeInv = sshd.inventory({ cluster: 'ssh-secrets', kafka: { commands: { tool: `cat ${toolDump()} >&2; exit 1 # {{tool}}` } } });
      const forcing: HostShell = {
        async exec(h, command, opts = {}) {
          calls += 1;
          const o = { ...opts };
          if (forceBefore) await forceBefore(calls, o);
          return shell.exec(h, command, o);
        },
        close: async () => undefined,
      };
      const clusters = createClusterRegistry(new Map([[probeInv.name, probeInv]]));
      env = await startDevServer();
      worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue: 'ssh-secrets',
        workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./support/config-edit-probe'), logger: silentLogger }),
        // The controls read the approval policy at start: the no-policy approval activities, as every test worker has.
        activities: withInputValidation({ ...createClusterReadActivities({ clusters, shell: forcing }), ...createNodeActivities({ clusters, shell: forcing, pollIntervalMs: 100 }) }),
      });
      running = worker.run();
    }, 120_000);
    afterAll(async () => {
      worker?.shutdown();
      await running;
      await env?.teardown();
    });

    beforeEach(async () => {
      calls = 0;
      forceBefore = null;
      await sshd.run(`chattr -i ${sshd.paths.configFile.replace(/\/[^/]+$/, '')} 2>/dev/null; rm -f ${sshd.paths.configFile}*`);
      const w = await sshd.run(`cat > ${sshd.paths.configFile} <<'EOF'\n${SERVER_PROPERTIES}EOF\ncat > ${toolDump()} <<'EOF'\n${TOOL_STDERR}\nEOF`);
      expect(w.code).toBe(0);
    });

    /** Runs the probe to its failure and returns everything a user or the server keeps of it. */
    async function failedRun(input: Omit<ConfigEditProbeInput, 'cluster' | 'host'>, id: string): Promise<{ failure: string; corpus: string }> {
      const handle = await env.client.workflow.start('configEditProbe', { taskQueue: 'ssh-secrets', workflowId: `${id}-${Date.now()}`, args: [{ cluster: 'ssh-secrets', host: 'h1', ...input }] });
      const err = await handle.result().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const chain: string[] = [];
      for (let c: unknown = err; c instanceof Error; c = (c as { cause?: unknown }).cause) chain.push(c.message, c.stack ?? '', JSON.stringify(c));
      const history = JSON.stringify(await handle.fetchHistory(), (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v));
      const progress = JSON.stringify(await handle.query(progressQuery));
      const metadata = JSON.stringify(await handle.query('__temporal_workflow_metadata'));
      const description = JSON.stringify(await handle.describe(), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
      const corpus = [chain.join('\n'), history, progress, metadata, description].join('\n');
      // The grep sees inside payloads: the run's input, a JSON payload in history, is found decoded.
      expect(withDecodedBase64(corpus)).toContain('"cluster":"ssh-secrets"');
      return { failure: chain.join('\n'), corpus };
    }

    test('the edit succeeds: the file is rewritten whole from standard input, its mode kept, and nothing of it is in history', async () => {
      await sshd.run(`chmod 640 ${sshd.paths.configFile}`);
      const handle = await env.client.workflow.start('configEditProbe', { taskQueue: 'ssh-secrets', workflowId: `edit-ok-${Date.now()}`, args: [{ cluster: 'ssh-secrets', host: 'h1', step: 'carry-over' }] });
      await expect(handle.result()).resolves.toMatchObject({ changed: true, changes: [expect.stringMatching(/pinned inter.broker.protocol.version=3.8/)] });
      const text = readFileSync(sshd.paths.configFile, 'utf8');
      expect(text.startsWith(SERVER_PROPERTIES)).toBe(true);
      expect(text).toMatch(/\ninter\.broker\.protocol\.version=3\.8\n$/);
      expect((await sshd.run(`stat -c %a ${sshd.paths.configFile}`)).stdout.trim()).toBe('640');
      expect((await sshd.run(`ls ${sshd.paths.configFile}.tmp-* 2>/dev/null | wc -l`)).stdout.trim()).toBe('0');
      const history = JSON.stringify(await handle.fetchHistory(), (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v));
      expect(leakedSecrets(history)).toEqual([]);
    });

    test('the file changed while it was being edited (changed on the host between the read and the write)', async () => {
      forceBefore = async (call) => {
        if (call === 2) await sshd.run(`echo '# edited by hand' >> ${sshd.paths.configFile}`);
      };
      const { failure, corpus } = await failedRun({ step: 'carry-over' }, 'changed');
      expect(failure).toMatch(/changed while it was being edited/);
      expect(leakedSecrets(corpus)).toEqual([]);
    });

    test('the write fails (the config directory made immutable between the read and the write)', async () => {
      const dir = sshd.paths.configFile.replace(/\/[^/]+$/, '');
      forceBefore = async (call) => {
        if (call === 2) await sshd.run(`chattr +i ${dir}`);
      };
      try {
        const { failure, corpus } = await failedRun({ step: 'carry-over' }, 'write-fails');
        expect(failure).toMatch(/cannot write/);
        expect(leakedSecrets(corpus)).toEqual([]);
      } finally {
        await sshd.run(`chattr -i ${dir}`);
      }
      expect(readFileSync(sshd.paths.configFile, 'utf8')).toBe(SERVER_PROPERTIES); // nothing half-written
    });

    test('the write times out (the config replaced by a FIFO with no writer, so reading it blocks; the timeout shortened to 1.5 s)', async () => {
      const cfg = sshd.paths.configFile;
      forceBefore = async (call, opts) => {
        if (call === 2) await sshd.run(`mv ${cfg} ${cfg}.real && mkfifo ${cfg}`);
        if (call >= 2) opts.timeoutMs = 1500; // the retry's read blocks on the FIFO too
      };
      const { failure, corpus } = await failedRun({ step: 'carry-over' }, 'write-times-out');
      expect(failure).toMatch(/timed out/);
      expect(leakedSecrets(corpus)).toEqual([]);
      expect(processesMentioning(cfg)).toEqual([]); // the blocked write was stopped on the host
    });

    test('a Kafka tool fails and prints its configuration, passwords included, on stderr', async () => {
      const { failure, corpus } = await failedRun({ step: 'quorum' }, 'tool-fails');
      expect(failure).toMatch(/could not read the KRaft quorum/);
      expect(failure).toMatch(/exited 1: Error while executing the tool/); // the error still says what failed
      expect(corpus).toContain('password="***"');
      expect(leakedSecrets(corpus)).toEqual([]);
    });
  });
});
