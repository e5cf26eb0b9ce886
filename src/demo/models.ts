/** The packed models the demo serves: every `.qnnp` file in `results/<run>/models/` (or the folders given). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKED_EXTENSION, inspectPacked } from '../export';
import type { DemoManifest, DemoModelEntry } from './manifest';

/** `results/<run>/models/` folders that exist, in name order. */
export function defaultModelDirs(root = process.cwd()): string[] {
  const results = path.join(root, 'results');
  if (!fs.existsSync(results)) return [];
  return fs.readdirSync(results).sort()
    .map((run) => path.join(results, run, 'models'))
    .filter((d) => fs.existsSync(d) && fs.statSync(d).isDirectory());
}

function kindOf(info: ReturnType<typeof inspectPacked>): DemoModelEntry['kind'] {
  const meta = info.header.metadata?.kind;
  if (meta === 'float' || meta === 'quantized' || meta === 'bayesian') return meta;
  if (info.header.layers.some((l) => l.className.startsWith('Variational'))) return 'bayesian';
  return info.header.layers.some((l) => l.tensors.some((t) => t.codebook.kind !== 'float32')) ? 'quantized' : 'float';
}

/** A path relative to the repository when inside it, else absolute. */
function display(p: string, root: string): string {
  const rel = path.relative(root, path.resolve(p));
  return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? path.resolve(p) : rel;
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'model';

/** Scan folders for packed models; `files` maps each entry's id to its absolute path. */
export function scanModels(dirs: string[], root = process.cwd()): { manifest: DemoManifest; files: Map<string, string> } {
  const models: DemoModelEntry[] = [];
  const skipped: DemoManifest['skipped'] = [];
  const files = new Map<string, string>();
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) {
      skipped.push({ file: display(dir, root), error: 'no such folder' });
      continue;
    }
    for (const name of fs.readdirSync(dir).sort()) {
      if (!name.endsWith(PACKED_EXTENSION)) continue;
      const file = path.join(dir, name);
      const shown = display(file, root);
      try {
        const bytes = fs.readFileSync(file);
        const info = inspectPacked(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), shown);
        const meta = info.header.metadata ?? null;
        const run = typeof meta?.run === 'string' ? meta.run : path.basename(path.dirname(path.resolve(dir)));
        const variant = typeof meta?.variant === 'string' ? meta.variant : name.slice(0, -PACKED_EXTENSION.length);
        let id = slug(`${run}--${variant}`);
        for (let k = 2; files.has(id); k++) id = slug(`${run}--${variant}-${k}`);
        files.set(id, path.resolve(file));
        const float32Bytes = 4 * info.header.layers.reduce((n, l) => n + l.tensors.reduce((m, t) => m + t.shape.reduce((a, b) => a * b, 1), 0), 0);
        const kind = kindOf(info);
        models.push({
          id, label: `${run}/${variant}`, url: `/models/${id}${PACKED_EXTENSION}`, file: shown, bytes: info.totalBytes,
          sigmaBytes: info.posteriorBytes, headerBytes: info.headerBytes, float32Bytes, kind,
          hasSigma: kind === 'bayesian' && info.header.posterior != null, metadata: meta,
        });
      } catch (e) {
        skipped.push({ file: shown, error: (e as Error).message });
      }
    }
  }
  return { manifest: { models, searched: dirs.map((d) => display(d, root)), skipped }, files };
}
