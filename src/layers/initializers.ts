/**
 * Initializers for quantized layers: accept what tf.layers accepts (an Initializer object or an identifier
 * such as 'glorotUniform'), plus the serialized `{className, config}` form found in saved model JSON, and
 * turn them back into plain data for getConfig().
 */
import * as tf from '@tensorflow/tfjs';

/** A tfjs initializer instance (the class is not exported by name from @tensorflow/tfjs). */
export type Initializer = ReturnType<typeof tf.initializers.zeros>;

/** The string identifiers tf.layers accepts. */
export type InitializerIdentifier =
  | 'constant' | 'glorotNormal' | 'glorotUniform' | 'heNormal' | 'heUniform' | 'identity' | 'leCunNormal'
  | 'leCunUniform' | 'ones' | 'orthogonal' | 'randomNormal' | 'randomUniform' | 'truncatedNormal'
  | 'varianceScaling' | 'zeros';

/** Serialized form stored in a layer config. */
export interface SerializedInitializer {
  className: string;
  config: tf.serialization.ConfigDict;
}

/** Anything a layer config may hold for an initializer. */
export type InitializerLike = Initializer | InitializerIdentifier | SerializedInitializer | string;

const FACTORIES: Record<string, (() => Initializer) | undefined> = {
  glorotNormal: () => tf.initializers.glorotNormal({}),
  glorotUniform: () => tf.initializers.glorotUniform({}),
  heNormal: () => tf.initializers.heNormal({}),
  heUniform: () => tf.initializers.heUniform({}),
  leCunNormal: () => tf.initializers.leCunNormal({}),
  leCunUniform: () => tf.initializers.leCunUniform({}),
  ones: () => tf.initializers.ones(),
  zeros: () => tf.initializers.zeros(),
  randomNormal: () => tf.initializers.randomNormal({}),
  randomUniform: () => tf.initializers.randomUniform({}),
  truncatedNormal: () => tf.initializers.truncatedNormal({}),
  varianceScaling: () => tf.initializers.varianceScaling({}),
  orthogonal: () => tf.initializers.orthogonal({}),
};

function isInitializer(x: unknown): x is Initializer {
  return x != null && typeof x === 'object' && typeof (x as { apply?: unknown }).apply === 'function' &&
    typeof (x as { getClassName?: unknown }).getClassName === 'function';
}

/** Resolve any accepted form into an Initializer; `fallback` when the value is undefined or null. */
export function resolveInitializer(value: unknown, fallback: InitializerLike): Initializer {
  const v = value ?? fallback;
  if (isInitializer(v)) return v;
  if (typeof v === 'string') {
    const key = v.charAt(0).toLowerCase() + v.slice(1);
    const make = FACTORIES[key];
    if (make) return make();
    return fromSerialized({ className: v, config: {} });
  }
  if (typeof v === 'object' && v !== null && typeof (v as SerializedInitializer).className === 'string') {
    return fromSerialized(v as SerializedInitializer);
  }
  throw new Error(`Unknown initializer ${JSON.stringify(v)}: use an identifier such as 'glorotUniform', ` +
    'an object from tf.initializers, or {className, config}.');
}

function fromSerialized(s: SerializedInitializer): Initializer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[s.className];
  if (!entry) throw new Error(`Unknown initializer class '${s.className}'.`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, s.config ?? {}) as unknown as Initializer;
}

/** Plain-data form for getConfig(). */
export function serializeInitializer(init: Initializer): SerializedInitializer {
  return { className: init.getClassName(), config: init.getConfig() };
}
