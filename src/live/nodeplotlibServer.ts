import * as path from 'path';

/**
 * Control over nodeplotlib's server, which nodeplotlib keeps to itself: `plot()` boots a NestJS app in the
 * background and exports no handle, and the app shuts down only when the last browser tab disconnects, so a
 * process that plotted but was never looked at would never exit. nodeplotlib's own BridgeService carries the
 * port and a `shutdown()` that runs nodeplotlib's shutdown (app.close()). Wrapping BridgeService.setPort,
 * which nodeplotlib calls once the server listens, hands us that instance without touching nodeplotlib's files.
 */

export interface ServerHandle {
  /** The port the server listens on. */
  port: number;
  /** nodeplotlib's own shutdown: closes the NestJS app and its HTTP server (a no-op if it already shut down). */
  shutdown(): void;
}

interface Bridge {
  setPort(port: number): void;
  shutdown(): void;
}

type Nodeplotlib = typeof import('nodeplotlib');

/** Resolve a module as nodeplotlib resolves it, so patches and rxjs instances are the ones it uses. */
export function requireBesideNodeplotlib<T>(id: string): T {
  const base = path.dirname(require.resolve('nodeplotlib/package.json'));
  return require(require.resolve(id, { paths: [base] }));
}

let waiters: Array<(h: ServerHandle) => void> = [];
let patched = false;

function patchBridge(): void {
  if (patched) return;
  patched = true;
  const { BridgeService } = requireBesideNodeplotlib<{ BridgeService: { prototype: Bridge } }>('nodeplotlib/src/lib/server/services/bridge.service');
  const setPort = BridgeService.prototype.setPort;
  BridgeService.prototype.setPort = function (this: Bridge, port: number) {
    setPort.call(this, port);
    const handle: ServerHandle = { port, shutdown: () => this.shutdown() };
    const ready = waiters;
    waiters = [];
    for (const w of ready) w(handle);
  };
}

/** Nest's startup log is a dozen lines per server start; keep only warnings and errors. */
function quietNest(): void {
  const { Logger } = requireBesideNodeplotlib<{ Logger: { overrideLogger(levels: string[]): void } }>('@nestjs/common');
  Logger.overrideLogger(['error', 'warn']);
}

/**
 * nodeplotlib, loaded for serving on `port`. It reads NODEPLOTLIB_PORT once, when first loaded (and skips its
 * xdg-open when it is set), so the port of the first call in a process stays for later ones.
 */
export function loadNodeplotlib(port: number): Nodeplotlib {
  if (!process.env.NODEPLOTLIB_PORT) process.env.NODEPLOTLIB_PORT = String(port);
  patchBridge();
  quietNest();
  return require('nodeplotlib');
}

/** Resolves with the server handle once the next `plot()` call has its server listening. */
export function nextServer(timeoutMs = 15000): Promise<ServerHandle> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nodeplotlib's server did not start within ${timeoutMs} ms`)), timeoutMs);
    waiters.push((h) => {
      clearTimeout(timer);
      resolve(h);
    });
  });
}
