import { Cancelled, describeError, throwIfAborted } from '../domain/errors.ts';
import type { Envelope, Reply } from './protocol.ts';
import { coalescing, type WorkerEvent } from './token-coalesce.ts';

/** What a request handler gets besides its request: cancellation and an event channel
 * (streamed text on it is joined and sent every 100 ms: token-coalesce.ts). */
export interface RequestContext {
  signal: AbortSignal;
  emit: (event: WorkerEvent) => void;
}

export type Handlers<Req extends { type: string }, Results extends Record<Req['type'], unknown>> = {
  [K in Req['type']]: (
    request: Extract<Req, { type: K }>,
    ctx: RequestContext,
  ) => Promise<Results[K]>;
};

/** The part of a worker's global scope that the protocol uses. */
export interface Port {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}

/**
 * Lets the worker's event loop run once (so a waiting `cancel` message is delivered), then
 * throws Cancelled if the request was cancelled. Call it between steps: tfjs's CPU and
 * WASM reads resolve without ever yielding, so without this a cancel would wait for the end.
 */
export async function cancellationPoint(signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
  throwIfAborted(signal);
}

/** What is wrong with a message as a request envelope, or null when it is one. */
function envelopeProblem(data: unknown, handlers: object): string | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return 'it is not an object';
  const { id, type } = data as { id?: unknown; type?: unknown };
  if (typeof id !== 'number' || !Number.isInteger(id)) return 'it has no request id';
  if (typeof type !== 'string') return 'it has no type';
  if (type !== 'cancel' && !Object.hasOwn(handlers, type))
    return `its type "${type}" is not a request`;
  return null;
}

/**
 * Serves requests on a worker's port: one `switch` over `type` (the handlers table), one
 * AbortController per request, and exactly one final `done` or `error` reply per request.
 * Requests run one after another (a worker owns one runtime whose state they share); a
 * cancellation is handled at once, also for a request still waiting its turn.
 */
export function serveRequests<
  Req extends { type: string },
  Results extends Record<Req['type'], unknown>,
>(port: Port, handlers: Handlers<Req, Results>): void {
  const running = new Map<number, AbortController>();
  let queue: Promise<unknown> = Promise.resolve();
  const post = (reply: Reply<unknown>) => port.postMessage(reply);

  port.addEventListener('message', (event: MessageEvent) => {
    const problem = envelopeProblem(event.data, handlers);
    if (problem) {
      // Only this message fails: its own id gets the error (-1 when it has none).
      const id = (event.data as { id?: unknown } | null)?.id;
      const message = `This worker got a message it does not understand: ${problem}.`;
      console.warn(message, event.data);
      post({ id: typeof id === 'number' ? id : -1, status: 'error', message, cancelled: false });
      return;
    }
    const message = event.data as Envelope<Req>;
    if (message.type === 'cancel') {
      running.get((message as { target: number }).target)?.abort();
      return;
    }
    const request = message as Req & { id: number };
    const controller = new AbortController();
    running.set(request.id, controller);
    const events = coalescing((e) => post({ ...e, id: request.id } as Reply<unknown>));
    const ctx: RequestContext = { signal: controller.signal, emit: events.emit };
    const handler = handlers[request.type as Req['type']] as (
      r: Req,
      c: RequestContext,
    ) => Promise<unknown>;
    queue = queue
      .then(() => {
        throwIfAborted(controller.signal);
        return handler(request, ctx);
      })
      .then(
        (result) => {
          events.flush();
          post({ id: request.id, status: 'done', result });
        },
        (error: unknown) => {
          events.flush();
          const cancelled = error instanceof Cancelled || controller.signal.aborted;
          // The page gets a readable message; the stack goes to the worker's console.
          if (!cancelled) console.warn(`${request.type} failed:`, error);
          post({ id: request.id, status: 'error', message: describeError(error), cancelled });
        },
      )
      .finally(() => running.delete(request.id));
  });
}
