/**
 * Model configurations (tfjs `getConfig()` form) rewritten for deployment: each layer entry replaced by its
 * deployed class and configuration (plan.ts), in nested models too; and the plain-tfjs form of that, in which
 * QuantConv2D / QuantDense with float kernels become tf.layers Conv2D / Dense.
 */
import type * as tf from '@tensorflow/tfjs';
import type { LayerPlan } from './plan';

type ConfigDict = tf.serialization.ConfigDict;
type Entry = { className: string; config: ConfigDict; name?: string; [k: string]: unknown };

function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

/** Apply `rewrite` to every layer entry of a model configuration, nested models included. */
function mapEntries(config: ConfigDict, rewrite: (e: Entry) => Entry): ConfigDict {
  const out = clone(config);
  const visit = (cfg: ConfigDict): void => {
    const layers = (Array.isArray(cfg) ? cfg : cfg.layers) as unknown as Entry[] | undefined;
    if (!Array.isArray(layers)) return;
    for (let i = 0; i < layers.length; i++) {
      const e = rewrite(layers[i]);
      layers[i] = e;
      if (e.config && (Array.isArray((e.config as ConfigDict).layers) || Array.isArray(e.config))) visit(e.config);
    }
  };
  visit(out);
  return out;
}

function entryName(e: Entry): string | undefined {
  return (e.name as string | undefined) ?? (e.config?.name as string | undefined);
}

/** The model configuration with every planned layer replaced by its deployed class and configuration. */
export function deployedModelConfig(config: ConfigDict, plans: LayerPlan[]): ConfigDict {
  const byName = new Map(plans.map((p) => [p.name, p]));
  return mapEntries(config, (e) => {
    const p = byName.get(entryName(e) ?? '');
    if (!p) return e;
    return { ...e, className: p.deployed.className, config: clone(p.deployed.config) };
  });
}

/** qnnlab's own layer classes (registered with tf.serialization; a plain tfjs application does not know them). */
export const QNNLAB_LAYER_CLASSES: readonly string[] = [
  'QuantConv2D', 'QuantDense', 'QuantActivation', 'ZeroPadShortcut', 'VariationalConv2D', 'VariationalDense',
];

function plainEntry(e: Entry): Entry {
  const c = e.config;
  const base: ConfigDict = { name: c.name, trainable: c.trainable };
  for (const k of ['batchInputShape', 'dtype'] as const) if (c[k] !== undefined) base[k] = c[k];
  if ((e.className === 'QuantConv2D' || e.className === 'QuantDense') && c.inputQuantizer != null) {
    throw new Error(`exportLayersModel: layer '${c.name}' quantizes its input (${JSON.stringify(c.inputQuantizer)}), ` +
      'which plain TensorFlow.js layers cannot express; use exportPacked.');
  }
  if (e.className === 'QuantConv2D') {
    return {
      ...e,
      className: 'Conv2D',
      config: {
        ...base, filters: c.filters, kernelSize: c.kernelSize, strides: c.strides, padding: c.padding, useBias: c.useBias,
        dataFormat: 'channelsLast', dilationRate: [1, 1], activation: 'linear', kernelInitializer: { className: 'Zeros', config: {} },
      },
    };
  }
  if (e.className === 'QuantDense') {
    return {
      ...e,
      className: 'Dense',
      config: { ...base, units: c.units, useBias: c.useBias, activation: 'linear', kernelInitializer: { className: 'Zeros', config: {} } },
    };
  }
  if (QNNLAB_LAYER_CLASSES.includes(e.className)) {
    throw new Error(`exportLayersModel: layer '${c.name}' (${e.className}) has no plain TensorFlow.js equivalent` +
      `${e.className === 'QuantActivation' ? ' (activation quantization)' : ''}; use exportPacked, which keeps qnnlab's layers.`);
  }
  return e;
}

/** The deployed configuration in plain tf.layers classes (throws for layers that have none). */
export function plainModelConfig(config: ConfigDict, plans: LayerPlan[]): ConfigDict {
  return mapEntries(deployedModelConfig(config, plans), plainEntry);
}
