/**
 * The paper models (NHWC input, logits output) and the named quantization methods.
 *
 * @example buildModel('resnet23', {...methodOptions('binary-net'), seed: 1})
 */
import * as tf from '@tensorflow/tfjs';
import { DenseNet40Options, densenet40 } from './densenet40';
import { LeNet5Options, lenet5 } from './lenet5';
import { MaryDensenet40Options, maryDensenet40 } from './maryDensenet40';
import { MaryLenet5Options, maryLenet5 } from './maryLenet5';
import { ResNet20Options, resnet20 } from './resnet20';
import { ResNet23Options, resnet23 } from './resnet23';
import { ResNet56Options, resnet56 } from './resnet56';
import { Vgg9Options, vgg9 } from './vgg9';
import { registerFileRouter } from './io';

// model.save('file://...') / tf.loadLayersModel('file://...') work in Node without tfjs-node.
registerFileRouter();

export { lenet5, vgg9, resnet20, resnet23, resnet56, densenet40, maryLenet5, maryDensenet40 };
export type {
  LeNet5Options, Vgg9Options, ResNet20Options, ResNet23Options, ResNet56Options, DenseNet40Options,
  MaryLenet5Options, MaryDensenet40Options,
};
export { cifarResNet } from './resnetCifar';
export type { CifarResNetOptions, CifarResNetSpec, ShortcutKind } from './resnetCifar';
export { ModelBuilder, ACTIVATION_PLACEMENTS, defaultPlacement } from './common';
export type { QuantModelOptions, ActivationPlacement, KernelInitializerName } from './common';
export { fileIO, registerFileRouter } from './io';
export { METHOD_NAMES, methodPreset, methodOptions, allMethods } from './methods';
export type { MethodName, MethodPreset, MethodModelOptions } from './methods';

/** Options of each model, by name. */
export interface ModelOptionsByName {
  'lenet5': LeNet5Options;
  'vgg9': Vgg9Options;
  'resnet20': ResNet20Options;
  'resnet23': ResNet23Options;
  'resnet56': ResNet56Options;
  'densenet40': DenseNet40Options;
  'mary-lenet5': MaryLenet5Options;
  'mary-densenet40': MaryDensenet40Options;
}

export type ModelName = keyof ModelOptionsByName;

const BUILDERS: { [K in ModelName]: (opts: ModelOptionsByName[K]) => tf.LayersModel } = {
  'lenet5': lenet5,
  'vgg9': vgg9,
  'resnet20': resnet20,
  'resnet23': resnet23,
  'resnet56': resnet56,
  'densenet40': densenet40,
  'mary-lenet5': maryLenet5,
  'mary-densenet40': maryDensenet40,
};

/** Every name buildModel accepts. */
export const MODEL_NAMES = Object.keys(BUILDERS) as ModelName[];

/** Build a model by name. Unknown name -> error listing the valid names. */
export function buildModel<K extends ModelName>(name: K, options?: ModelOptionsByName[K]): tf.LayersModel;
export function buildModel(name: string, options?: object): tf.LayersModel;
export function buildModel(name: string, options: object = {}): tf.LayersModel {
  if (!Object.prototype.hasOwnProperty.call(BUILDERS, name)) {
    throw new Error(`Unknown model '${name}'. Valid models: ${MODEL_NAMES.join(', ')}.`);
  }
  const build = BUILDERS[name as ModelName] as (opts: object) => tf.LayersModel;
  return build(options);
}
