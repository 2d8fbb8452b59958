export type { AgentRouter } from './router.ts';
