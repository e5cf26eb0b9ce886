/**
 * `file://` save/load for pure @tensorflow/tfjs in Node (tfjs-node brings its own; without it tfjs has no
 * file-system handler). Same layout as tfjs-node: <dir>/model.json + <dir>/weights.bin, so either can read
 * the other's folders.
 *
 * @example
 *   registerFileRouter();                       // done on import of src/models
 *   await model.save('file:///tmp/run1/model');
 *   const again = await tf.loadLayersModel('file:///tmp/run1/model/model.json'); // or the folder
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

const SCHEME = 'file://';
const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

function toPath(url: string): string {
  return url.startsWith(SCHEME) ? url.slice(SCHEME.length) : url;
}

function concatWeights(data: ArrayBuffer | ArrayBuffer[] | undefined): ArrayBuffer {
  if (data == null) return new ArrayBuffer(0);
  return Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
}

/**
 * An IOHandler reading/writing a folder. Saving to a path ending in `.json` writes that file and puts
 * weights.bin next to it; loading accepts the folder or the model.json path.
 */
export function fileIO(target: string): tf.io.IOHandler {
  const p = toPath(target);
  const jsonPath = () => (p.endsWith('.json') ? p : path.join(p, MODEL_JSON));
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error('fileIO: binary model topologies are not supported.');
      }
      const file = jsonPath();
      const dir = path.dirname(file);
      fs.mkdirSync(dir, { recursive: true });
      const weights = concatWeights(artifacts.weightData as ArrayBuffer | ArrayBuffer[] | undefined);
      const modelJSON: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig != null) modelJSON.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata != null) modelJSON.userDefinedMetadata = artifacts.userDefinedMetadata;
      fs.writeFileSync(path.join(dir, WEIGHTS_BIN), Buffer.from(weights));
      fs.writeFileSync(file, JSON.stringify(modelJSON));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const file = jsonPath();
      if (!fs.existsSync(file)) throw new Error(`fileIO: no ${file}`);
      const dir = path.dirname(file);
      const modelJSON = JSON.parse(fs.readFileSync(file, 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const rel of group.paths) {
            const b = fs.readFileSync(path.join(dir, rel));
            buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
          }
        }
        return [specs, tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

type IORouter = Parameters<typeof tf.io.registerSaveRouter>[0];

/**
 * Routes file:// URLs to fileIO; other URLs get null (tfjs routers may return null, whatever the typing says).
 * Steps aside once tfjs-node is loaded (it registers its own file:// router, and two handlers for one URL make
 * model.save throw), which can happen after this module registered, when initEngine picks the native backend.
 */
const router = ((url: string | string[]) => {
  const u = Array.isArray(url) ? url[0] : url;
  if (typeof u !== 'string' || !u.startsWith(SCHEME)) return null;
  return tf.findBackend('tensorflow') != null ? null : fileIO(u);
}) as unknown as IORouter;

let registered = false;

/** Register the file:// router unless one exists already (tfjs-node). Idempotent. */
export function registerFileRouter(): void {
  if (registered) return;
  registered = true;
  const probe = `${SCHEME}/qnnlab-probe`;
  if (tf.io.getSaveHandlers(probe).length === 0) {
    tf.io.registerSaveRouter(router);
  }
  if (tf.io.getLoadHandlers(probe).length === 0) {
    tf.io.registerLoadRouter(router);
  }
}
