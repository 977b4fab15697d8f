/**
 * The loopback TCP server ascp's `-M <port>` connects to. Only the first connection is read:
 * ascp opens one, and a second one would be someone else trying to feed us events.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { ManagementParser, ManagementProtocolError, type MgmtEvent } from './management.js';

export interface MgmtServer {
  port: number;
  parser: ManagementParser;
  connected(): boolean;
  /** resolves when ascp's connection has closed (or at once if it never connected) */
  closed(): Promise<void>;
  close(): void;
}

export interface MgmtHandlers {
  onConnect(): void;
  onEvent(event: MgmtEvent): void;
  onProtocolError(message: string): void;
}

export async function startMgmtServer(handlers: MgmtHandlers): Promise<MgmtServer> {
  const parser = new ManagementParser();
  let socket: Socket | undefined;
  let resolveClosed: () => void = () => {};
  const socketClosed = new Promise<void>((r) => (resolveClosed = r));
  let failed = false;

  const server: Server = createServer((s) => {
    if (socket) {
      s.destroy();
      return;
    }
    socket = s;
    s.setEncoding('utf8');
    handlers.onConnect();
    s.on('data', (chunk: string) => {
      if (failed) return;
      try {
        for (const event of parser.push(chunk)) handlers.onEvent(event);
      } catch (e) {
        failed = true;
        handlers.onProtocolError(e instanceof ManagementProtocolError ? e.message : String(e));
      }
    });
    s.on('error', () => {
      // A reset from a killed ascp is an ordinary end here; the exit status tells the story.
    });
    s.on('close', () => resolveClosed());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    parser,
    connected: () => socket !== undefined,
    closed: () => (socket ? socketClosed : Promise.resolve()),
    close: () => {
      socket?.destroy();
      server.close();
    },
  };
}
