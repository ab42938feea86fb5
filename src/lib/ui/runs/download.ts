/** Saves a text or bytes as a file through the browser's download (no server involved). */
export function download(name: string, content: string | Uint8Array, type: string): void {
  // The app's bytes are never over a SharedArrayBuffer, which a Blob could not take.
  const url = URL.createObjectURL(new Blob([content as BlobPart], { type }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A run's name as a file name ("My run 2" → "my-run-2"). */
export const fileSlug = (name: string): string =>
  name.replace(/[^\w-]+/g, '-').toLowerCase() || 'run';

/** Saves a run (as the app exports it) under its name. */
export const downloadRun = (name: string, file: object): void =>
  download(`${fileSlug(name)}.run.json`, JSON.stringify(file), 'application/json');
