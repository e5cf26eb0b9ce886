import * as net from 'net';
import type { BehaviorSubject } from 'rxjs';
import type { Row } from '../plots/types';
import { serveLocalPlotly } from './localPlotly';
import { loadNodeplotlib, nextServer, requireBesideNodeplotlib } from './nodeplotlibServer';
import { panelLayout, panelTraces, type Panel } from './traces';

/**
 * Live training curves in the browser (`--live`): a nodeplotlib page whose plotly charts redraw each time
 * `update(rows)` is called. Nothing is loaded or served until startLiveView is called.
 *
 * Shutdown: nodeplotlib only stops its server when the last browser tab disconnects, so `close()` calls
 * nodeplotlib's own shutdown (see nodeplotlibServer.ts) and waits until the port is free; afterwards the
 * process can exit on its own whether or not a browser ever connected.
 */

export interface LiveViewOptions {
  title: string;
  /** x column (default 'epoch'). */
  x?: string;
  /** Column that tells runs apart (default 'variant'). */
  color?: string;
  /** Charts; default: loss (train, test) and accuracy (train, test), the columns of a training history row. */
  panels?: Panel[];
  /** Port to serve on; default NODEPLOTLIB_PORT, else a free port. */
  port?: number;
}

export interface LiveView {
  url: string;
  port: number;
  /** True while a browser page is subscribed to the curves. */
  readonly watched: boolean;
  /** Redraws every chart from all rows so far (the whole history, not just the new epoch). */
  update(rows: Row[]): void;
  /** Stops the server and waits until its port is released. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_PANELS: Panel[] = [
  { title: 'loss (cross-entropy)', y: ['trainLoss', 'testLoss'] },
  { title: 'accuracy (%)', y: ['trainAccuracy', 'testAccuracy'] },
];

let open: LiveView | null = null;

/** A port that was free a moment ago (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** True while something accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntilClosed(port: number, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (await listening(port)) {
    if (Date.now() > deadline) throw new Error(`live view: port ${port} still in use ${timeoutMs} ms after close()`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startLiveView(opts: LiveViewOptions): Promise<LiveView> {
  if (open) throw new Error(`a live view is already open at ${open.url}; close() it first (nodeplotlib runs one server per process)`);
  const x = opts.x ?? 'epoch';
  const color = opts.color ?? 'variant';
  const panels = opts.panels ?? DEFAULT_PANELS;
  const envPort = Number(process.env.NODEPLOTLIB_PORT);
  const wanted = opts.port ?? (Number.isInteger(envPort) && envPort > 0 ? envPort : await freePort());

  serveLocalPlotly();
  const { plot } = loadNodeplotlib(wanted);
  // The rxjs that nodeplotlib checks `instanceof Observable` against (it is nodeplotlib's peer dependency).
  const rx = requireBesideNodeplotlib<typeof import('rxjs')>('rxjs');
  const rows$: BehaviorSubject<Row[]> = new rx.BehaviorSubject<Row[]>([]);
  const ready = nextServer();
  // All plot() calls in the same tick: nodeplotlib registers plots added later twice.
  for (const panel of panels) plot(rows$.pipe(rx.map((rows) => panelTraces(rows, panel, x, color))), panelLayout(panel, x, opts.title));
  const server = await ready;
  const url = `http://localhost:${server.port}`;
  console.log(`[live] ${opts.title}: ${url}`);

  let closed = false;
  const view: LiveView = {
    url,
    port: server.port,
    get watched() {
      return rows$.observed;
    },
    update(rows) {
      if (!closed) rows$.next(rows.slice());
    },
    async close() {
      if (closed) return;
      closed = true;
      rows$.complete();
      server.shutdown();
      try {
        await waitUntilClosed(server.port);
      } finally {
        open = null;
      }
    },
  };
  open = view;
  return view;
}
