/**
 * Optimizers as plain config. Weight decay and gradient clipping are applied by the training loop
 * to the gradients (coupled L2 as in Caffe/PyTorch SGD), so every optimizer gets them the same way.
 */
import * as tf from '@tensorflow/tfjs';
import { FusedAdamOptimizer } from './adam';

export interface OptimizerConfig {
  name: 'adam' | 'sgd';
  lr: number;
  /** SGD momentum (0 = plain SGD). */
  momentum?: number;
  nesterov?: boolean;
  /** Adam betas and epsilon. */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Coupled L2 weight decay added to the gradient of every kernel (not biases, BN or quantizer ranges). */
  weightDecay?: number;
}

export function makeOptimizer(cfg: OptimizerConfig): tf.Optimizer {
  if (!(cfg.lr > 0) || !Number.isFinite(cfg.lr)) throw new Error(`optimizer.lr must be a positive number, got ${cfg.lr}`);
  if (cfg.weightDecay != null && !(cfg.weightDecay >= 0)) {
    throw new Error(`optimizer.weightDecay must be >= 0, got ${cfg.weightDecay}`);
  }
  switch (cfg.name) {
    case 'adam':
      return new FusedAdamOptimizer(cfg.lr, cfg.beta1 ?? 0.9, cfg.beta2 ?? 0.999, cfg.epsilon ?? 1e-7);
    case 'sgd': {
      const m = cfg.momentum ?? 0;
      if (!(m >= 0 && m < 1)) throw new Error(`optimizer.momentum must be in [0, 1), got ${m}`);
      return m > 0 ? tf.train.momentum(cfg.lr, m, cfg.nesterov ?? false) : tf.train.sgd(cfg.lr);
    }
    default:
      throw new Error(`Unknown optimizer '${(cfg as { name: string }).name}': use 'adam' or 'sgd'.`);
  }
}

/**
 * SGD/momentum cache -lr in a kept scalar that only their setLearningRate refreshes; Adam reads a protected
 * field on every applyGradients call.
 */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  const o = opt as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  if (o.learningRate === lr) return;
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}

export function getLearningRate(opt: tf.Optimizer): number {
  return (opt as unknown as { learningRate: number }).learningRate;
}
