// undici's Agent alone, without the rest of the package (fetch, WebSocket, cache, mocks).
// undici ships types for its entry point only; this module is the same class.
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';
  // Only what the module itself defines: the entry point adds request(), stream() and the
  // like to the prototype, so they are missing when it is loaded alone.
  const AgentClass: new (options?: Agent.Options) => Pick<Agent, 'dispatch' | 'close'>;
  export default AgentClass;
}
