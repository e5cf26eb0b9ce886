/**
 * `exportLayersModel(model, dir)`: the de-quantized model in the standard TensorFlow.js layers format
 * (model.json + weights.bin) with plain tf.layers classes only (Conv2D, Dense, BatchNormalization, ...), so
 * `tf.loadLayersModel` opens it in any TensorFlow.js application without qnnlab. Kernels hold the exact values
 * the quantized layers compute with; tf.layers' fused conv/matMul + bias may round differently from qnnlab's
 * separate ops, so logits agree to float tolerance rather than bit for bit (exportPacked is bit-exact).
 * Models with activation quantizers, input quantizers or ZeroPadShortcut layers cannot be expressed in plain
 * tf.layers: they are refused with an error naming the layer.
 */
import * as tf from '@tensorflow/tfjs';
import { fileIO } from '../models/io';
import { planModel } from './plan';
import { plainModelConfig } from './topology';
import { buildWithWeights } from './unpack';

/** The de-quantized model built from plain tf.layers classes (in memory). */
export function toPlainLayersModel(model: tf.LayersModel): tf.LayersModel {
  const plans = planModel(model);
  const config = plainModelConfig(model.getConfig(), plans);
  const weights = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const p of plans) for (const t of p.tensors) weights.set(t.name, { shape: t.shape, values: t.values });
  return buildWithWeights(model instanceof tf.Sequential ? 'Sequential' : 'Model', config, weights, 'exportLayersModel');
}

/** Write the de-quantized model to `dir` as model.json + weights.bin (standard tfjs layers format). */
export async function exportLayersModel(model: tf.LayersModel, dir: string): Promise<tf.io.SaveResult> {
  const plain = toPlainLayersModel(model);
  try {
    return await plain.save(fileIO(dir));
  } finally {
    plain.dispose();
  }
}
