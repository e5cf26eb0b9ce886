export * from './fit';
export * from './optimizer';
export * from './schedule';
export * from './checkpoint';
export * from './evaluate';
export { installSeededMathRandom, epochSeed } from './seededRandom';
