import * as fs from 'fs';
import * as path from 'path';
import type { IncomingMessage, ServerResponse } from 'http';
import { requireBesideNodeplotlib } from './nodeplotlibServer';

/**
 * nodeplotlib's page loads plotly.js from a CDN (index.html: https://cdn.plot.ly/plotly-1.58.4.min.js), so
 * without internet access it shows no plot at all. When a plotly.js bundle is installed locally, serve it and
 * point the page at it instead. The page's web fonts still come from the internet; without them it falls back
 * to system fonts, which is harmless.
 */

const LOCAL_URL = '/qnnlab/plotly.min.js';

/** Bundles that provide the global `Plotly` with newPlot/react, the only calls nodeplotlib's page makes. */
const PACKAGES = ['plotly.js-basic-dist-min', 'plotly.js-dist-min', 'plotly.js-basic-dist', 'plotly.js-dist'];

/** A local plotly.js bundle: QNNLAB_PLOTLY_JS, else the first installed package above, else null (CDN). */
export function findPlotly(): string | null {
  const fromEnv = process.env.QNNLAB_PLOTLY_JS;
  if (fromEnv) return fs.existsSync(fromEnv) ? fromEnv : null;
  for (const pkg of PACKAGES) {
    try {
      return require.resolve(pkg);
    } catch {
      // not installed: try the next one
    }
  }
  return null;
}

/** nodeplotlib's index.html with the CDN script replaced by the local copy (defer kept: runs before the app). */
function indexHtml(): string {
  const file = path.join(path.dirname(require.resolve('nodeplotlib/package.json')), 'src/lib/server/web/index.html');
  return fs.readFileSync(file, 'utf8').replace(/src="https:\/\/cdn\.plot\.ly\/[^"]+"/, `src="${LOCAL_URL}"`);
}

type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

function middleware(plotlyFile: string): Middleware {
  return (req, res, next) => {
    const url = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET') return next();
    if (url === '/' || url === '/index.html') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(indexHtml());
    } else if (url === LOCAL_URL) {
      res.setHeader('content-type', 'application/javascript; charset=utf-8');
      fs.createReadStream(plotlyFile).pipe(res);
    } else next();
  };
}

interface Adapter {
  initHttpServer(options: unknown): void;
  use(handler: Middleware): void;
}

let installed = false;

/**
 * Makes nodeplotlib's server (the only NestJS app in this process) serve plotly locally. Hooks the Express
 * adapter's initHttpServer, which Nest runs when the app is created, i.e. before nodeplotlib's static-file
 * module registers its routes, so this middleware sees '/' first. Returns the bundle used, or null (CDN).
 */
export function serveLocalPlotly(): string | null {
  const file = findPlotly();
  if (!file || installed) return file;
  installed = true;
  const { ExpressAdapter } = requireBesideNodeplotlib<{ ExpressAdapter: { prototype: Adapter } }>('@nestjs/platform-express');
  const init = ExpressAdapter.prototype.initHttpServer;
  ExpressAdapter.prototype.initHttpServer = function (this: Adapter, options: unknown) {
    init.call(this, options);
    this.use(middleware(file));
  };
  return file;
}
