/** Saves a text as a file through the browser's download (no server involved). */
export function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
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
