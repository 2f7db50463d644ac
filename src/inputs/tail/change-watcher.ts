/**
 * inotify through fs.watch: a followed file's changes wake the read loop at once, and a pattern's
 * folder gaining an entry triggers a lookup for new files. Where watching fails (no inotify, out of
 * watches), the caller's stat polling still finds everything, a little later.
 */
import { watch, type FSWatcher } from 'node:fs';

export type WatchEvent = 'change' | 'rename';

/** Watches `path`; returns a function that stops watching, or undefined when it cannot be watched. */
export function watchPath(path: string, onEvent: (event: WatchEvent) => void, onError: (err: Error) => void): (() => void) | undefined {
  let watcher: FSWatcher;
  try {
    watcher = watch(path, { persistent: false }, (event) => onEvent(event === 'rename' ? 'rename' : 'change'));
  } catch (err) {
    onError(err as Error);
    return undefined;
  }
  // A watched file that is deleted ends its watch with an error on some systems: polling takes over.
  watcher.on('error', (err) => {
    watcher.close();
    onError(err);
  });
  return () => watcher.close();
}
