/**
 * The demo's static server (node:http, 127.0.0.1 only): the built page (build.ts), `/models.json` (the packed
 * models found in the model folders, rescanned on every request so a freshly exported model shows on reload)
 * and `/models/<id>.qnnp` (the files themselves). GET and HEAD only; no other path is served.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { buildDemo, DEFAULT_DEMO_DIR, type DemoBuild } from './build';
import type { DemoManifest } from './manifest';
import { defaultModelDirs, scanModels } from './models';

export const DEFAULT_DEMO_PORT = 8765;
export const DEMO_HOST = '127.0.0.1';

export interface DemoOptions {
  /** Port (default 8765; 0 = any free port). */
  port?: number;
  /** Folders with .qnnp files (default: every results/<run>/models/ that exists, looked up on each request). */
  modelDirs?: string[];
  /** Where the page is built and served from (default build/demo/). */
  dir?: string;
  /** Skip the build (the folder must hold a built page). */
  build?: boolean;
  /** Repository root, for results/ and relative names (default: the current folder). */
  root?: string;
}

export interface DemoServer {
  url: string;
  port: number;
  build: DemoBuild | null;
  /** The models now found (a fresh scan). */
  manifest(): DemoManifest;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml', '.qnnp': 'application/octet-stream',
};

/** Build the page (unless told not to) and serve it; resolves once listening. */
export async function startDemo(opts: DemoOptions = {}): Promise<DemoServer> {
  const root = path.resolve(opts.root ?? process.cwd());
  const dir = path.resolve(opts.dir ?? DEFAULT_DEMO_DIR);
  const built = opts.build === false ? null : await buildDemo(dir);
  if (!fs.existsSync(path.join(dir, 'index.html'))) throw new Error(`${dir} holds no built page (run without --no-build).`);
  const dirs = () => (opts.modelDirs ? opts.modelDirs.map((d) => path.resolve(root, d)) : defaultModelDirs(root));
  const scan = () => scanModels(dirs(), root);
  const statics = new Set(fs.readdirSync(dir));

  const server = http.createServer((req, res) => {
    const send = (status: number, type: string, body: Buffer | string) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'GET or HEAD only\n');
      const url = new URL(req.url ?? '/', 'http://localhost');
      const p = decodeURIComponent(url.pathname);
      if (p === '/models.json') return send(200, TYPES['.json'], JSON.stringify(scan().manifest));
      const m = /^\/models\/([A-Za-z0-9._-]+)\.qnnp$/.exec(p);
      if (m) {
        const file = scan().files.get(m[1]);
        if (!file) return send(404, 'text/plain', `no model '${m[1]}'\n`);
        return send(200, TYPES['.qnnp'], fs.readFileSync(file));
      }
      const name = p === '/' ? 'index.html' : p.slice(1);
      if (!statics.has(name)) return send(404, 'text/plain', 'not found\n');
      return send(200, TYPES[path.extname(name)] ?? 'application/octet-stream', fs.readFileSync(path.join(dir, name)));
    } catch (e) {
      return send(500, 'text/plain', `${(e as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE'
      ? new Error(`port ${opts.port ?? DEFAULT_DEMO_PORT} on ${DEMO_HOST} is in use: choose another with --port`) : e));
    server.listen(opts.port ?? DEFAULT_DEMO_PORT, DEMO_HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${DEMO_HOST}:${port}/`, port, build: built,
    manifest: () => scan().manifest,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    }),
  };
}
