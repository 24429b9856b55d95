// Three tiers, run separately: pure logic, workflows on a real Temporal dev server with fake activities,
// and end to end on the lab (real brokers over SSH).
const tsJest = ['ts-jest', { diagnostics: false }];
const base = { testEnvironment: 'node', transform: { '^.+\\.ts$': tsJest }, moduleFileExtensions: ['ts', 'js', 'json'] };
module.exports = {
  projects: [
    { ...base, displayName: 'unit', setupFilesAfterEnv: ['<rootDir>/test/support/timeout-unit.ts'], testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...base, displayName: 'workflow', setupFilesAfterEnv: ['<rootDir>/test/support/timeout-workflow.ts'], testMatch: ['<rootDir>/test/workflow/**/*.test.ts'] },
    { ...base, displayName: 'e2e', setupFilesAfterEnv: ['<rootDir>/test/support/timeout-e2e.ts'], testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
