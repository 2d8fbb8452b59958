/**
 * The agent protocol version. Controller and agent must agree exactly: a mismatch is
 * AGENT_VERSION_MISMATCH, fixed by `fleet agent install HOST`.
 */
export const FLEET_VERSION = '0.1.0';
