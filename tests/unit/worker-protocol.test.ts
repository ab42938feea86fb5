import { describe, expect, test } from 'vitest';
import type { ReplyEvent } from '../../src/lib/workers/protocol.ts';
import { describeError } from '../../src/lib/domain/errors.ts';
import { cancellationPoint, serveRequests, type Port } from '../../src/lib/workers/serve.ts';
import { coalescing, type WorkerEvent } from '../../src/lib/workers/token-coalesce.ts';
import {
  WorkerClient,
  WorkerRequestError,
  type WorkerLike,
} from '../../src/lib/workers/worker-client.ts';

type Req = { type: 'add'; a: number; b: number } | { type: 'count'; to: number } | { type: 'fail' };
type Results = { add: number; count: number; fail: never };

/** A worker and its port, wired in memory with structured cloning, as postMessage does. */
function pair(): { worker: WorkerLike; port: Port } {
  const toWorker: ((e: MessageEvent) => void)[] = [];
  const toPage: ((e: MessageEvent) => void)[] = [];
  const send = (listeners: ((e: MessageEvent) => void)[], data: unknown) =>
    setTimeout(
      () => listeners.forEach((l) => l({ data: structuredClone(data) } as MessageEvent)),
      0,
    );
  return {
    worker: {
      postMessage: (m) => send(toWorker, m),
      addEventListener: ((type: string, l: (e: MessageEvent) => void) => {
        if (type === 'message') toPage.push(l);
      }) as WorkerLike['addEventListener'],
      terminate: () => {},
    },
    port: {
      postMessage: (m) => send(toPage, m),
      addEventListener: (_type, l) => toWorker.push(l),
    },
  };
}

function start() {
  const { worker, port } = pair();
  const order: string[] = [];
  serveRequests<Req, Results>(port, {
    add: async (r) => {
      order.push('add');
      return r.a + r.b;
    },
    count: async (r, ctx) => {
      order.push('count');
      for (let i = 1; i <= r.to; i++) {
        await cancellationPoint(ctx.signal);
        ctx.emit({ status: 'progress', done: i, total: r.to, message: `step ${i}` });
      }
      return r.to;
    },
    fail: async () => {
      throw new Error('The model file is corrupt.');
    },
  });
  return { client: new WorkerClient<Req, Results>(() => worker, 'test'), order, port, worker };
}

