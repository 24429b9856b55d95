import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';

/**
 * Custom search attributes the runbooks set and the dev server must know about. Free of Node imports, so
 * workflow code and the shared names module can import it too.
 */
export const kafkaClusterSearchAttribute = defineSearchAttributeKey('KafkaCluster', SearchAttributeType.KEYWORD);
export const runbookSearchAttribute = defineSearchAttributeKey('Runbook', SearchAttributeType.KEYWORD);
export const runbookStatusSearchAttribute = defineSearchAttributeKey('RunbookStatus', SearchAttributeType.KEYWORD);

/** For @temporalio/testing `createLocal({ server: { searchAttributes } })` and the dev server's CLI flags. */
export const temporalSearchAttributes = [kafkaClusterSearchAttribute, runbookSearchAttribute, runbookStatusSearchAttribute];
