// undici's Agent alone, without the rest of the package (fetch, WebSocket, cache, mocks).
// undici ships types for its entry point only; this module is the same class.
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';
  const AgentClass: typeof Agent;
  export default AgentClass;
}
