import { z } from 'zod';
import { clusterNameSchema } from '../limits';

export const clusterHealthInput = z
  .object({
    /** The cluster's name in the worker's inventory. */
    cluster: clusterNameSchema,
    /** Data dir filesystem usage that raises a warning / a critical finding. */
    diskWarnPercent: z.number().min(1).max(100).default(85),
    diskCriticalPercent: z.number().min(1).max(100).default(95),
    /** Fail the run (not just report) when the cluster is not healthy: for schedules and scripts. */
    failWhenUnhealthy: z.boolean().default(false),
  })
  .strict()
  .refine((i) => i.diskWarnPercent <= i.diskCriticalPercent, {
    message: 'must not be above diskCriticalPercent',
    path: ['diskWarnPercent'],
  });

export type ClusterHealthInput = z.input<typeof clusterHealthInput>;
