import { ScheduleOverlapPolicy } from '@temporalio/client';
import { buildSchedule, ScheduleRequestError } from '../../../src/cli/schedules';

const backup = { runbook: 'mirror-backup', input: { cluster: 'prod' } };

describe('schedule create: checked and built before anything is created', () => {
  test('the nightly backup: cron in a time zone, overlap skip and a catch-up window by default, the input as the only argument', () => {
    const { options, warnings } = buildSchedule({ ...backup, cron: ['0 2 * * *'], timezone: 'Europe/Paris', note: 'nightly backup' }, 'kafka-runbooks');
    expect(warnings).toEqual([]);
    expect(options.scheduleId).toBe('mirror-backup/prod');
    expect(options.spec).toEqual({ cronExpressions: ['0 2 * * *'], timezone: 'Europe/Paris' });
    expect(options.policies).toEqual({ overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 3_600_000 });
    expect(options.state).toEqual({ paused: false, note: 'nightly backup' });
    expect(options.action).toMatchObject({ type: 'startWorkflow', workflowType: 'mirrorBackup', taskQueue: 'kafka-runbooks', args: [{ cluster: 'prod' }], workflowId: 'mirrorBackup/prod/scheduled' });
  });

  test('an interval, another overlap policy and catch-up window', () => {
    const { options } = buildSchedule({ ...backup, every: '6h', overlap: 'buffer-one', catchupWindow: '10m' }, 'q');
    expect(options.spec).toEqual({ intervals: [{ every: 6 * 3_600_000 }], timezone: 'UTC' });
    expect(options.policies).toEqual({ overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: 600_000 });
  });

  test('a disruptive runbook needs --force, and then comes with a warning', () => {
    const restart = { runbook: 'rolling-restart', input: { cluster: 'prod' }, cron: ['0 3 * * 0'] };
    expect(() => buildSchedule(restart, 'q')).toThrow('rolling-restart is disruptive (it changes cluster prod and takes its lock): scheduling it unattended needs --force');
    const forced = buildSchedule({ ...restart, force: true }, 'q');
    expect(forced.warnings).toEqual(['warning: rolling-restart is disruptive; each scheduled run will change cluster prod with nobody watching it start']);
  });

  test.each([
    [{ ...backup }, 'give either --cron or --every (exactly one)'],
    [{ ...backup, cron: ['0 2 * * *'], every: '1h' }, 'give either --cron or --every (exactly one)'],
    [{ ...backup, cron: ['0 2 * *'] }, 'must have 5 fields'],
    [{ ...backup, cron: ['0 2 * * *'], timezone: 'Mars/Olympus' }, 'not an IANA time zone'],
    [{ ...backup, cron: ['0 2 * * *'], overlap: 'sometimes' }, '--overlap "sometimes": one of skip, buffer-one'],
    [{ ...backup, every: 'soon' }, '--every "soon": not a duration'],
    [{ runbook: 'nightly-magic', input: { cluster: 'prod' }, every: '1h' }, 'unknown runbook "nightly-magic"'],
    [{ runbook: 'mirror-backup', input: { cluster: 'prod', tasksMax: 0 }, every: '1h' }, 'tasksMax: must be at least 1'],
  ])('refuses %j', (req, message) => {
    expect(() => buildSchedule(req, 'q')).toThrow(ScheduleRequestError);
    expect(() => buildSchedule(req, 'q')).toThrow(message);
  });
});
