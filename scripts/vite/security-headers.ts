/**
 * HTTP headers the app is served with, by the dev server, the preview server and `npm start`.
 *
 * - COOP + COEP make the page cross-origin isolated, which enables SharedArrayBuffer and so
 *   multi-threaded WASM (tfjs XNNPACK threads, ONNX Runtime threads).
 * - The CSP allows only the app's own origin, plus the Hugging Face Hub for fetches (a Hub
 *   model is downloaded only when a user asks for it by hand), and the origin of HF_ENDPOINT
 *   when the server starts with one (a mirror of the Hub; the tests' stand-in Hub). `'wasm-unsafe-eval'` lets WebAssembly compile;
 *   `blob:` is needed because tfjs and ONNX Runtime start their WASM thread pools from blob:
 *   worker scripts. Styles may be inline (Svelte transitions, Vite's dev CSS injection);
 *   nothing else is.
 */
/** The origin of the HF_ENDPOINT environment variable, if it is an http(s) URL. */
function endpointOrigin(): string | null {
  const value = process.env.HF_ENDPOINT;
  if (!value) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : null;
  } catch {
    return null;
  }
}

export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval' blob:",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  `connect-src 'self' https://huggingface.co https://*.huggingface.co https://*.hf.co${endpointOrigin() ? ' ' + endpointOrigin() : ''}`,
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const securityHeaders: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy': contentSecurityPolicy,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};
