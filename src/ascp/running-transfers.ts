/**
 * The ascp processes this process started and has not seen end. The graceful path stops each
 * one through its AbortSignal; this registry covers the other path, an immediate exit (a second
 * Ctrl-C, a fatal error): a left-over ascp would go on writing into a package folder that
 * another worker may be resuming, so every tracked one is SIGKILLed as the process exits.
 */
const running = new Set<number>();
let hooked = false;

export function trackTransfer(pid: number): () => void {
  running.add(pid);
  if (!hooked) {
    hooked = true;
    process.on('exit', killRunningTransfers);
  }
  return () => running.delete(pid);
}

export function killRunningTransfers(): void {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
}
