import type { Envelope, Reply, ReplyEvent } from './protocol.ts';

/** A request in flight: its final result, its id, and a way to stop it. */
export interface Call<Result> {
  id: number;
  result: Promise<Result>;
  cancel(): void;
}

/** The error a request's promise rejects with; `cancelled` tells a Stop from a failure. */
export class WorkerRequestError extends Error {
  constructor(
    message: string,
    readonly cancelled: boolean,
  ) {
    super(message);
    this.name = 'WorkerRequestError';
  }
}

/** The part of a Worker the client needs (a real Worker, or a test double). */
export interface WorkerLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  addEventListener(type: 'error', listener: (event: ErrorEvent) => void): void;
  terminate(): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  onEvent: ((event: ReplyEvent) => void) | undefined;
}

/** When a failed request leaves its worker unusable, so the client starts a fresh one. */
export type RestartAfter = (requestType: string) => boolean;

/**
 * Main-thread side of the protocol: numbers requests, routes replies to their caller,
 * returns promises for results and calls back for each streamed event. `spawn` starts the
 * worker; when a request of a kind `restartAfter` names fails (not a Stop), the worker is
 * replaced by a fresh one once it has answered, so one bad request cannot break later ones.
 */
export class WorkerClient<
  // No request may carry a field named `id`: the envelope's request id would overwrite it.
  Req extends { type: string; id?: never },
  Results extends Record<Req['type'], unknown>,
> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending & { type: string }>();
  private readonly noticeListeners = new Set<(event: ReplyEvent) => void>();
  private worker: WorkerLike;
  /** How many times the worker was replaced (for tests and the curious). */
  restarts = 0;

  constructor(
    private readonly spawn: () => WorkerLike,
    private readonly name: string,
    private readonly restartAfter: RestartAfter = () => false,
  ) {
    this.worker = this.attach(spawn());
  }

  private attach(worker: WorkerLike): WorkerLike {
    worker.addEventListener('message', (event: MessageEvent) => {
      if (worker === this.worker) this.receive(event.data as Reply<unknown>);
    });
    worker.addEventListener('error', (event: ErrorEvent) => {
      if (worker !== this.worker) return;
      const message = `The ${this.name} worker crashed: ${event.message || 'unknown error'}`;
      for (const p of this.pending.values()) p.reject(new WorkerRequestError(message, false));
      this.pending.clear();
    });
    return worker;
  }

  /** A fresh worker in place of one a failed request left unusable (nothing else in flight). */
  private restart(): void {
    this.worker.terminate();
    this.worker = this.attach(this.spawn());
    this.restarts++;
  }

  /** Sends a request; `onEvent` receives its loading/progress/token/metrics events. */
  call<T extends Req['type']>(
    request: Extract<Req, { type: T }>,
    onEvent?: (event: ReplyEvent) => void,
  ): Call<Results[T]> {
    const id = this.nextId++;
    const result = new Promise<Results[T]>((resolve, reject) => {
      const type = request.type;
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onEvent, type });
    });
    this.worker.postMessage({ ...request, id } satisfies Envelope<Req>);
    return { id, result, cancel: () => this.cancel(id) };
  }

  /** Shorthand for `call(...).result`. */
  request<T extends Req['type']>(
    request: Extract<Req, { type: T }>,
    onEvent?: (event: ReplyEvent) => void,
  ): Promise<Results[T]> {
    return this.call(request, onEvent).result;
  }

  cancel(target: number): void {
    if (this.pending.has(target)) this.worker.postMessage({ type: 'cancel', id: 0, target });
  }

  /** Listens to unsolicited notices (id 0), e.g. a backend switch after a device loss. */
  onNotice(listener: (event: ReplyEvent) => void): () => void {
    this.noticeListeners.add(listener);
    return () => this.noticeListeners.delete(listener);
  }

  terminate(): void {
    this.worker.terminate();
    for (const p of this.pending.values())
      p.reject(new WorkerRequestError(`The ${this.name} worker was stopped.`, true));
    this.pending.clear();
  }

  private receive(reply: Reply<unknown>): void {
    if (reply.id === 0) {
      if (reply.status !== 'done' && reply.status !== 'error')
        for (const listener of this.noticeListeners) listener(reply);
      return;
    }
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    if (reply.status === 'done') {
      this.pending.delete(reply.id);
      pending.resolve(reply.result);
    } else if (reply.status === 'error') {
      this.pending.delete(reply.id);
      // Only when nothing else is in flight: a restart would fail the other requests.
      if (!reply.cancelled && this.restartAfter(pending.type) && this.pending.size === 0)
        this.restart();
      pending.reject(new WorkerRequestError(reply.message, reply.cancelled));
    } else {
      pending.onEvent?.(reply);
    }
  }
}
