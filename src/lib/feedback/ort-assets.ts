/**
 * ONNX Runtime Web's WASM runtime, bundled as assets of this app so it is served from this
 * origin and never from a CDN. transformers.js uses the asyncify build for both its WASM and
 * WebGPU execution providers. Imported only by the feedback worker.
 */
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import ortMjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';

export const ortWasmFiles = { wasm: ortWasm, mjs: ortMjs };
