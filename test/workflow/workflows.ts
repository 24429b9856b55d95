// Bundle entry for workflow tests: the real workflows plus a probe runbook that exercises the shared controls.
export * from '../../workflows';
export { controlsProbe } from './probe';
