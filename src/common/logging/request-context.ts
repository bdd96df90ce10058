import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  requestId: string;
}

/** Carries the request id into every log line written while a request is being served. */
export const requestContext = new AsyncLocalStorage<RequestContext>();
