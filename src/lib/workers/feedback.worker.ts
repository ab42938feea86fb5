/**
 * The feedback worker: owns transformers.js (ONNX Runtime Web). It writes critiques,
 * revisions and preference labels in later stages; see protocol.ts for the messages.
 */
import { initFeedbackRuntime } from '../feedback/runtime.ts';
import type { FeedbackRequest, FeedbackResults } from './protocol.ts';
import { serveRequests, type Port } from './serve.ts';

serveRequests<FeedbackRequest, FeedbackResults>(self as unknown as Port, {
  init: () => initFeedbackRuntime(),
});
