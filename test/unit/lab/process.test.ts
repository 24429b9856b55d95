import { spawn } from 'node:child_process';
import { isAliveAndOurs } from '../../../src/lab/process';

test("a live pid counts as the lab's only when its command line names the lab's directory", async () => {
  const child = spawn('sleep', ['30']);
  try {
    await new Promise((r) => setTimeout(r, 100));
    expect(isAliveAndOurs(child.pid ?? null, 'sleep')).toBe(true);
    // The same pid, read from a stale pid file of some lab: not ours, never to be killed.
    expect(isAliveAndOurs(child.pid ?? null, '/work/main/.lab/other-lab/')).toBe(false);
    expect(isAliveAndOurs(null, 'sleep')).toBe(false);
  } finally {
    child.kill();
  }
});
