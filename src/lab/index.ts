/**
 * The lab: a local Kafka test bed of SSH-reachable hosts on loopback addresses (127.0.S.x), for the e2e
 * tests and the demo. Runbook code reaches lab hosts only over SSH and the Kafka protocol, as in production.
 */
export { type LabCluster, type LabDownResult, type LabHost, type LabHostStatus, type LabStatus, type LabUpOptions, LAB_KAFKA_VERSIONS, addHost, describeLabCluster, labDown, labDownAll, labStatus, labUp, listLabs, runOnHost } from './cluster';
export { type CommandResult, type SshTarget, sshExec } from './ssh';
export { type TemporalServer, TEMPORAL_PORT, TEMPORAL_UI_PORT, temporalAddress, temporalBinaryPath, temporalDown, temporalSearchAttributes, temporalStatus, temporalUp } from './temporal';
export { type LabMode, type LabSpec, LabSpecError, labKafkaCommands, labMirrorMakerCommands, labZookeeperCommands } from './topology';
export { labRoot, kafkaToolsDir, sshPaths } from './paths';
export { processesMentioning } from './process';
export { MM2_HOST_OCTET, addMirrorMakerHost } from './mirror-maker';
