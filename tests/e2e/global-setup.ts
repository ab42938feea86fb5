import type { TestProject } from 'vitest/node';
import { buildApp, serveVite } from '../../scripts/lib/serve.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

/** Builds the app once and serves it with the production headers for every browser test. */
export default async function setup(project: TestProject) {
  await buildApp();
  const server = await serveVite();
  project.provide('baseUrl', server.url);
  return () => server.stop();
}
