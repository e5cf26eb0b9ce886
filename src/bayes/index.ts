export * from './priors';
export * from './levels';
export * from './variationalLayer';
export * from './variationalDense';
export * from './variationalConv2d';
export * from './modelOps';
export * from './elbo';
export * from './mcPredict';
