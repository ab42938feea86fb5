import { ProtoWriter } from './protobuf.ts';

/**
 * Builds an ONNX graph node by node and serialises it (field numbers from onnx.proto).
 * Names of values are plain strings; `node()` returns its first output's name so graphs
 * read like the maths: `const y = g.node('MatMul', [x, w])`.
 */

export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;

type Attribute = { name: string; i?: number; f?: number; ints?: number[] };
type Dim = number | string;

export interface ValueInfo {
  name: string;
  elemType: number;
  dims: Dim[];
}

interface Initializer {
  name: string;
  dims: number[];
  dataType: number;
  raw: Uint8Array;
}

interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes: Attribute[];
}

export class OnnxGraph {
  private readonly nodes: Node[] = [];
  private readonly initializers: Initializer[] = [];
  private counter = 0;

  constructor(
    readonly inputs: ValueInfo[],
    readonly outputs: ValueInfo[],
  ) {}

  /** Adds a node; returns the names of its outputs (first one also as `.out`). */
  nodeN(
    op: string,
    inputs: string[],
    outputCount: number,
    attributes: Attribute[] = [],
    outputs?: string[],
  ): string[] {
    const id = this.counter++;
    const names = outputs ?? Array.from({ length: outputCount }, (_, i) => `${op}_${id}_${i}`);
    this.nodes.push({ op, inputs, outputs: names, name: `${op}_${id}`, attributes });
    return names;
  }

  node(op: string, inputs: string[], attributes: Attribute[] = [], output?: string): string {
    return this.nodeN(op, inputs, 1, attributes, output ? [output] : undefined)[0]!;
  }

  floats(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({
      name,
      dims,
      dataType: DataType.FLOAT,
      raw: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
    });
    return name;
  }

  int64s(name: string, dims: number[], values: number[]): string {
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    this.initializers.push({ name, dims, dataType: DataType.INT64, raw });
    return name;
  }

  serialise(opset: number, producer: string): Uint8Array {
    const graph = new ProtoWriter();
    for (const n of this.nodes) {
      const w = new ProtoWriter();
      for (const i of n.inputs) w.string(1, i);
      for (const o of n.outputs) w.string(2, o);
      w.string(3, n.name).string(4, n.op);
      for (const a of n.attributes) w.message(5, attribute(a));
      graph.message(1, w);
    }
    graph.string(2, 'main');
    for (const t of this.initializers) {
      const w = new ProtoWriter();
      for (const d of t.dims) w.int(1, d);
      w.int(2, t.dataType).string(8, t.name).bytes(9, t.raw);
      graph.message(5, w);
    }
    for (const v of this.inputs) graph.message(11, valueInfo(v));
    for (const v of this.outputs) graph.message(12, valueInfo(v));
    const model = new ProtoWriter()
      .int(1, 8) // ir_version
      .string(2, producer)
      .message(7, graph)
      .message(8, new ProtoWriter().string(1, '').int(2, opset));
    return model.finish();
  }
}

function attribute(a: Attribute): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name);
  if (a.f !== undefined) w.float(2, a.f).int(20, 1);
  else if (a.i !== undefined) w.int(3, a.i).int(20, 2);
  else if (a.ints) {
    for (const v of a.ints) w.int(8, v);
    w.int(20, 7);
  }
  return w;
}

function valueInfo(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims)
    shape.message(
      1,
      typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d),
    );
  const tensor = new ProtoWriter().int(1, v.elemType).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensor));
}
