/** Robustness protocol (docs/robustness.md): uncertainty metrics, dataset shifts and OOD sets for MNIST classifiers. */
export * from './metrics';
export * from './shifts';
export * from './ood';
export * from './random';
