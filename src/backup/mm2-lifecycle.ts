/** What the backup runbook does to MirrorMaker 2 on a host, from what it found there. Pure. */

export interface MirrorMakerState {
  host: string;
  running: boolean;
  /** The config file on the host is byte for byte the one this run rendered. */
  configMatches: boolean;
}

export type MirrorMakerAction = 'leave-alone' | 'start' | 'restart';

export interface MirrorMakerPlan {
  action: MirrorMakerAction;
  stop: boolean;
  writeConfig: boolean;
  start: boolean;
}

/**
 * Running with exactly this config: left alone. Stopped: the config written if it differs, then started.
 * Running with another config: stopped, the config written, started.
 */
export function planMirrorMaker(state: Pick<MirrorMakerState, 'running' | 'configMatches'>): MirrorMakerPlan {
  if (state.running && state.configMatches) return { action: 'leave-alone', stop: false, writeConfig: false, start: false };
  if (state.running) return { action: 'restart', stop: true, writeConfig: true, start: true };
  return { action: 'start', stop: false, writeConfig: !state.configMatches, start: true };
}