describe('worker protocol', () => {
  test('a request resolves with its result and streams its events first', async () => {
    const { client } = start();
    const events: ReplyEvent[] = [];
    expect(await client.request({ type: 'count', to: 3 }, (e) => events.push(e))).toBe(3);
    expect(events.map((e) => e.status === 'progress' && e.message)).toEqual([
      'step 1',
      'step 2',
      'step 3',
    ]);
    expect(await client.request({ type: 'add', a: 2, b: 3 })).toBe(5);
  });

  test('an error reaches the caller as a readable message, not a crash', async () => {
    const { client } = start();
    const error = await client.request({ type: 'fail' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerRequestError);
    expect((error as WorkerRequestError).message).toBe('The model file is corrupt.');
    expect((error as WorkerRequestError).cancelled).toBe(false);
  });

  test('cancel stops a running request between steps', async () => {
    const { client } = start();
    const seen: number[] = [];
    const call = client.call({ type: 'count', to: 1000 }, (e) => {
      if (e.status === 'progress') {
        seen.push(e.done);
        if (e.done === 2) call.cancel();
      }
    });
    const error = (await call.result.catch((e: unknown) => e)) as WorkerRequestError;
    expect(error.cancelled).toBe(true);
    expect(error.message).toBe('Cancelled.');
    expect(seen.length).toBeLessThan(200); // stopped long before the 1000th step
  });

  test('requests run one at a time, in order; a queued cancelled one never starts', async () => {
    const { client, order } = start();
    // The first request yields 200 times, so the cancel reaches the worker while the second
    // still waits its turn (with 5 the first could finish before the cancel arrived).
    const first = client.call({ type: 'count', to: 200 });
    const second = client.call({ type: 'add', a: 1, b: 1 });
    second.cancel();
    const third = client.call({ type: 'add', a: 2, b: 2 });
    expect(await first.result).toBe(200);
    expect(await second.result.catch((e: WorkerRequestError) => e.cancelled)).toBe(true);
    expect(await third.result).toBe(4);
    expect(order).toEqual(['count', 'add']);
  });

  test('a malformed message gets an error of its own; requests in flight go on', async () => {
    const { client, worker } = start();
    const replies: unknown[] = [];
    worker.addEventListener('message', (e: MessageEvent) => replies.push(e.data));
    const running = client.request({ type: 'count', to: 20 });
    for (const bad of [null, 7, { id: 90 }, { id: 91, type: 'nope' }, { type: 'add' }])
      worker.postMessage(bad);
    expect(await running).toBe(20);
    expect(await client.request({ type: 'add', a: 1, b: 2 })).toBe(3);
    const errors = replies.filter((r) => (r as { status: string }).status === 'error');
    expect(errors).toEqual([
      {
        id: -1,
        status: 'error',
        cancelled: false,
        message: 'This worker got a message it does not understand: it is not an object.',
      },
      {
        id: -1,
        status: 'error',
        cancelled: false,
        message: 'This worker got a message it does not understand: it is not an object.',
      },
      {
        id: 90,
        status: 'error',
        cancelled: false,
        message: 'This worker got a message it does not understand: it has no type.',
      },
      {
        id: 91,
        status: 'error',
        cancelled: false,
        message:
          'This worker got a message it does not understand: its type "nope" is not a request.',
      },
      {
        id: -1,
        status: 'error',
        cancelled: false,
        message: 'This worker got a message it does not understand: it has no request id.',
      },
    ]);
  });

  test('unsolicited notices (id 0) go to notice listeners', async () => {
    const { client, port } = start();
    const notices: ReplyEvent[] = [];
    client.onNotice((e) => notices.push(e));
    port.postMessage({ id: 0, status: 'loading', message: 'switching backend' });
    await new Promise((r) => setTimeout(r, 5));
    expect(notices).toEqual([{ id: 0, status: 'loading', message: 'switching backend' }]);
  });

  test('a failed request of a kind that spoils its worker gets a fresh worker; others do not', async () => {
    const spawned: string[] = [];
    let count = 0;
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    const serve = () => {
      const { worker, port } = pair();
      const name = `worker ${++count}`;
      spawned.push(name);
      serveRequests<Req, Results>(port, {
        add: async (r) => (name === 'worker 1' ? r.a + r.b : -(r.a + r.b)),
        count: async (r) => {
          await held; // answers only once the test lets it
          return r.to;
        },
        fail: async () => {
          throw new Error('Could not create a session.');
        },
      });
      return { ...worker, terminate: () => spawned.push(`${name} stopped`) };
    };
    const client = new WorkerClient<Req, Results>(serve, 'test', (type) => type === 'fail');
    expect(await client.request({ type: 'add', a: 1, b: 2 })).toBe(3);
    await expect(client.request({ type: 'fail' })).rejects.toThrow('Could not create a session.');
    // The next request reaches the fresh worker (which answers with the sign flipped).
    expect(await client.request({ type: 'add', a: 1, b: 2 })).toBe(-3);
    expect(spawned).toEqual(['worker 1', 'worker 1 stopped', 'worker 2']);
    expect(client.restarts).toBe(1);
    // With another request waiting the worker is kept: a restart would fail that one too.
    const failing = client.request({ type: 'fail' });
    const counting = client.request({ type: 'count', to: 2 });
    await expect(failing).rejects.toThrow();
    release();
    expect(await counting).toBe(2);
    expect(client.restarts).toBe(1);
  });

  test('describeError turns anything thrown into a sentence', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError('plain')).toBe('plain');
    expect(describeError({ code: 3 })).toBe('Unknown error: {"code":3}');
  });
});

describe('streamed text leaves a worker joined per text, at most every 100 ms', () => {
  test('tokens of rows are joined until 100 ms pass; any other event sends them first', () => {
    let clock = 0;
    const sent: WorkerEvent[] = [];
    const out = coalescing(
      (e) => sent.push(e),
      () => clock,
    );
    const token = (index: number, text: string): WorkerEvent => ({ status: 'token', index, text });
    out.emit(token(0, 'Su'));
    out.emit(token(1, 'I '));
    out.emit(token(0, 're'));
    clock = 99;
    out.emit(token(1, 'can'));
    expect(sent).toEqual([]); // held: under 100 ms
    clock = 100;
    out.emit(token(0, '.'));
    expect(sent).toEqual([token(0, 'Sure.'), token(1, 'I can')]);
    // PPO's streamed rollouts (train events) too; a progress event sends the text before it.
    const ppo = (key: string, delta: string): WorkerEvent => ({
      status: 'train',
      event: { type: 'token', key, delta },
    });
    out.emit(ppo('ppo-1-0', 'A'));
    out.emit(token(1, "'t"));
    out.emit(ppo('ppo-1-0', 'B'));
    const progress: WorkerEvent = { status: 'progress', done: 1, total: 2, message: 'step 1 of 2' };
    out.emit(progress);
    expect(sent.slice(2)).toEqual([ppo('ppo-1-0', 'AB'), token(1, "'t"), progress]);
    // A metrics event is not streamed text: sent as it comes.
    const metrics: WorkerEvent = {
      status: 'train',
      event: { type: 'metrics', step: 1, values: {} },
    };
    out.emit(metrics);
    expect(sent.at(-1)).toBe(metrics);
    out.emit(token(2, 'x'));
    out.flush();
    expect(sent.at(-1)).toEqual(token(2, 'x'));
  });
});
