import { Cancelled, describeError, throwIfAborted } from '../domain/errors.ts';
import type { Envelope, Reply, ReplyEvent } from './protocol.ts';

/** What a request handler gets besides its request: cancellation and an event channel. */
export interface RequestContext {
  signal: AbortSignal;
  emit: (event: DistributiveOmit<ReplyEvent, 'id'>) => void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

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
    const message = event.data as Envelope<Req>;
    if (message.type === 'cancel') {
      running.get((message as { target: number }).target)?.abort();
      return;
    }
    const request = message as Req & { id: number };
    const controller = new AbortController();
    running.set(request.id, controller);
    const ctx: RequestContext = {
      signal: controller.signal,
      emit: (e) => post({ ...e, id: request.id } as Reply<unknown>),
    };
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
        (result) => post({ id: request.id, status: 'done', result }),
        (error: unknown) => {
          const cancelled = error instanceof Cancelled || controller.signal.aborted;
          // The page gets a readable message; the stack goes to the worker's console.
          if (!cancelled) console.warn(`${request.type} failed:`, error);
          post({ id: request.id, status: 'error', message: describeError(error), cancelled });
        },
      )
      .finally(() => running.delete(request.id));
  });
}
