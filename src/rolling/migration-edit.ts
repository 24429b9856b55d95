import { z } from 'zod';

/** The migration's per-node server.properties edits (src/migration/config.ts MigrationConfigEdit), as a rolling restart input field. Workflow-safe. */
const endpoint = z.object({ nodeId: z.number().int().min(0), address: z.string().min(1).max(253), port: z.number().int().min(1).max(65535) }).strict();
const quorum = z
  .object({
    controllers: z.array(endpoint).min(1).max(9),
    style: z.enum(['voters', 'bootstrap-servers']),
    listenerName: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
    securityProtocol: z.string().regex(/^[A-Z_]+$/),
  })
  .strict();

export const migrationConfigEditSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('enter-migration-mode'), quorum }).strict(),
  z.object({ kind: z.literal('enter-kraft-mode') }).strict(),
  z.object({ kind: z.literal('back-to-migration-mode') }).strict(),
  z.object({ kind: z.literal('leave-migration-mode'), controllerListenerName: z.string().regex(/^[A-Z][A-Z0-9_]*$/) }).strict(),
  z.object({ kind: z.literal('finalize-controller') }).strict(),
]);
