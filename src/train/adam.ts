/**
 * tfjs's Adam with the same arithmetic to the bit, in one JavaScript pass per variable on the wasm and cpu
 * backends. The stock optimizer dispatches about a dozen tensor kernels per variable and step (two moment
 * updates, bias corrections, square root, division), each a pass over the variable plus the engine's per-kernel
 * cost. Every operation here is the float32 one the kernels perform (Math.fround after each step, with the
 * hyperparameters rounded to float32 as tfjs rounds them), so checkpoints and results are interchangeable with
 * tf.train.adam's. On other backends (tfjs-node) the stock code runs.
 */
import * as tf from '@tensorflow/tfjs';

interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
}

const FUSED_BACKENDS = new Set(['wasm', 'cpu']);

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (!FUSED_BACKENDS.has(tf.getBackend())) {
      super.applyGradients(variableGradients);
      return;
    }
    const s = this as unknown as AdamState;
    const f = Math.fround;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const acc1 = s.accBeta1.dataSync()[0];
    const acc2 = s.accBeta2.dataSync()[0];
    const oma1 = f(1 - acc1);
    const oma2 = f(1 - acc2);
    const b1 = f(s.beta1);
    const omb1 = f(1 - s.beta1);
    const b2 = f(s.beta2);
    const omb2 = f(1 - s.beta2);
    const eps = f(s.epsilon);
    const nlr = f(-s.learningRate);
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name];
      s.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      s.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      const gradient: tf.Tensor | undefined = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
      if (gradient == null) return;
      const first = s.accumulatedFirstMoment[i].variable;
      const second = s.accumulatedSecondMoment[i].variable;
      const g = gradient.dataSync();
      const m = first.dataSync();
      const v = second.dataSync();
      const w = value.dataSync();
      const n = w.length;
      const m1 = new Float32Array(n);
      const v1 = new Float32Array(n);
      const w1 = new Float32Array(n);
      for (let j = 0; j < n; j++) {
        const gj = g[j];
        const mj = f(f(m[j] * b1) + f(gj * omb1));
        const vj = f(f(v[j] * b2) + f(f(gj * gj) * omb2));
        m1[j] = mj;
        v1[j] = vj;
        const update = f(f(f(mj / oma1) / f(f(Math.sqrt(f(vj / oma2))) + eps)) * nlr);
        w1[j] = update + w[j]; // rounded to float32 by the store
      }
      tf.tidy(() => {
        first.assign(tf.tensor(m1, first.shape));
        second.assign(tf.tensor(v1, second.shape));
        value.assign(tf.tensor(w1, value.shape));
      });
    });
    tf.tidy(() => {
      s.accBeta1.assign(tf.scalar(f(acc1 * b1)));
      s.accBeta2.assign(tf.scalar(f(acc2 * b2)));
    });
    this.incrementIterations();
  }
}
