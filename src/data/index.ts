/** Datasets: loading (MNIST, Fashion-MNIST, CIFAR-10/100), batching with augmentation, CIFAR download. */
export * from './types';
export * from './idx';
export * from './classNames';
export * from './stats';
export * from './paths';
export * from './mnist';
export * from './cifar';
export * from './cifarFixture';
export * from './load';
export * from './split';
export * from './normalize';
export * from './augment';
export * from './batches';
export * from './download';
