/**
 * The inference engine in Node: the kernels read from assembly/qnn.wasm, models compiled from packed bytes
 * (src/export's format) or from a tfjs model (packed first, so the engine always starts from the codes).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { packModel } from '../export/pack';
import { readContainer } from '../export/container';
import { checkHeader } from '../export/header';
import { CompileOptions, CompiledModel, InferenceEngine } from './engine';
import { modelIR, type ModelIR } from './plan';

/** The committed WebAssembly module (built by `npm run build:wasm` from assembly/qnn.ts). */
export const WASM_PATH = path.join(__dirname, '..', '..', 'assembly', 'qnn.wasm');

let shared: InferenceEngine | null = null;

/** The engine with the committed kernels (compiled once per process). */
export function loadInferenceEngine(): InferenceEngine {
  if (!shared) shared = InferenceEngine.createSync(new Uint8Array(fs.readFileSync(WASM_PATH)));
  return shared;
}

/** The engine's layer list of packed bytes (checked as unpackModel checks them). */
export function packedIR(bytes: Uint8Array, what = 'packed model'): ModelIR {
  const c = readContainer(bytes, what);
  const header = checkHeader(c.header, c.body.length, what);
  return modelIR(header, c.body);
}

/** Compile a packed model (bytes of exportPacked / packModel) for the inference engine. */
export function compilePacked(bytes: Uint8Array, opts: CompileOptions = {}): CompiledModel {
  return loadInferenceEngine().compile(packedIR(bytes), opts);
}

/** Compile a qnnlab tfjs model: packed (its deployed codes, Q(θ) for Bayesian M-ary layers), then compiled. */
export function compileModel(model: tf.LayersModel, opts: CompileOptions = {}): CompiledModel {
  return compilePacked(packModel(model), opts);
}
